"""Zone and line analytics from boxes alone (no video): the Observations the crowd stage reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartspaces.config.video import CameraSettings, LineSettings, ZoneSettings
from smartspaces.detect.video.analytics import CameraAnalytics
from smartspaces.detect.video.boxes import Box
from smartspaces.events import Observation

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
CAMERA = CameraSettings(
    id="cam-1",
    url="rtsp://camera.invalid/1",
    zones=[ZoneSettings(id="left", space_id="plaza", polygon=[(0, 0), (400, 0), (400, 480),
                                                               (0, 480)])],
    lines=[LineSettings(id="gate", space_id="plaza", a=(400, 480), b=(400, 0))],
)  # fmt: skip


def _walk(
    analytics: CameraAnalytics, start_x: float, end_x: float, seconds: int
) -> list[Observation]:
    out: list[Observation] = []
    for i in range(seconds * 5 + 1):
        x = start_x + (end_x - start_x) * i / (seconds * 5)
        at = T0 + timedelta(seconds=i / 5)
        out += analytics.step([Box(x - 30, 200, x + 30, 400)], at, at)
    return out


def test_reports_each_interval_and_flushes_the_last() -> None:
    analytics = CameraAnalytics(CAMERA, report_interval_s=10)
    reports = _walk(analytics, 100, 700, 4)  # rightwards through the gate: an entry
    assert reports == []  # the interval is not over yet
    tail = analytics.flush(T0 + timedelta(seconds=5))
    values = {(o.sensor_id, o.quantity): o.value for o in tail}
    assert values[("cam-1.gate", "entries_count")] == 1
    assert values[("cam-1.gate", "exits_count")] == 0
    assert values[("cam-1.left", "occupancy_persons")] == 0  # half the time in: mean rounds
    assert all(o.interval_s == 4 and o.space_id == "plaza" for o in tail)
    assert ("cam-1.left", "density_p_m2") not in values  # no calibration, no density
    assert analytics.flush(T0) == []
