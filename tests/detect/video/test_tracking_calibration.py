"""The tracker, the ground calibration and the line counter: properties over generated input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config.video import LineSettings
from smartspaces.detect.video.analytics import LineCounter, inside
from smartspaces.detect.video.boxes import Box, iou
from smartspaces.detect.video.calibration import GroundPlane, polygon_area
from smartspaces.detect.video.errors import CalibrationError
from smartspaces.detect.video.tracking import Tracker, TrackerSettings

coord = st.floats(0, 2000, allow_nan=False)
boxes = st.lists(
    st.tuples(coord, coord, st.floats(5, 300), st.floats(5, 300)).map(
        lambda t: Box(t[0], t[1], t[0] + t[2], t[1] + t[3])
    ),
    max_size=8,
)


@given(st.lists(boxes, min_size=1, max_size=20), st.floats(0.01, 1.0))
def test_track_ids_are_unique_never_reused_and_forgotten(
    frames: list[list[Box]], dt: float
) -> None:
    tracker = Tracker(TrackerSettings(max_missing_s=0.5))
    seen: set[int] = set()
    ended: set[int] = set()
    for i, frame in enumerate(frames):
        at = i * dt
        live = tracker.step(frame, at)
        ids = [t.track_id for t in live]
        assert len(ids) == len(set(ids)) and len(ids) <= len(frame)
        assert not set(ids) & ended, "an id came back after its track ended"
        current = {t.track_id for t in tracker.tracks}
        ended |= seen - current
        seen |= current
        assert all(at - t.last_at <= 0.5 for t in tracker.tracks)
    tracker.step([], len(frames) * dt + 10)
    assert tracker.tracks == []  # short-lived: nothing outlives max_missing_s


@given(st.floats(-40, 40), st.floats(-20, 20), st.integers(5, 60))
def test_one_walking_person_keeps_one_track(vx: float, vy: float, steps: int) -> None:
    tracker = Tracker()
    ids = set()
    for i in range(steps):
        box = Box(500 + vx * i, 300 + vy * i, 560 + vx * i, 450 + vy * i)
        ids |= {t.track_id for t in tracker.step([box], i * 0.2)}
    assert len(ids) == 1


@given(boxes, boxes)
def test_iou_is_symmetric_and_bounded(a: list[Box], b: list[Box]) -> None:
    for x, y in zip(a, b, strict=False):
        assert 0.0 <= iou(x, y) <= 1.0 and iou(x, y) == pytest.approx(iou(y, x))


def _homography(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = np.array([[0.02, 0.001, -3.0], [0.0005, 0.03, -2.0], [0.0, 0.0004, 1.0]])
    return h + rng.normal(0, [[0.002, 0.0005, 0.5], [0.0005, 0.002, 0.5], [0, 0.00005, 0]])


def _apply(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    p = np.asarray(np.c_[points, np.ones(len(points))] @ h.T, dtype=np.float64)
    return np.asarray(p[:, :2] / p[:, 2:], dtype=np.float64)


@settings(max_examples=60)
@given(st.integers(0, 10_000), st.integers(4, 12))
def test_homography_recovers_a_known_mapping(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    h = _homography(seed)
    # four spread-out marks (what an operator picks: floor corners), then any others
    corners = np.array([[50, 220], [700, 220], [700, 420], [50, 420]], dtype=float)
    extra = rng.uniform([0, 200], [768, 432], size=(n - 4, 2))
    image = np.r_[corners + rng.uniform(-30, 30, size=(4, 2)), extra]
    ground = _apply(h, image)
    plane = GroundPlane.fit([tuple(p) for p in image], [tuple(p) for p in ground])
    probe = rng.uniform([0, 200], [768, 432], size=(20, 2))
    assert np.allclose(plane.to_ground_array(probe), _apply(h, probe), atol=1e-3)


@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), st.floats(0.1, 100), st.integers(4, 8))
def test_collinear_calibration_is_refused(x0: float, y0: float, step: float, n: int) -> None:
    image = [(10.0 + 50 * i, 20.0 + 30 * i) for i in range(n)]
    ground = [(x0 + step * i, y0 + step * i) for i in range(n)]
    with pytest.raises(CalibrationError, match="collinear"):
        GroundPlane.fit(image, ground)


@pytest.mark.parametrize(
    ("image", "ground", "message"),
    [
        ([(0, 0), (1, 0), (0, 1)], [(0, 0), (1, 0), (0, 1)], "4 to 64"),
        ([(0, 0), (1, 0), (0, 1), (1, 1)], [(0, 0), (1, 0), (0, 1)], "image points but"),
        ([(0, 0), (1, 0), (0, 1), (math.nan, 1)], [(0, 0), (1, 0), (0, 1), (1, 1)], "finite"),
        ([(0, 0), (0, 0), (0, 0), (0, 0)], [(0, 0), (1, 0), (0, 1), (1, 1)], "collinear"),
        # one pair marked at the wrong spot: the fit cannot honour all five
        ([(0, 0), (100, 0), (0, 100), (100, 100), (50, 50)],
         [(0, 0), (10, 0), (0, 10), (10, 10), (9, 1)], "off the fitted plane"),
    ],
)  # fmt: skip
def test_bad_calibrations_say_what_is_wrong(
    image: list[tuple[float, float]], ground: list[tuple[float, float]], message: str
) -> None:
    with pytest.raises(CalibrationError, match=message):
        GroundPlane.fit(image, ground)


def test_zone_area_in_square_metres() -> None:
    # a 2 cm per pixel top-down view: a 100x50 px rectangle is 2 m x 1 m
    plane = GroundPlane.fit(
        [(0, 0), (100, 0), (100, 100), (0, 100)], [(0, 0), (2, 0), (2, 2), (0, 2)]
    )
    assert plane.area_m2([(0, 0), (100, 0), (100, 50), (0, 50)]) == pytest.approx(2.0)
    assert polygon_area([(0, 0), (3, 0), (3, 3)]) == pytest.approx(4.5)
    assert inside((1, 1), [(0, 0), (3, 0), (3, 3), (0, 3)])
    assert not inside((4, 1), [(0, 0), (3, 0), (3, 3), (0, 3)])


@given(st.floats(1, 400), st.floats(-30, 30), st.integers(2, 40), st.booleans())
def test_line_counts_one_crossing_per_pass_in_its_direction(
    speed: float, jitter: float, steps: int, rightwards: bool
) -> None:
    line = LineCounter(LineSettings(id="l", space_id="s", a=(500, 400), b=(500, 0)))
    start, end = (300.0, 700.0) if rightwards else (700.0, 300.0)
    for i in range(steps + 1):
        x = start + (end - start) * i / steps
        line.update({7: (x + (jitter if i % 2 else -jitter) * 0.3, 200.0)})
    assert line.take_counts() == ((1, 0) if rightwards else (0, 1))
    assert line.take_counts() == (0, 0)


def test_line_ignores_dithering_inside_its_dead_band_and_passes_beyond_its_ends() -> None:
    line = LineCounter(LineSettings(id="l", space_id="s", a=(500, 400), b=(500, 100), margin_px=12))
    for x in (495, 505, 490, 510, 495):
        line.update({1: (float(x), 200.0)})
    for x in (300, 700):  # below the segment's end: not through the line
        line.update({2: (float(x), 420.0)})
    assert line.take_counts() == (0, 0)
