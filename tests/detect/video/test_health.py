"""Camera health on real footage: the corridor and the car park videos raise nothing; the same
footage frozen, covered, or cut over to another real scene raises exactly the fault, in time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartspaces.config.video_behaviours import HealthSettings
from smartspaces.detect.video.boxes import Frame
from smartspaces.detect.video.findings import Finding
from smartspaces.detect.video.health import CameraHealth
from tests.detect.video.clips import real_frames

FPS = 5.0


def _run(frames: Iterable[Frame], settings: HealthSettings | None = None) -> list[Finding]:
    health = CameraHealth(settings or HealthSettings())
    return [f for i, frame in enumerate(frames) for f in health.step(frame, i / FPS)]


@pytest.fixture(scope="module")
def corridor(sample_video: Path) -> list[Frame]:
    """60 s of the corridor at 5 frames/s: empty, then people coming, standing and going."""
    return list(real_frames(sample_video, range(0, 600, 2)))


def test_real_footage_raises_nothing(corridor: list[Frame], car_video: Path) -> None:
    assert _run(corridor) == []
    # a plain asphalt car park seen from above: low contrast, but not a covered lens; cars
    # filling the view swing the exposure of the whole image for 2-3 s, but do not turn it
    assert _run(real_frames(car_video, range(0, 370, 2))) == []


def test_a_frozen_image_is_reported_after_its_delay_and_again_later(
    corridor: list[Frame],
) -> None:
    settings = HealthSettings(frozen_after_s=10, repeat_after_s=20)
    stuck = corridor[:50] + [corridor[50]] * 200  # 10 s live, then the same picture for 40 s
    found = _run(stuck, settings)
    assert [f.detection_type for f in found] == ["video.camera_frozen"] * 2
    # frozen from 10 s (the first repeat at 10.2 s): reported at 20.2 s, repeated 20 s later
    assert [round(f.at, 1) for f in found] == [20.2, 40.2]
    # an on-screen clock ticking on a frozen picture does not make it live
    ticking = [
        cv2.putText(frame.copy(), f"{i:06d}", (10, 20), cv2.FONT_HERSHEY_PLAIN, 1, (255, 255, 255))
        for i, frame in enumerate(stuck)
    ]
    assert [f.detection_type for f in _run(ticking, settings)][:1] == ["video.camera_frozen"]


def test_a_covered_lens_is_reported_and_is_not_a_scene_change(corridor: list[Frame]) -> None:
    # a hand over the lens: the scene's light leaks through, defocused and dim
    covered = [(cv2.GaussianBlur(f, (0, 0), 25) * 0.2).astype(np.uint8) for f in corridor[100:150]]
    found = _run(corridor[:100] + covered + corridor[150:200])
    assert [f.detection_type for f in found] == ["video.camera_covered"]
    assert found[0].at == pytest.approx(20.0 + 3.0)  # covered at 20 s, reported 3 s later
    assert found[0].level == "red"


def test_a_turned_camera_is_a_scene_change_reported_once(
    corridor: list[Frame], car_video: Path
) -> None:
    # the camera now looks at a car park (another real video, same size)
    cars = list(real_frames(car_video, range(0, 200, 2)))
    found = _run(corridor[:100] + cars)
    assert [f.detection_type for f in found] == ["video.scene_changed"]
    assert 20.0 + 5.0 <= found[0].at <= 20.0 + 5.5  # sustained 5 s, then reported
    assert float(found[0].attributes["histogram_distance"]) >= 0.5
    assert float(found[0].attributes["changed_share"]) >= 0.5
