"""The video node: every configured camera through the video pipeline (people, tracks, counts,
behaviours, unattended objects, camera health), its events published on the bus.

Each camera runs in its own thread (OpenCV decoding and inference block); its events cross to
the event loop through a bounded queue, so a slow bus slows the camera down (a live stream then
drops late frames by its schedule) instead of piling events up in memory. A stream that is lost
for good is reported once (``video.stream_lost``) and retried after ``retry_s`` (never, when it
is None); a file is read once. ``stop`` ends every camera within a frame (or a stream's read
timeout), whatever is left of its file.

Given a device registry, the node registers each camera there (kind ``camera``, its home space)
when it starts, unless the camera is registered already: its health reports then name a known
device.

Example::

    node = VideoNode(settings.video, bus, clock, registry=store.devices)
    await node.start()
    ...
    await node.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import Sequence

import structlog

from smartspaces.bus.base import Bus
from smartspaces.bus.errors import BusClosedError
from smartspaces.clock import Clock
from smartspaces.config.video import CameraSettings, VideoSettings
from smartspaces.detect.video.detectors import PersonDetector, build_detector
from smartspaces.detect.video.errors import VideoError
from smartspaces.detect.video.frames import STREAM_SCHEMES
from smartspaces.detect.video.pipeline import CameraPipeline, VideoEvent, watch_camera
from smartspaces.events import AnyEvent, Device
from smartspaces.store.devices import DeviceRepository

log = structlog.get_logger(__name__)

QUEUE_SIZE = 1024
BATCH = 256


class VideoNode:
    """Starts one thread per camera and a publisher task; ``stop`` ends them all."""

    def __init__(
        self,
        settings: VideoSettings,
        bus: Bus,
        clock: Clock,
        retry_s: float | None = 30.0,
        registry: DeviceRepository | None = None,
    ) -> None:
        self._settings = settings
        self._bus = bus
        self._clock = clock
        self._retry_s = retry_s
        self._registry = registry
        self._stopping = threading.Event()
        self._queue: asyncio.Queue[AnyEvent | None] | None = None
        self._cameras: list[asyncio.Task[None]] = []
        self._publisher: asyncio.Task[None] | None = None
        self.published = 0
        self.tally: Counter[str] = Counter()  # published: detection type or count quantity
        self.failures: dict[str, str] = {}  # camera id -> last error
        self.pipelines: dict[str, CameraPipeline] = {}  # camera id -> its current pipeline

    @property
    def running(self) -> bool:
        """Whether a camera is still being watched."""
        return any(not task.done() for task in self._cameras)

    async def start(self) -> None:
        if not self._settings.cameras:
            return
        if self._registry is not None:
            await asyncio.to_thread(register_cameras, self._settings, self._registry)
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(QUEUE_SIZE)
        self._publisher = asyncio.create_task(self._publish(self._queue), name="video-publish")
        # one detector per camera: models are not safe to share across threads
        for camera in self._settings.cameras:
            task = asyncio.create_task(
                asyncio.to_thread(self._run_camera, camera, loop, self._queue),
                name=f"video-{camera.id}",
            )
            self._cameras.append(task)
        log.info("video_started", cameras=[c.id for c in self._settings.cameras])

    async def wait(self) -> None:
        """Until every camera has ended (files read to the end) and its events are published."""
        await asyncio.gather(*self._cameras, return_exceptions=True)
        if self._queue is not None:
            await self._queue.join()

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._cameras, return_exceptions=True)
        self._cameras = []
        if self._queue is not None and self._publisher is not None:
            await self._queue.join()
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        self._publisher = self._queue = None

    def _run_camera(
        self,
        camera: CameraSettings,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[AnyEvent | None],
    ) -> None:
        is_stream = camera.url.split("://", 1)[0].lower() in STREAM_SCHEMES
        detector: PersonDetector | None = None
        lost_reported = False
        while not self._stopping.is_set():
            try:
                detector = detector or build_detector(self._settings)
            except VideoError as error:
                self._failed(camera, error)
                return
            pipeline = CameraPipeline(camera, self._settings, detector)
            self.pipelines[camera.id] = pipeline
            events = watch_camera(
                camera,
                self._settings,
                self._clock.now,
                pipeline,
                file_start=self._clock.now(),
                stop=self._stopping,
            )
            try:
                for event in events:
                    if self._stopping.is_set():
                        break
                    if getattr(event, "detection_type", "") == "video.stream_lost":
                        if lost_reported:
                            continue  # once per outage, not once per retry
                        lost_reported = True
                    else:
                        lost_reported = False
                    self._put(event, loop, queue)
            except VideoError as error:
                self._failed(camera, error)
            finally:
                events.close()
            if not is_stream or self._retry_s is None or self._stopping.wait(self._retry_s):
                return

    def _put(
        self,
        event: VideoEvent,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[AnyEvent | None],
    ) -> None:
        # blocks this camera's thread while the queue is full: back-pressure, not memory
        asyncio.run_coroutine_threadsafe(queue.put(event), loop).result()

    def _failed(self, camera: CameraSettings, error: VideoError) -> None:
        self.failures[camera.id] = str(error)
        log.warning("video_camera_failed", camera=camera.id, reason=str(error))

    async def _publish(self, queue: asyncio.Queue[AnyEvent | None]) -> None:
        while True:
            first = await queue.get()
            batch: list[AnyEvent] = [] if first is None else [first]
            taken = 1
            while taken < BATCH and not queue.empty():
                item = queue.get_nowait()
                taken += 1
                if item is not None:
                    batch.append(item)
            try:
                await self._send(batch)
            finally:
                for _ in range(taken):
                    queue.task_done()

    async def _send(self, batch: Sequence[AnyEvent]) -> None:
        while batch:
            try:
                await self._bus.publish_many(batch)
            except BusClosedError:
                log.error("video_events_unpublished", reason="bus closed", events=len(batch))
                return
            except Exception as error:  # the bus is down: keep the events, try again
                log.warning("video_publish_failed", reason=str(error), events=len(batch))
                await asyncio.sleep(1.0)
                continue
            self.published += len(batch)
            self.tally.update(_label(e) for e in batch)
            return


def register_cameras(settings: VideoSettings, registry: DeviceRepository) -> list[str]:
    """Put each camera not yet in the device registry there; returns the ids added. A camera
    registered already (with a token, another space or a name) is left as it is."""
    added = []
    for camera in settings.cameras:
        if registry.get(camera.id) is not None:
            continue
        registry.put(
            Device(
                id=camera.id, kind="camera", space_id=camera.home_space, name=f"camera {camera.id}"
            )
        )
        added.append(camera.id)
    return added


def _label(event: AnyEvent) -> str:
    return str(getattr(event, "detection_type", None) or getattr(event, "quantity", event.kind))
