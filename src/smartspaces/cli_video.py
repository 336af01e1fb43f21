"""``smartspaces video``: a video file or a camera stream through the video analytics.

``run`` analyses one source as a camera (its zones, lines and calibration from the settings
when the camera id is configured there) and publishes its counts and findings to the configured
bus, with a progress bar over the file's frames (a stream shows what it has analysed so far).
On the embedded bus the pipeline runs in this process too, so the events are stored, weighed
by risk and shown on the map; on NATS or Kafka the deployment's workers take them.

A corrupt file, a stream that never opens or one lost for good ends the command with the reason
and exit status 1 (``--keep-trying`` retries a lost stream every 30 s until Ctrl-C instead).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import rich.progress
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from smartspaces.cli_options import ConfigOption
from smartspaces.config import Settings, load_settings
from smartspaces.config.video import CameraSettings, VideoSettings
from smartspaces.errors import SmartspacesError

video = typer.Typer(
    help="Video files and camera streams through the video analytics.", no_args_is_help=True
)
console = Console(stderr=True)
out = Console()
TICK_S = 0.2
RETRY_S = 30.0
WHOLE_VIEW = [(0, 0), (16_384, 0), (16_384, 16_384), (0, 16_384)]
"""A zone covering any image (pixels)."""


def camera_settings(
    settings: VideoSettings, camera_id: str, source: str, space_id: str, target_fps: float | None
) -> VideoSettings:
    """The video settings with one camera: ``camera_id`` as configured (zones, lines,
    calibration) reading ``source`` for ``space_id``; if it is not configured, a camera whose
    one zone (``view``) is its whole image, so it counts the people in view."""
    configured = next((c for c in settings.cameras if c.id == camera_id), None)
    values: dict[str, Any] = configured.model_dump() if configured else {"id": camera_id}
    if configured is None:  # nothing drawn on its image: count the people in the whole view
        values["zones"] = [{"id": "view", "space_id": space_id, "polygon": WHOLE_VIEW}]
    values |= {"url": source, "space_id": space_id}
    if target_fps is not None:
        values["target_fps"] = target_fps
    camera = CameraSettings.model_validate(values)
    return settings.model_copy(update={"cameras": [camera]})


async def analyse(
    settings: Settings, keep_trying: bool, show: bool
) -> tuple[int, dict[str, int], str | None]:
    """Run the one camera of ``settings.video`` to its end; (events published, their tally,
    the camera's failure or None)."""
    from smartspaces.bootstrap import build_services
    from smartspaces.clock import SystemClock
    from smartspaces.detect.video.frames import file_frame_count
    from smartspaces.video_node import VideoNode

    (camera,) = settings.video.cameras
    services = build_services(settings, SystemClock())
    local = settings.bus.backend == "memory"  # nobody else reads an in-process bus
    node = VideoNode(
        settings.video,
        services.bus,
        services.clock,
        retry_s=RETRY_S if keep_trying else None,
        registry=services.store.devices,
    )
    total = await asyncio.to_thread(file_frame_count, camera.url)
    try:
        if local:
            await services.runtime.start()
        await node.start()
        with rich.progress.Progress(
            rich.progress.SpinnerColumn(),
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TimeElapsedColumn(),
            console=console,
            disable=not show,
        ) as progress:
            task = progress.add_task(f"camera {camera.id}", total=total)
            while node.running:
                await asyncio.sleep(TICK_S)
                pipeline = node.pipelines.get(camera.id)
                done = pipeline.position + 1 if pipeline else 0
                described = f"camera {camera.id}: {node.published} events published"
                progress.update(task, completed=done, description=described)
        await node.wait()
    finally:
        await node.stop()
        if local:
            await services.runtime.drain()
        await services.close()
    return node.published, dict(node.tally), node.failures.get(camera.id)


@video.callback()
def _group() -> None:
    """A group even with one command: ``smartspaces video run ...``."""


@video.command()
def run(
    source: Annotated[
        str, typer.Option("--source", help="A video file, or an rtsp:// or http(s):// stream")
    ],
    camera: Annotated[
        str, typer.Option("--camera", help="Camera id (zones and lines from the settings)")
    ],
    space: Annotated[str, typer.Option("--space", help="The smart space the camera watches")],
    target_fps: Annotated[
        float | None, typer.Option(help="Frames analysed per second (default: the camera's)")
    ] = None,
    keep_trying: Annotated[
        bool, typer.Option(help="Retry a lost stream every 30 s until Ctrl-C")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Analyse a file or stream as a camera and publish its counts and findings to the bus."""
    try:
        settings = load_settings(config)
        one = camera_settings(settings.video, camera, source, space, target_fps)
    except ValidationError as error:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        console.print(f"[red]invalid camera: {reasons}[/red]")
        raise typer.Exit(2) from error
    except SmartspacesError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    settings = settings.model_copy(update={"video": one})
    try:
        published, tally, failure = asyncio.run(analyse(settings, keep_trying, show=True))
    except SmartspacesError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    table = Table("published", "events")
    for label, count in sorted(tally.items()):
        table.add_row(label, str(count))
    out.print(table)
    console.print(
        f"{published} event(s) of camera {camera} published to the {settings.bus.backend} bus"
    )
    if failure is not None:
        console.print(f"[red]camera {camera} failed: {failure}[/red]")
        raise typer.Exit(1)
