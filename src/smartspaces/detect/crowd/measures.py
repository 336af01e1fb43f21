"""Crowd measures from trajectories: classic density, speed, and flow through a line.

Pure vectorised functions over ``Trajectories`` (metres, frames). They follow PedPy's
definitions (Jülich's reference tool) so that results can be checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from smartspaces.detect.crowd.errors import GeometryError
from smartspaces.detect.crowd.trajectories import FloatArray, IntArray, Trajectories

SpeedBorder = Literal["exclude", "single_sided", "adaptive"]

ON_LINE_M = 1e-5
"""A step ending closer than this to the line has not crossed it yet (PedPy's convention)."""


@dataclass(frozen=True, eq=False)
class FrameSeries:
    """One value per frame, for every frame from the first to the last of the trajectories."""

    frames: IntArray
    values: FloatArray


@dataclass(frozen=True, eq=False)
class FlowIntervals:
    """Flow through a line, one row per interval in which people crossed it."""

    flow_p_s: FloatArray
    flow_p_m_s: FloatArray
    mean_speed_m_s: FloatArray


def _all_frames(traj: Trajectories) -> IntArray:
    return np.arange(traj.frames.min(), traj.frames.max() + 1, dtype=np.int64)


def classic_density(traj: Trajectories, area: Polygon) -> FrameSeries:
    """People strictly inside ``area`` per frame divided by its area (persons/m^2)."""
    frames = _all_frames(traj)
    inside = np.asarray(shapely.contains_xy(area, traj.x, traj.y), dtype=bool)
    counts = np.bincount(traj.frames[inside] - frames[0], minlength=frames.size)
    return FrameSeries(frames, counts / area.area)


def _speed_window(
    traj: Trajectories, frame_step: int, border: SpeedBorder
) -> tuple[IntArray, IntArray]:
    """Rows (lo, hi) between which each row's displacement is measured (lo == hi: none)."""
    if frame_step < 1:
        raise ValueError("frame_step must be at least 1")
    n = len(traj)
    rows = np.arange(n)
    breaks = traj.track_breaks()
    start = np.maximum.accumulate(np.where(breaks, rows, 0))
    last = np.append(breaks[1:], True)
    end = np.minimum.accumulate(np.where(last, rows, n - 1)[::-1])[::-1]
    if border == "exclude":
        lo, hi = rows - frame_step, rows + frame_step
        valid = (lo >= start) & (hi <= end)
        return np.where(valid, lo, rows), np.where(valid, hi, rows)
    if border == "single_sided":
        # a side without frame_step frames is replaced by the row itself: [f, f+k] or [f-k, f]
        lo = np.where(rows - frame_step >= start, rows - frame_step, rows)
        hi = np.where(rows + frame_step <= end, rows + frame_step, rows)
        return lo, hi
    half = np.minimum(frame_step, np.minimum(rows - start, end - rows))
    return rows - half, rows + half


def individual_velocity(
    traj: Trajectories, frame_step: int, border: SpeedBorder = "single_sided"
) -> tuple[FloatArray, FloatArray]:
    """Velocity (vx, vy) of each row in m/s, over the same window as ``individual_speed``."""
    lo, hi = _speed_window(traj, frame_step, border)
    window = (hi - lo).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(window > 0, traj.frame_rate / window, np.nan)
    vx = (traj.x[hi] - traj.x[lo]) * scale
    vy = (traj.y[hi] - traj.y[lo]) * scale
    return np.asarray(vx, dtype=np.float64), np.asarray(vy, dtype=np.float64)


def individual_speed(
    traj: Trajectories, frame_step: int, border: SpeedBorder = "single_sided"
) -> FloatArray:
    """Speed of each row in m/s from the displacement ``frame_step`` frames back and ahead.

    At the ends of a track, ``exclude`` gives NaN, ``single_sided`` measures on the side that
    has frames, ``adaptive`` shrinks the window equally on both sides. A gap in frames ends a
    track, so no speed is measured across missing frames.
    """
    lo, hi = _speed_window(traj, frame_step, border)
    window = (hi - lo).astype(np.float64)
    distance = np.hypot(traj.x[hi] - traj.x[lo], traj.y[hi] - traj.y[lo])
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.where(window > 0, distance / window * traj.frame_rate, np.nan)
    return np.asarray(speed, dtype=np.float64)


def mean_speed(traj: Trajectories, speed: FloatArray, area: Polygon) -> FrameSeries:
    """Mean speed (m/s) of the people inside ``area`` per frame; NaN where nobody is there."""
    frames = _all_frames(traj)
    use = np.asarray(shapely.contains_xy(area, traj.x, traj.y), dtype=bool) & np.isfinite(speed)
    slot = traj.frames[use] - frames[0]
    count = np.bincount(slot, minlength=frames.size)
    total = np.bincount(slot, weights=speed[use], minlength=frames.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return FrameSeries(frames, np.where(count > 0, total / count, np.nan))


def _cross(ax: FloatArray, ay: FloatArray, bx: float, by: float) -> FloatArray:
    return np.asarray(ax * by - ay * bx, dtype=np.float64)


def crossing_frames(traj: Trajectories, line: LineString) -> tuple[IntArray, IntArray]:
    """(ids, frames) of the first frame in which each person stepped across ``line``.

    A step counts when it touches the line and does not end on it. As in PedPy, the last step
    of a person's trajectory is not counted (its speed window has no frame after it).
    """
    if not isinstance(line, LineString) or line.length <= 0:
        raise GeometryError("the measurement line must be a LineString of positive length")
    (ax, ay), (bx, by) = np.asarray(line.coords, dtype=np.float64)[[0, -1]]
    rows = np.flatnonzero(~traj.track_breaks())
    last_of_person = np.append(np.diff(traj.ids) != 0, True)
    rows = rows[~last_of_person[rows]]
    px, py = traj.x[rows - 1], traj.y[rows - 1]
    qx, qy = traj.x[rows], traj.y[rows]
    dx, dy = bx - ax, by - ay
    side_p = _cross(px - ax, py - ay, dx, dy)
    side_q = _cross(qx - ax, qy - ay, dx, dy)
    ex, ey = qx - px, qy - py
    side_a = ex * (ay - py) - ey * (ax - px)
    side_b = ex * (by - py) - ey * (bx - px)
    straddle = (side_p * side_q <= 0) & (side_a * side_b <= 0)
    # Collinear steps straddle trivially: they only meet the line if their extents overlap.
    collinear = (side_p == 0) & (side_q == 0)
    overlap = (np.minimum(px, qx) <= max(ax, bx)) & (np.maximum(px, qx) >= min(ax, bx))
    overlap &= (np.minimum(py, qy) <= max(ay, by)) & (np.maximum(py, qy) >= min(ay, by))
    meets = straddle & (~collinear | overlap)
    ends_on_line = _point_segment_distance(qx, qy, ax, ay, bx, by) < ON_LINE_M
    hit = rows[meets & ~ends_on_line]
    ids, first = np.unique(traj.ids[hit], return_index=True)
    return ids, traj.frames[hit][first]


def _point_segment_distance(
    px: FloatArray, py: FloatArray, ax: float, ay: float, bx: float, by: float
) -> FloatArray:
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.asarray(np.hypot(px - (ax + t * dx), py - (ay + t * dy)), dtype=np.float64)


def cumulative_crossings(traj: Trajectories, line: LineString) -> FrameSeries:
    """N(t): how many people have crossed ``line`` by each frame."""
    frames = _all_frames(traj)
    _, crossed = crossing_frames(traj, line)
    per_frame = np.bincount(crossed - frames[0], minlength=frames.size)
    return FrameSeries(frames, np.cumsum(per_frame).astype(np.float64))


def line_flow(
    traj: Trajectories, line: LineString, speed: FloatArray, delta_frame: int
) -> FlowIntervals:
    """Flow through ``line`` per interval of about ``delta_frame`` frames (PedPy's method).

    Each interval runs from one crossing to the last crossing before the next ``delta_frame``
    boundary, so the time base is set by people, not by the clock. ``flow_p_m_s`` divides by
    the line's length: the specific flow that exit capacities are quoted in.
    """
    if delta_frame < 1:
        raise ValueError("delta_frame must be at least 1")
    ids, crossed = crossing_frames(traj, line)
    nt = cumulative_crossings(traj, line)
    flows: list[float] = []
    speeds: list[float] = []
    if ids.size == 0:
        empty = np.zeros(0)
        return FlowIntervals(empty, empty, empty)
    # speed of each person in the frame they crossed, looked up in the sorted (id, frame) rows
    keys = traj.ids * (traj.frames.max() + 1) + traj.frames
    at = np.searchsorted(keys, ids * (traj.frames.max() + 1) + crossed)
    crossing_speed = speed[at]
    counts, first = nt.values.astype(np.int64), int(nt.frames[0])
    before_n, before_frame = 0, int(crossed.min())
    for frame in range(before_frame + delta_frame, int(nt.frames[-1]), delta_frame):
        passed = int(counts[frame - first])
        if passed == before_n:
            continue
        passed_frame = int(np.argmax(counts == passed)) + first + 1
        flows.append((passed - before_n) / (passed_frame - before_frame) * traj.frame_rate)
        window = (crossed >= before_frame) & (crossed <= passed_frame)
        speeds.append(float(np.nanmean(crossing_speed[window])) if window.any() else np.nan)
        before_n, before_frame = passed, passed_frame
    flow = np.asarray(flows, dtype=np.float64)
    return FlowIntervals(flow, flow / line.length, np.asarray(speeds, dtype=np.float64))
