"""The video node on a real clip with the in-process bus: counts and behaviours arrive as
events on their subjects, a broken camera beside it is reported lost, and nothing identifying
rides along."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from smartspaces.bus.memory import MemoryBus
from smartspaces.clock import SimulatedClock
from smartspaces.config import BusSettings
from smartspaces.config.video import (
    CameraSettings,
    LineSettings,
    VideoSettings,
    ZoneSettings,
)
from smartspaces.events import AnyEvent, Detection, Observation
from smartspaces.video_node import VideoNode
from tests.detect.video.clips import real_frames, write_clip

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


def _settings(clip: Path, broken: Path) -> VideoSettings:
    corridor = CameraSettings(
        id="cam-corridor",
        url=str(clip),
        anchor="centre",
        zones=[ZoneSettings(id="floor", space_id="corridor",
                            polygon=[(0, 0), (768, 0), (768, 432), (0, 432)], loiter_after_s=5)],
        lines=[LineSettings(id="exit", space_id="corridor", a=(480, 0), b=(480, 432))],
    )  # fmt: skip
    return VideoSettings(
        report_interval_s=5.0,
        cameras=[corridor, CameraSettings(id="cam-broken", url=str(broken), space_id="hall")],
    )


async def _all_events(bus: MemoryBus) -> list[AnyEvent]:
    subscription = await bus.subscribe("video-test", ["ss.>"])
    events = []
    while deliveries := await subscription.fetch(timeout_s=0.5):
        for delivery in deliveries:
            events.append(delivery.event)
            await subscription.ack(delivery)
    return events


async def test_a_real_clip_through_the_node_onto_the_bus(
    sample_video: Path, tmp_path: Path
) -> None:
    # 15 s of the corridor: the first person comes in, stands at the table, and leaves
    clip = write_clip(tmp_path / "corridor.avi", real_frames(sample_video, range(60, 212, 2)))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00not a video" * 500)
    bus = MemoryBus(BusSettings(), tmp_path / "bus.sqlite3")
    node = VideoNode(_settings(clip, broken), bus, SimulatedClock(T0), retry_s=0.1)
    await node.start()
    await node.wait()
    await node.stop()
    events = await _all_events(bus)
    await bus.close()

    assert node.published == len(events) and "cam-broken" in node.failures
    observations = [e for e in events if isinstance(e, Observation)]
    detections = [e for e in events if isinstance(e, Detection)]
    totals: dict[tuple[str, str], float] = {}
    for o in observations:
        totals[(o.sensor_id, o.quantity)] = totals.get((o.sensor_id, o.quantity), 0) + o.value
    assert totals[("cam-corridor.exit", "exits_count")] == 1  # the person left by the exit
    assert totals[("cam-corridor.exit", "entries_count")] == 0
    assert max(o.value for o in observations if o.quantity == "occupancy_persons") == 1
    kinds = sorted((d.detection_type, d.space_id) for d in detections)
    assert kinds == [("video.loitering", "corridor"), ("video.stream_lost", "hall")]
    for d in detections:
        assert d.attributes["camera_id"] == d.attributes["device_id"]
        wire = json.loads(d.model_dump_json())
        assert not {"track_id", "box", "image"} & set(wire["attributes"])
    # the clip's time is the node clock's: events are stamped from T0 on
    assert min(o.observed_at for o in observations) >= T0


async def test_a_node_without_cameras_does_nothing(tmp_path: Path) -> None:
    bus = MemoryBus(BusSettings(), tmp_path / "bus.sqlite3")
    node = VideoNode(VideoSettings(), bus, SimulatedClock(T0))
    await node.start()
    await node.wait()
    await node.stop()
    assert node.published == 0 and await _all_events(bus) == []
    await bus.close()
