"""One camera end to end, with behaviours: frames -> people -> tracks -> counts (Observations)
and behaviours, unattended objects and camera health (Detections).

``CameraPipeline.step`` is the per-frame core (no I/O but an optional snapshot file);
``watch_camera`` joins it to a frame source. What comes out is events only: counts, and
Detections whose attributes are typed evidence (camera, zone, speed, heading, how many), never
a track id, a box or a pixel. Snapshots, when a folder is set, are blurred and face-checked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime

import structlog

from smartspaces.config.video import CameraSettings, VideoSettings
from smartspaces.detect.video.behaviours import behaviour_rules
from smartspaces.detect.video.boxes import Box
from smartspaces.detect.video.camera import analytics_for
from smartspaces.detect.video.detectors import PersonDetector, build_detector
from smartspaces.detect.video.errors import VideoError
from smartspaces.detect.video.findings import Finding, to_detection
from smartspaces.detect.video.frames import AnalysisSchedule, TimedFrame, VideoSource, check_frame
from smartspaces.detect.video.health import CameraHealth
from smartspaces.detect.video.motion import TrackHistory
from smartspaces.detect.video.privacy import SnapshotRefused, write_snapshot
from smartspaces.detect.video.unattended import UnattendedObjects
from smartspaces.events import Detection, Observation

log = structlog.get_logger(__name__)

VideoEvent = Observation | Detection


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CameraPipeline:
    """Detector, tracker, zone/line counts, behaviour rules, unattended objects and health
    for one camera."""

    def __init__(
        self,
        camera: CameraSettings,
        settings: VideoSettings,
        detector: PersonDetector | None = None,
    ) -> None:
        self.camera = camera
        self._settings = settings
        self._detector = detector or build_detector(settings)
        self._analytics = analytics_for(camera, settings)
        self._history = TrackHistory(settings.behaviours, self._analytics.plane)
        self._rules = behaviour_rules(camera, settings.behaviours)
        self._unattended = (
            UnattendedObjects(
                settings.unattended, settings.behaviours, self._analytics.plane, camera.zones
            )
            if settings.unattended.enabled
            else None
        )
        self._health = CameraHealth(settings.health)
        self.snapshots: list[str] = []  # files written, newest last
        self.frames = 0  # analysed so far
        self.position = -1  # index in its source of the last frame analysed

    def step(self, timed: TimedFrame, now: datetime) -> list[VideoEvent]:
        """Everything one analysed frame yields; FrameError for a frame we refuse."""
        frame = check_frame(timed.frame, self._settings)
        self.frames += 1
        self.position = timed.index
        at = timed.at.timestamp()
        findings = self._health.step(frame, at)
        boxes = self._detector.detect(frame)
        events: list[VideoEvent] = list(self._analytics.step(boxes, timed.at, now))
        analytics = self._analytics
        live = analytics.live
        anchors = {t.track_id: analytics.anchor(t) for t in live}
        remembered = analytics.remembered
        motions = self._history.update(live, anchors, remembered, at)
        people = [*boxes, *analytics.recent_boxes]
        for rule in self._rules:
            found = rule.step(motions, remembered, at)
            if self._settings.behaviours.snapshot:
                for finding in found:
                    self._snapshot(timed, people, finding)
            findings += found
        if self._unattended is not None:
            left = self._unattended.step(frame, at, people)
            if self._settings.unattended.snapshot:
                for finding in left:
                    self._snapshot(timed, people, finding)
            findings += left
        events += [to_detection(f, self.camera, now) for f in findings]
        return events

    def flush(self, now: datetime) -> list[VideoEvent]:
        """The counts of the unfinished report interval."""
        return list(self._analytics.flush(now))

    def lost(self, error: VideoError, at: datetime, now: datetime) -> Detection:
        """The Detection for a source that failed for good (its reason, password redacted)."""
        finding = self._health.lost(at.timestamp(), str(error))
        return to_detection(finding, self.camera, now)

    def _snapshot(self, timed: TimedFrame, people: list[Box], finding: Finding) -> None:
        folder = self._settings.snapshot_dir
        if folder is None:
            return
        name = f"{self.camera.id}-{finding.detection_type}-{timed.at:%Y%m%dT%H%M%S%f}"
        try:
            path = write_snapshot(timed.frame, people, folder, name)
        except SnapshotRefused as refused:
            log.warning("video_snapshot_refused", camera=self.camera.id, reason=str(refused))
            return
        except VideoError as error:
            log.warning("video_snapshot_failed", camera=self.camera.id, reason=str(error))
            return
        finding.attributes["snapshot_file"] = path.name  # the finding is not published yet
        self.snapshots.append(str(path))


def watch_camera(
    camera: CameraSettings,
    settings: VideoSettings,
    clock: Callable[[], datetime] = _utcnow,
    pipeline: CameraPipeline | None = None,
    file_start: datetime | None = None,
    stop: threading.Event | None = None,
) -> Generator[VideoEvent, None, None]:
    """Counts and Detections of one camera until its file ends (or ``stop`` is set: checked
    before each frame, and reconnect waits end early). A source that fails for good (will not
    open, stalls past its reconnects, a frame refused) yields a ``video.stream_lost``
    Detection, then its error is raised."""
    pipeline = pipeline or CameraPipeline(camera, settings)
    schedule = AnalysisSchedule(camera.target_fps, settings.max_lag_s)
    last_at = file_start or clock()
    source: VideoSource | None = None
    try:
        sleep = time.sleep if stop is None else _waiter(stop)
        source = VideoSource(camera.url, settings, clock, sleep, file_start)
        for timed in source.frames(schedule):
            if stop is not None and stop.is_set():
                break
            last_at = timed.at
            yield from pipeline.step(timed, clock())
        yield from pipeline.flush(clock())
    except VideoError as error:
        yield from pipeline.flush(clock())
        at = clock() if source is not None and source.is_stream else last_at
        yield pipeline.lost(error, at, clock())
        raise
    finally:
        if source is not None:
            source.close()


def _waiter(stop: threading.Event) -> Callable[[float], None]:
    """A sleep that ends early when ``stop`` is set (reconnect waits of a stopping camera)."""

    def wait(seconds: float) -> None:
        stop.wait(seconds)

    return wait
