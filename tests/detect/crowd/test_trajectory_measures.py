"""Crowd measures from positions: invariants, and clear errors on bad input (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Polygon

from smartspaces.detect.crowd import measures, voronoi
from smartspaces.detect.crowd.errors import (
    CrowdMeasureError,
    GeometryError,
    TrajectoryError,
    UnitError,
)
from smartspaces.detect.crowd.geometry import measurement_line, polygon
from smartspaces.detect.crowd.trajectories import Trajectories, parse_trajectory_text

ROOM = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
coordinate = st.floats(min_value=0.05, max_value=9.95, allow_nan=False)


def walkers(n: int = 3, frames: int = 50, speed_m_s: float = 1.2) -> Trajectories:
    """``n`` people walking up the room side by side at ``speed_m_s``, 25 fps."""
    t = np.arange(frames)
    ids = np.repeat(np.arange(n), frames)
    return Trajectories.from_arrays(
        ids, np.tile(t, n), 1.0 + 2.0 * ids, np.tile(1.0 + speed_m_s * t / 25, n), 25.0
    )


def test_speed_of_a_steady_walker_is_exact() -> None:
    speed = measures.individual_speed(walkers(), 5)
    assert np.allclose(speed, 1.2)


def test_flow_counts_each_walker_once_per_line() -> None:
    line = LineString([(0, 2.0), (10, 2.0)])
    ids, frames = measures.crossing_frames(walkers(), line)
    assert ids.tolist() == [0, 1, 2]
    assert np.all(frames == frames[0])  # side by side: they cross together
    assert measures.cumulative_crossings(walkers(), line).values[-1] == 3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=30, unique=True))
def test_voronoi_cells_share_out_the_whole_room(points: list[tuple[float, float]]) -> None:
    # The cells tile the walkable area, so over all of it the Voronoi density is N / area.
    xy = np.asarray(points)
    traj = Trajectories.from_arrays(np.arange(len(xy)), np.zeros(len(xy)), xy[:, 0], xy[:, 1], 25)
    density = voronoi.voronoi_density(traj, ROOM, ROOM).values
    assert density[0] == pytest.approx(len(xy) / ROOM.area, rel=1e-9)
    assert voronoi.individual_voronoi_areas(traj, ROOM).sum() == pytest.approx(ROOM.area)


def test_a_single_person_owns_the_walkable_area() -> None:
    traj = Trajectories.from_arrays([7], [0], [5.0], [5.0], 25.0)
    area = Polygon([(4, 4), (6, 4), (6, 6), (4, 6)])
    assert measures.classic_density(traj, area).values.tolist() == [0.25]
    assert voronoi.voronoi_density(traj, ROOM, area).values[0] == pytest.approx(1 / ROOM.area)
    assert np.isnan(measures.individual_speed(traj, 5)).all()  # one frame: no speed


def test_frames_without_anyone_read_zero_density() -> None:
    traj = Trajectories.from_arrays([1, 1], [0, 4], [5.0, 5.0], [5.0, 5.1], 25.0)
    assert measures.classic_density(traj, ROOM).values.tolist() == [0.01, 0, 0, 0, 0.01]


@pytest.mark.parametrize(
    ("ids", "frames", "x", "y", "message"),
    [
        ([], [], [], [], "no positions"),
        ([1, 1], [3, 3], [1.0, 2.0], [1.0, 1.0], "twice in frame 3"),
        ([1, 2], [0, 0], [1.0, math.nan], [1.0, 1.0], "not finite"),
        ([1, 2], [0, 0], [1.0, math.inf], [1.0, 1.0], "not finite"),
        ([1.5], [0], [1.0], [1.0], "whole number"),
        ([1], [-1], [1.0], [1.0], "negative"),
    ],
)
def test_bad_positions_are_refused_clearly(
    ids: list[float], frames: list[float], x: list[float], y: list[float], message: str
) -> None:
    with pytest.raises(TrajectoryError, match=message):
        Trajectories.from_arrays(ids, frames, x, y, 25.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.integers(0, 6),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
            st.floats(allow_nan=True, allow_infinity=True, width=32),
        ),
        max_size=25,
    )
)
def test_any_input_gives_a_result_or_a_clear_error(
    rows: list[tuple[int, int, float, float]],
) -> None:
    ids, frames, x, y = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
    try:
        traj = Trajectories.from_arrays(ids, frames, x, y, 25.0)
        measures.classic_density(traj, ROOM)
        measures.individual_speed(traj, 3)
        voronoi.voronoi_density(traj, ROOM, Polygon([(2, 2), (5, 2), (5, 5)]))
    except CrowdMeasureError:
        pass  # a clear, deliberate refusal is fine; anything else is a crash


def test_two_people_on_one_spot_are_refused_for_voronoi() -> None:
    traj = Trajectories.from_arrays([1, 2], [0, 0], [3.0, 3.0], [3.0, 3.0], 25.0)
    with pytest.raises(TrajectoryError, match="share position"):
        voronoi.voronoi_density(traj, ROOM, ROOM)


def test_positions_outside_the_walkable_area_are_refused() -> None:
    traj = Trajectories.from_arrays([1], [0], [30.0], [3.0], 25.0)
    with pytest.raises(TrajectoryError, match="outside the walkable area"):
        voronoi.voronoi_density(traj, ROOM, ROOM)


@pytest.mark.parametrize(
    ("shell", "message"),
    [
        ([(0, 0), (1, 1), (2, 2)], "zero area"),
        ([(0, 0), (2, 2), (2, 0), (0, 2)], "Self-intersection"),
        ([(0, 0), (1, 0)], "at least 3"),
        ([(0, 0), (1, math.nan), (1, 1)], "finite"),
        ([("a", 0), (1, 0), (1, 1)], "number pairs"),
    ],
)
def test_bad_polygons_are_refused_clearly(shell: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(GeometryError, match=message):
        polygon(shell, what="measurement area")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), max_size=8))
def test_any_polygon_is_valid_or_refused(shell: list[tuple[float, float]]) -> None:
    try:
        area = polygon(shell)
    except GeometryError:
        return
    assert area.is_valid and area.area > 0


def test_degenerate_lines_are_refused() -> None:
    with pytest.raises(GeometryError, match="zero length"):
        measurement_line([(1, 1), (1, 1)])
    with pytest.raises(GeometryError, match="two finite"):
        measurement_line([(1, 1), (2, 2), (3, 3)])


def test_walkers_in_centimetres_are_not_metres() -> None:
    traj = walkers()
    with pytest.raises(UnitError, match="centimetres"):
        Trajectories.from_arrays(traj.ids, traj.frames, traj.x * 100, traj.y * 100, 25.0)
    with pytest.raises(UnitError, match="metric"):
        Trajectories.from_arrays([1, 2], [0, 0], [0.0, 3e5], [0.0, 1.0], 25.0)


def test_text_needs_a_frame_rate_and_data() -> None:
    with pytest.raises(TrajectoryError, match="frame rate"):
        parse_trajectory_text("1 0 1.0 2.0\n")
    with pytest.raises(TrajectoryError, match="no positions"):
        parse_trajectory_text("# framerate: 25 fps\n")
    with pytest.raises(TrajectoryError, match="unreadable"):
        parse_trajectory_text("# framerate: 25 fps\n1 0 one 2.0\n")
    assert len(parse_trajectory_text("1 0 1.0 2.0 1.7\n", frame_rate=10)) == 1
