"""Behaviour rules over anonymous tracks, pure: people moved along known paths (boxes, frame by
frame, through the real tracker and ground mapping) and the Findings checked: loitering,
running with its heading, falls, counter-flow, sudden dispersal, and the look-alikes that must
not be reported."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from smartspaces.config.video import CalibrationSettings, CameraSettings, ZoneSettings
from smartspaces.config.video_behaviours import BehaviourSettings
from smartspaces.detect.video.analytics import CameraAnalytics
from smartspaces.detect.video.behaviours import behaviour_rules
from smartspaces.detect.video.boxes import Box
from smartspaces.detect.video.findings import Finding, to_detection
from smartspaces.detect.video.motion import TrackHistory, angle_between

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
FPS = 5
# a calibrated view from above: 2 cm per pixel, image up is the ground's +y (heading 0)
TOP_DOWN = CalibrationSettings(
    image_points=[(0, 0), (1000, 0), (1000, 1000), (0, 1000)],
    ground_points=[(0, 20), (20, 20), (20, 0), (0, 0)],
)
HALL = [(0, 0), (1000, 0), (1000, 1000), (0, 1000)]

Path = Callable[[float], tuple[float, float, float, float]]  # t -> foot x, foot y, width, height


def _camera(calibrated: bool = True, **zone: object) -> CameraSettings:
    return CameraSettings(
        id="cam-3",
        url="rtsp://camera.invalid/3",
        zones=[ZoneSettings(id="hall", space_id="station", polygon=HALL, **zone)],  # type: ignore[arg-type]
        calibration=TOP_DOWN if calibrated else None,
    )


def _run(
    camera: CameraSettings,
    paths: list[Path],
    seconds: float,
    settings: BehaviourSettings | None = None,
) -> list[Finding]:
    """The tracker, the ground mapping and every rule, over people following ``paths``."""
    settings = settings or BehaviourSettings()
    analytics = CameraAnalytics(camera, report_interval_s=60)
    history = TrackHistory(settings, analytics.plane)
    rules = behaviour_rules(camera, settings)
    found = []
    for i in range(round(seconds * FPS) + 1):
        t = i / FPS
        at = T0 + timedelta(seconds=t)
        boxes = []
        for path in paths:
            x, y, w, h = path(t)
            boxes.append(Box(x - w / 2, y - h, x + w / 2, y, 0.9))
        analytics.step(boxes, at, at)
        live, remembered = analytics.live, analytics.remembered
        anchors = {track.track_id: analytics.anchor(track) for track in live}
        motions = history.update(live, anchors, remembered, at.timestamp())
        for rule in rules:
            found += rule.step(motions, remembered, at.timestamp())
    return found


def _kinds(found: list[Finding]) -> list[str]:
    return [f.detection_type for f in found]


def _seconds(finding: Finding) -> float:
    return finding.at - T0.timestamp()


def _walk(x0: float, y0: float, vx_px: float, vy_px: float, start: float = 0.0) -> Path:
    def path(t: float) -> tuple[float, float, float, float]:
        moving = max(t - start, 0.0)
        return (x0 + vx_px * moving, y0 + vy_px * moving, 30.0, 85.0)

    return path


@pytest.mark.parametrize("calibrated", [True, False])
def test_running_is_found_with_its_speed_and_heading(calibrated: bool) -> None:
    # 4 m/s to the right: 200 px/s at 2 cm/px; uncalibrated, an 85 px person is 1.7 m tall
    px_per_m = 50.0 if calibrated else 85 / 1.7
    found = _run(_camera(calibrated), [_walk(100, 600, 4 * px_per_m, 0)], seconds=3)
    assert _kinds(found) == ["video.running"]
    assert float(found[0].attributes["speed_m_s"]) == pytest.approx(4.0, abs=0.2)
    assert float(found[0].attributes["heading_deg"]) == pytest.approx(90.0, abs=3)
    assert found[0].attributes["zone_id"] == "hall" and found[0].space_id == "station"
    assert 1.0 <= _seconds(found[0]) <= 2.0  # measurable after 0.5 s, sustained 1 s
    detection = to_detection(found[0], _camera(calibrated), T0)
    assert set(detection.attributes) == {
        "camera_id", "device_id", "speed_m_s", "heading_deg", "zone_id",
    }  # fmt: skip


def test_walking_and_a_short_dash_are_not_running() -> None:
    walker = _walk(100, 300, 1.4 * 50, 0)
    dash = _walk(100, 700, 0, 0, start=99)  # stands, then (below) dashes for 0.6 s

    def dashing(t: float) -> tuple[float, float, float, float]:
        x, y, w, h = dash(t)
        return (x + 4 * 50 * min(max(t - 2.0, 0.0), 0.6), y, w, h)

    assert _run(_camera(), [walker, dashing], seconds=5) == []


def test_loitering_after_the_zones_time_and_only_once() -> None:
    def standing(t: float) -> tuple[float, float, float, float]:
        return (500 + 2 * math.sin(7 * t), 500 + 2 * math.cos(5 * t), 30.0, 85.0)

    passer_by = _walk(50, 300, 300, 0)  # crosses the 1000 px hall in a little over 3 s
    found = _run(_camera(loiter_after_s=5), [standing, passer_by], seconds=12)
    assert _kinds(found) == ["video.loitering"]
    assert _seconds(found[0]) == pytest.approx(5.0, abs=0.25)
    assert found[0].attributes == {"zone_id": "hall", "dwell_s": 5.0, "count_persons": 1}


def _fall(down_after: float, lasting: float) -> Path:
    """Upright 60x170 px, turning into a 170x60 px lying box over ``lasting`` seconds."""

    def path(t: float) -> tuple[float, float, float, float]:
        share = min(max((t - down_after) / lasting, 0.0), 1.0)
        return (500.0, 500.0, 60 + 110 * share, 170 - 110 * share)

    return path


def test_a_fall_is_an_upright_box_suddenly_lying_and_staying_down() -> None:
    found = _run(_camera(), [_fall(down_after=2.0, lasting=0.4)], seconds=6)
    assert _kinds(found) == ["video.fall"]
    assert found[0].level == "red" and float(found[0].attributes["lying_s"]) >= 1.0
    assert 3.0 <= _seconds(found[0]) <= 4.0


def test_lying_down_slowly_is_not_a_fall() -> None:
    # sitting, then lying down, over 8 s: it passes from upright to lying box in 1.5 s
    assert _run(_camera(), [_fall(down_after=1.0, lasting=8.0)], seconds=12) == []


def test_counter_flow_against_a_one_way_zone() -> None:
    camera = _camera(one_way_heading_deg=0)  # the hall is walked up the image only
    with_flow = _walk(300, 900, 0, -1.3 * 50)
    against = _walk(700, 100, 0, 1.3 * 50)
    found = _run(camera, [with_flow, against], seconds=4)
    assert _kinds(found) == ["video.counter_flow"]
    assert angle_between(float(found[0].attributes["heading_deg"]), 180.0) < 5
    assert float(found[0].attributes["speed_m_s"]) == pytest.approx(1.3, abs=0.1)


def _group(count: int, scatter_at: float, speed_m_s: float, same_way: bool) -> list[Path]:
    """``count`` people standing in a ring 2 m across, moving off at ``scatter_at``: each
    straight out from the centre, or all the same way."""
    paths = []
    for k in range(count):
        angle = 2 * math.pi * k / count
        ux, uy = (1.0, 0.0) if same_way else (math.cos(angle), math.sin(angle))

        def path(
            t: float, a: float = angle, ux: float = ux, uy: float = uy
        ) -> tuple[float, float, float, float]:
            moved = max(t - scatter_at, 0.0) * speed_m_s * 50
            jitter = 1.5 * math.sin(3 * t + a)
            x = 500 + 100 * math.cos(a) + ux * moved + jitter
            y = 500 + 100 * math.sin(a) + uy * moved
            return (x, y, 30.0, 85.0)

        paths.append(path)
    return paths


def test_a_crowd_scattering_every_way_is_a_sudden_dispersal() -> None:
    found = _run(_camera(), _group(6, scatter_at=8.0, speed_m_s=3.0, same_way=False), seconds=10)
    dispersal = [f for f in found if f.detection_type == "video.sudden_dispersal"]
    assert len(dispersal) == 1 and dispersal[0].level == "red"
    assert 8.5 <= _seconds(dispersal[0]) <= 9.5
    assert dispersal[0].attributes["count_persons"] == 6
    assert float(dispersal[0].attributes["heading_alignment"]) < 0.2


def test_a_group_setting_off_together_or_a_few_scattering_is_not() -> None:
    together = _run(_camera(), _group(6, 8.0, 3.0, same_way=True), seconds=10)
    few = _run(_camera(), _group(3, 8.0, 3.0, same_way=False), seconds=10)
    assert "video.sudden_dispersal" not in _kinds(together) + _kinds(few)
