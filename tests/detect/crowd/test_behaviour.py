"""Crowd behaviour measures on synthetic tracks: each fires on its pattern, not on orderly flow."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from smartspaces.detect.crowd import behaviour
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.trajectories import Trajectories

FPS = 10.0
CORRIDOR = Polygon([(0, 0), (60, 0), (60, 4), (0, 4)])
angle = st.floats(min_value=-math.pi, max_value=math.pi, allow_nan=False)


def tracks(xy: npt.NDArray[np.float64]) -> Trajectories:
    """Trajectories from positions shaped (people, frames, 2), at 10 fps."""
    people, frames, _ = xy.shape
    ids, t = np.repeat(np.arange(people), frames), np.tile(np.arange(frames), people)
    return Trajectories.from_arrays(ids, t, xy[..., 0].ravel(), xy[..., 1].ravel(), FPS)


def walk(
    headings: npt.ArrayLike, speed: float = 1.2, frames: int = 40, seed: int = 0
) -> Trajectories:
    """One person per heading (radians), spread over a 10 m square, walking straight."""
    rng = np.random.default_rng(seed)
    h = np.asarray(headings, dtype=float)
    start = rng.uniform(0, 10, (h.size, 1, 2)) + 10 * np.arange(h.size)[:, None, None]
    step = speed / FPS * np.stack([np.cos(h), np.sin(h)], axis=-1)[:, None, :]
    return tracks(start + step * np.arange(frames)[None, :, None])


def one_way_street(against: int, seed: int = 1) -> Trajectories:
    """20 people walking east along the corridor (with a little weave), ``against`` walking west."""
    rng = np.random.default_rng(seed)
    n, frames = 20 + against, 50
    t = np.arange(frames) / FPS
    x0, y0 = rng.uniform(5, 50, n), rng.uniform(0.5, 3.5, n)
    direction = np.where(np.arange(n) < 20, 1.0, -1.0)[:, None]
    x = x0[:, None] + direction * 1.3 * t
    y = y0[:, None] + 0.2 * np.sin(2 * t + rng.uniform(0, 6, n)[:, None])  # weaving
    return tracks(np.stack([x, y], axis=-1))


def test_counter_flow_is_the_share_walking_the_wrong_way() -> None:
    share = behaviour.counter_flow(one_way_street(5), (1.0, 0.0), CORRIDOR).values
    assert np.allclose(share, 5 / 25)
    assert np.all(behaviour.counter_flow(one_way_street(0), (1.0, 0.0), CORRIDOR).values == 0)


@settings(max_examples=40, deadline=None)
@given(angle, st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=15))
def test_nobody_within_a_right_angle_of_the_allowed_way_counts_as_against(
    allowed: float, offsets: list[float]
) -> None:
    # headings within +/-57 degrees of the allowed direction, whichever way that points
    traj = walk(allowed + np.asarray(offsets), frames=12)
    share = behaviour.counter_flow(traj, (math.cos(allowed), math.sin(allowed))).values
    assert np.all(share == 0)
    reverse = behaviour.counter_flow(traj, (-math.cos(allowed), -math.sin(allowed))).values
    assert np.all(reverse == 1)


def test_standing_people_are_neither_with_nor_against_the_flow() -> None:
    still = tracks(np.full((3, 20, 2), 2.0) + np.arange(3)[:, None, None])
    assert np.isnan(behaviour.counter_flow(still, (1.0, 0.0)).values).all()


@settings(max_examples=40, deadline=None)
@given(angle, st.integers(2, 12), st.floats(0.5, 3.0))
def test_one_heading_has_no_disorder(heading: float, people: int, speed: float) -> None:
    traj = walk(np.full(people, heading), speed=speed, frames=12)
    assert behaviour.heading_disorder(traj).values == pytest.approx(0.0, abs=1e-9)
    assert behaviour.velocity_disorder(traj).values == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(angle, min_size=2, max_size=12), angle)
def test_disorder_is_bounded_and_does_not_depend_on_the_map_orientation(
    headings: list[float], turn: float
) -> None:
    a = behaviour.heading_disorder(walk(headings, frames=12)).values
    b = behaviour.heading_disorder(walk(np.asarray(headings) + turn, frames=12)).values
    assert np.all((a >= 0) & (a <= 1))
    assert a == pytest.approx(b, abs=1e-9)


def test_headings_all_round_are_disorder_and_a_lane_is_not() -> None:
    spread = walk(np.linspace(0, 2 * math.pi, 12, endpoint=False))
    assert np.all(behaviour.heading_disorder(spread).values > 0.95)
    assert np.all(behaviour.velocity_disorder(spread).values > 0.95)
    lane = one_way_street(0)
    assert np.all(behaviour.heading_disorder(lane).values < 0.05)


def scatter(burst: bool, frames: int = 80, seed: int = 2) -> Trajectories:
    """30 people milling slowly in a 6 m circle; from frame 40 they run outward at 3.5 m/s
    (``burst``), or all set off east together at 1.4 m/s (an orderly start)."""
    rng = np.random.default_rng(seed)
    radius, theta = 3 * np.sqrt(rng.uniform(0.05, 1, 30)), rng.uniform(0, 2 * np.pi, 30)
    home = np.stack([20 + radius * np.cos(theta), 20 + radius * np.sin(theta)], axis=-1)
    xy = np.repeat(home[:, None, :], frames, axis=1)
    t = np.arange(frames) / FPS
    xy = xy + 0.05 * np.stack([np.sin(t + theta[:, None]), np.cos(1.3 * t + theta[:, None])], -1)
    after = np.clip(t - 4.0, 0, None)[None, :, None]
    away = (home - home.mean(axis=0)) / np.hypot(*(home - home.mean(axis=0)).T)[:, None]
    direction = away[:, None, :] if burst else np.array([1.0, 0.0])[None, None, :]
    return tracks(xy + (3.5 if burst else 1.4) * after * direction)


def test_a_crowd_bursting_apart_is_a_sudden_dispersal() -> None:
    result = behaviour.sudden_dispersal(scatter(burst=True))
    assert result.first_frame is not None and 40 <= result.first_frame <= 50
    assert np.nanmax(result.outwardness) > 0.9
    assert not result.flagged[:35].any()  # milling about is not dispersal


def test_a_crowd_setting_off_together_is_not_a_dispersal() -> None:
    result = behaviour.sudden_dispersal(scatter(burst=False), min_speed_m_s=1.0)
    assert result.first_frame is None
    assert np.nanmax(result.mean_speed_m_s) > 1.3  # it did speed up, in one direction


def queue(wave: bool, people: int = 12, seconds: float = 60.0) -> Trajectories:
    """Single file along the corridor: a stop-and-go wave travelling backwards (speed
    0.6 (1 + sin(2 pi (t / 10 s + x / 8 m))), so everyone halts every ten seconds or so)
    or a steady 1 m/s stream."""
    frames = int(seconds * FPS)
    x = np.empty((people, frames))
    x[:, 0] = 2.0 + 1.0 * np.arange(people)[::-1]
    for k in range(1, frames):
        t = k / FPS
        v = 0.6 * (1 + np.sin(2 * np.pi * (t / 10 + x[:, k - 1] / 8))) if wave else 1.0
        x[:, k] = x[:, k - 1] + v / FPS
    return tracks(np.stack([x, np.full_like(x, 2.0)], axis=-1))


def test_a_stop_and_go_wave_is_found_in_the_lane() -> None:
    result = behaviour.stop_and_go(queue(wave=True), CORRIDOR)
    assert result.detected and result.share_in_waves == 1.0
    assert result.halts.min() >= 4  # about one halt every ten seconds for a minute


def test_steady_flow_and_a_single_halt_are_not_waves() -> None:
    assert not behaviour.stop_and_go(queue(wave=False), CORRIDOR).detected
    # walk 3 s, stand 3 s, walk again: one halt each, e.g. a crossing's red light
    t = np.arange(120) / FPS
    x = np.cumsum(np.where((t >= 3) & (t < 6), 0.0, 1.2)) / FPS
    people = np.stack([np.stack([x + i, np.full_like(x, 1.0 + 0.5 * i)], -1) for i in range(5)])
    result = behaviour.stop_and_go(tracks(people))
    assert result.halts.tolist() == [1] * 5 and not result.detected


def test_nonsense_parameters_are_refused() -> None:
    traj = one_way_street(0)
    with pytest.raises(CrowdMeasureError, match="non-zero"):
        behaviour.counter_flow(traj, (0.0, 0.0))
    with pytest.raises(CrowdMeasureError, match="between 90 and 180"):
        behaviour.counter_flow(traj, (1.0, 0.0), against_deg=45)
    with pytest.raises(CrowdMeasureError, match="stop_m_s"):
        behaviour.stop_and_go(traj, stop_m_s=1.0, go_m_s=0.5)
    with pytest.raises(CrowdMeasureError, match="speed_jump"):
        behaviour.sudden_dispersal(traj, speed_jump=1.0)


def test_a_single_person_in_a_single_frame_gives_empty_readings() -> None:
    one = Trajectories.from_arrays([1], [0], [1.0], [1.0], FPS)
    assert np.isnan(behaviour.counter_flow(one, (1.0, 0.0)).values).all()
    assert np.isnan(behaviour.heading_disorder(one).values).all()
    assert behaviour.sudden_dispersal(one).first_frame is None
    assert behaviour.stop_and_go(one).ids.size == 0  # no speed without a second frame


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.integers(0, 12),
            st.floats(-5, 5, allow_nan=False),
            st.floats(-5, 5, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_tracks_give_readings_or_a_clear_error(
    rows: list[tuple[int, int, float, float]],
) -> None:
    ids, frames, x, y = (list(c) for c in zip(*rows, strict=True))
    try:
        traj = Trajectories.from_arrays(ids, frames, x, y, FPS, check_units=False)
    except CrowdMeasureError:
        return  # duplicates and the like: refused clearly before any measure runs
    for share in (behaviour.counter_flow(traj, (0.0, 1.0)), behaviour.heading_disorder(traj)):
        finite = share.values[np.isfinite(share.values)]
        assert np.all((finite >= 0) & (finite <= 1))
    behaviour.velocity_disorder(traj)
    behaviour.sudden_dispersal(traj)
    assert behaviour.stop_and_go(traj).halts.min(initial=0) >= 0
