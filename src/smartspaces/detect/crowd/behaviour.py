"""Crowd behaviour from anonymous tracks: counter-flow, sudden dispersal, stop-and-go, disorder.

Pure vectorised functions over ``Trajectories`` (metres, frames). Velocities are measured like
``measures.individual_speed`` (``frame_step`` frames back and ahead), which smooths the jitter of
a tracker. People slower than ``min_speed_m_s`` have no meaningful heading (someone standing
sways in every direction), so the heading-based measures leave them out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.measures import FrameSeries, individual_velocity
from smartspaces.detect.crowd.trajectories import FloatArray, IntArray, Trajectories

MIN_SPEED_M_S = 0.3
"""Below this a person is standing: no heading is read from their sway."""


@dataclass(frozen=True, eq=False)
class _Motion:
    """Velocity of every row, with each row's slot in the frame range and whether it counts."""

    frames: IntArray  # every frame from the first to the last
    slot: IntArray  # per row: index into frames
    vx: FloatArray
    vy: FloatArray
    speed: FloatArray
    used: np.ndarray  # per row: inside the area and with a finite velocity


def _motion(traj: Trajectories, frame_step: int, area: Polygon | None) -> _Motion:
    vx, vy = individual_velocity(traj, frame_step)
    used = np.isfinite(vx) & np.isfinite(vy)
    if area is not None:
        used &= np.asarray(shapely.contains_xy(area, traj.x, traj.y), dtype=bool)
    first = int(traj.frames.min())
    frames = np.arange(first, int(traj.frames.max()) + 1, dtype=np.int64)
    return _Motion(frames, traj.frames - first, vx, vy, np.hypot(vx, vy), used)


def _per_frame(m: _Motion, rows: np.ndarray, values: FloatArray, least: int = 1) -> FloatArray:
    """Mean of ``values`` over the selected rows of each frame; NaN with fewer than ``least``."""
    count = np.bincount(m.slot[rows], minlength=m.frames.size)
    total = np.bincount(m.slot[rows], weights=values[rows], minlength=m.frames.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count >= least, total / count, np.nan), dtype=np.float64)


def counter_flow(
    traj: Trajectories,
    allowed: tuple[float, float],
    area: Polygon | None = None,
    frame_step: int = 5,
    against_deg: float = 120.0,
    min_speed_m_s: float = MIN_SPEED_M_S,
) -> FrameSeries:
    """Share of the moving people in ``area`` heading against the ``allowed`` direction.

    A heading counts as against when it is more than ``against_deg`` degrees from the allowed
    direction (120: within 60 degrees of straight back), so people weaving round an obstacle
    in a one-way street are not counted. NaN in frames where nobody in the area moves.
    """
    dx, dy = allowed
    norm = float(np.hypot(dx, dy))
    if not (np.isfinite(norm) and norm > 0):
        raise CrowdMeasureError("the allowed direction must be a non-zero finite vector")
    if not 90.0 <= against_deg <= 180.0:
        raise CrowdMeasureError("against_deg must lie between 90 and 180 degrees")
    m = _motion(traj, frame_step, area)
    moving = m.used & (m.speed >= min_speed_m_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = (m.vx * dx + m.vy * dy) / (m.speed * norm)
    against = (cosine < np.cos(np.radians(against_deg))).astype(np.float64)
    return FrameSeries(m.frames, _per_frame(m, moving, against))


def heading_disorder(
    traj: Trajectories,
    area: Polygon | None = None,
    frame_step: int = 5,
    min_speed_m_s: float = MIN_SPEED_M_S,
) -> FrameSeries:
    """Circular variance of the moving people's headings per frame: 0 when all walk one way,
    near 1 when headings are spread all round. NaN with fewer than two people moving."""
    m = _motion(traj, frame_step, area)
    moving = m.used & (m.speed >= min_speed_m_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = m.vx / m.speed, m.vy / m.speed
    mean_x, mean_y = _per_frame(m, moving, ux, 2), _per_frame(m, moving, uy, 2)
    return FrameSeries(m.frames, np.clip(1.0 - np.hypot(mean_x, mean_y), 0.0, 1.0))


def velocity_disorder(
    traj: Trajectories, area: Polygon | None = None, frame_step: int = 5
) -> FrameSeries:
    """Normalised velocity variance per frame, (<|v|^2> - |<v>|^2) / <|v|^2>, in [0, 1].

    Like ``heading_disorder`` but weighted by speed, so nobody has to be left out as standing:
    a still crowd swaying gives little weight. NaN where fewer than two people or nobody moves.
    """
    m = _motion(traj, frame_step, area)
    mean_x, mean_y = _per_frame(m, m.used, m.vx, 2), _per_frame(m, m.used, m.vy, 2)
    energy = _per_frame(m, m.used, m.speed**2, 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(energy > 0, 1.0 - (mean_x**2 + mean_y**2) / energy, np.nan)
    return FrameSeries(m.frames, np.clip(value, 0.0, 1.0))


@dataclass(frozen=True, eq=False)
class Dispersal:
    """Per frame: mean speed, outwardness (mean cosine between heading and the direction away
    from the crowd's centre, -1..1), heading disorder, and whether it looks like a dispersal."""

    frames: IntArray
    mean_speed_m_s: FloatArray
    outwardness: FloatArray
    disorder: FloatArray
    flagged: np.ndarray

    @property
    def first_frame(self) -> int | None:
        hits = np.flatnonzero(self.flagged)
        return int(self.frames[hits[0]]) if hits.size else None


def sudden_dispersal(
    traj: Trajectories,
    area: Polygon | None = None,
    frame_step: int = 5,
    lag_s: float = 2.0,
    speed_jump: float = 2.0,
    min_speed_m_s: float = 1.5,
    min_divergence: float = 0.5,
) -> Dispersal:
    """Frames where the crowd suddenly scatters: the mean speed is at least ``speed_jump`` times
    what it was ``lag_s`` earlier and at least ``min_speed_m_s`` (hurrying, not strolling), and
    directions diverge: outwardness or heading disorder at least ``min_divergence``.

    Both divergence readings are kept because people fleeing a point at the crowd's edge move
    apart (disorder) without all moving away from its centre, while a ring bursting outward
    has headings spread evenly (disorder) and all pointing out (outwardness). A crowd that
    sets off together speeds up too, but in one direction: neither reading rises.
    """
    if speed_jump <= 1 or lag_s <= 0:
        raise CrowdMeasureError("speed_jump must exceed 1 and lag_s must be positive")
    m = _motion(traj, frame_step, area)
    inside = m.used
    speed = _per_frame(m, inside, m.speed)
    cx, cy = _per_frame(m, inside, traj.x), _per_frame(m, inside, traj.y)
    rx, ry = traj.x - cx[m.slot], traj.y - cy[m.slot]
    radius = np.hypot(rx, ry)
    moving = inside & (m.speed >= MIN_SPEED_M_S) & (radius > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        outward = (m.vx * rx + m.vy * ry) / (m.speed * radius)
    outwardness = _per_frame(m, moving, outward, 2)
    disorder = heading_disorder(traj, area, frame_step).values
    lag = max(1, round(lag_s * traj.frame_rate))
    before = np.full(speed.size, np.nan)
    before[lag:] = speed[:-lag]
    with np.errstate(invalid="ignore"):
        jumped = (speed >= speed_jump * before) & (speed >= min_speed_m_s)
        diverging = (outwardness >= min_divergence) | (disorder >= min_divergence)
    return Dispersal(m.frames, speed, outwardness, disorder, jumped & diverging)


@dataclass(frozen=True, eq=False)
class StopAndGo:
    """Halts per person (moving, then stopped) and the share of people caught in a wave."""

    ids: IntArray
    halts: IntArray
    share_in_waves: float  # share of ``ids`` with at least ``min_halts`` halts

    @property
    def detected(self) -> bool:
        return self.share_in_waves > 0


def stop_and_go(
    traj: Trajectories,
    lane: Polygon | None = None,
    frame_step: int = 5,
    stop_m_s: float = 0.2,
    go_m_s: float = 0.6,
    min_halts: int = 2,
    min_share: float = 0.3,
) -> StopAndGo:
    """Count, per person in ``lane``, how often they come to a halt after walking.

    Speeds between ``stop_m_s`` and ``go_m_s`` keep the previous state (hysteresis), so tracker
    jitter around one threshold is not a halt. Joining a standing queue and setting off is no
    halt; halting twice or more is a stop-and-go wave when at least ``min_share`` of the people
    in the lane do it (one person dawdling is not a wave). ``share_in_waves`` is 0 otherwise.
    """
    if not 0 <= stop_m_s < go_m_s:
        raise CrowdMeasureError("need 0 <= stop_m_s < go_m_s")
    m = _motion(traj, frame_step, lane)
    state = np.where(m.speed <= stop_m_s, 0, np.where(m.speed >= go_m_s, 1, -1))
    state[~m.used] = -1  # outside the lane or unmeasured: keep the state from before
    start = traj.track_breaks()
    rows = np.arange(len(traj))
    # forward-fill known states within each track; a track's first rows stay unknown (-1)
    source = np.maximum.accumulate(np.where((state >= 0) | start, rows, 0))
    filled = state[source]
    halted = np.zeros(len(traj), dtype=bool)
    halted[1:] = (filled[:-1] == 1) & (filled[1:] == 0) & ~start[1:]
    in_lane = m.used
    ids, person = np.unique(traj.ids[in_lane], return_inverse=True)
    halts = np.bincount(person, weights=halted[in_lane], minlength=ids.size).astype(np.int64)
    share = float(np.mean(halts >= min_halts)) if ids.size else 0.0
    return StopAndGo(ids, halts, share if share >= min_share else 0.0)
