"""Crowd build-up: a space filling through its exits over time (JuPedSim).

The simulated area is the space plus a short approach (``LOBBY_M`` of the street) outside each
exit. The plan gives the number of people the space should hold at each moment (a smoothstep
from empty to ``peak_density_p_m2`` over ``ramp_s``, then held): each second, as many set off
as the plan asks for, from the approach of an exit drawn in proportion to its width (among
those with room left behind them). Where the approach is full they wait and try again the next
second, so a jammed entrance slows the filling as it does in reality. Each walks in to the
deepest free standing spot of those nearest its exit: the space fills from the inside and
nobody has to cross the crowd. The spots lie on a hexagonal grid 10 % denser than the peak.
With ``turnover_per_min``, that share of those standing leaves each minute through the nearest
exit (and is replaced): the counters see the churn of a real gathering.

The run records, each second, the occupancy (people inside the space's polygon) and the people
counted in (first seen inside) and out (gone out through an exit) at each exit
(``BuildUpResult``): the ground truth and the counter view of the same crowd.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from smartspaces.config import SimulationSettings
from smartspaces.scenarios.valencia.geometry import largest_polygon
from smartspaces.simulation.egress import speeds
from smartspaces.simulation.engine import XY, PedestrianSimulation
from smartspaces.simulation.errors import SimulationError
from smartspaces.simulation.results import BuildUpResult, per_second
from smartspaces.simulation.space import SimSpace

MAX_PEAK_P_M2 = 6.0
"""Above this, people of 0.2 m radius no longer fit on the standing grid."""
GRID_MARGIN = 1.1
GATE_TRIES = 10
LOBBY_M = 4.0
"""Depth of the approach outside each exit where arrivals set off and leavers disappear."""


@dataclass(frozen=True)
class ArrivalPlan:
    """How a space fills; ``stop_density_p_m2`` ends the run once the density reaches it."""

    peak_density_p_m2: float
    ramp_s: float
    hold_s: float = 0.0
    turnover_per_min: float = 0.0
    stop_density_p_m2: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.peak_density_p_m2 <= MAX_PEAK_P_M2:
            raise SimulationError(f"the peak density must be in (0, {MAX_PEAK_P_M2}] persons/m2")
        if not (self.ramp_s > 0 and self.hold_s >= 0 and 0 <= self.turnover_per_min <= 1):
            raise SimulationError("need ramp_s > 0, hold_s >= 0 and turnover in [0, 1] per min")

    @property
    def duration_s(self) -> float:
        return self.ramp_s + self.hold_s

    def share(self, t_s: float) -> float:
        """Share of the peak the space should hold at ``t_s`` (smoothstep, then 1)."""
        u = min(1.0, max(0.0, t_s / self.ramp_s))
        return u * u * (3.0 - 2.0 * u)


def standing_spots(
    space: SimSpace, density_p_m2: float, margin_m: float, seed: int
) -> list[tuple[XY, int]]:
    """Standing spots on a jittered hexagonal grid at ``density_p_m2``, deepest (farthest from
    any exit) first, each with the index of the exit nearest to it."""
    spacing = math.sqrt(2.0 / (math.sqrt(3.0) * density_p_m2))
    # clear of the walls; up to the exits, where the space opens onto the next one
    openings = shapely.union_all([e.edge for e in space.exits]).buffer(margin_m)
    walls = space.walkable.boundary.difference(openings)
    inner = space.walkable.difference(walls.buffer(margin_m))
    x0, y0, x1, y1 = inner.bounds
    ys = np.arange(y0, y1, spacing * math.sqrt(3.0) / 2.0)
    xs = np.arange(x0, x1, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys)) % 2)[:, None] * spacing / 2.0  # every other row shifted
    rng = np.random.default_rng(seed)
    px = gx.ravel() + rng.uniform(-0.05, 0.05, gx.size)
    py = gy.ravel() + rng.uniform(-0.05, 0.05, gy.size)
    keep = shapely.contains_xy(inner, px, py)
    points = shapely.points(px[keep], py[keep])
    distances = np.array([shapely.distance(points, e.edge) for e in space.exits])
    nearest, depth = distances.argmin(axis=0), distances.min(axis=0)
    order = np.argsort(-depth, kind="stable")
    xs_kept, ys_kept = px[keep], py[keep]
    return [((float(xs_kept[i]), float(ys_kept[i])), int(nearest[i])) for i in order]


def _chord(space: SimSpace, exit_index: int) -> LineString:
    coords = space.exits[exit_index].edge.coords
    return LineString([coords[0], coords[-1]])


def _lobby(space: SimSpace, exit_index: int) -> Polygon:
    """The approach outside an exit: ``LOBBY_M`` deep, as wide as the exit."""
    band = _chord(space, exit_index).buffer(LOBBY_M, cap_style="flat")
    return largest_polygon(band.difference(space.walkable))


class _Gate:
    """Where arrivals through one exit set off: the outer part of its approach."""

    def __init__(self, area: Polygon, exit_id: str, rng: random.Random) -> None:
        self.exit_id = exit_id
        self._area = area
        self._bounds = area.bounds
        self._rng = rng

    def place(self, sim: PedestrianSimulation, clearance_m: float) -> XY | None:
        x0, y0, x1, y1 = self._bounds
        for _ in range(GATE_TRIES):
            x, y = self._rng.uniform(x0, x1), self._rng.uniform(y0, y1)
            if shapely.contains_xy(self._area, x, y) and sim.is_free((x, y), clearance_m):
                return (x, y)
        return None


@dataclass
class _Counts:
    """The second's counts per exit, and who is where."""

    came: dict[str, int] = field(default_factory=dict)
    went: dict[str, int] = field(default_factory=dict)

    def add(self, table: dict[str, int], exit_id: str) -> None:
        table[exit_id] = table.get(exit_id, 0) + 1


def run_buildup(
    space: SimSpace,
    plan: ArrivalPlan,
    settings: SimulationSettings,
    progress: Callable[[float], None] | None = None,
) -> BuildUpResult:
    """Fill ``space`` through its exits as ``plan`` says; the per-second record."""
    radius = settings.agent_radius_m
    rng = random.Random(f"buildup:{settings.seed}")  # noqa: S311 - a simulation, not secrets
    peak = plan.peak_density_p_m2 * space.area_m2
    spots = standing_spots(space, plan.peak_density_p_m2 * GRID_MARGIN, radius + 0.1, settings.seed)
    free: list[list[int]] = [[] for _ in space.exits]  # per exit, a heap of spots (deepest first)
    for rank, (_, home) in enumerate(spots):
        free[home].append(rank)
    lobbies = [_lobby(space, i) for i in range(len(space.exits))]
    area = largest_polygon(
        shapely.make_valid(
            shapely.set_precision(shapely.union_all([space.walkable, *lobbies]), 0.01)
        )
    )
    sim = PedestrianSimulation(area, settings.dt_s)
    ids = [e.id for e in space.exits]
    outs = []
    gates = []
    for i, lobby in enumerate(lobbies):
        chord = _chord(space, i)
        outs.append(sim.add_exit(lobby.difference(chord.buffer(LOBBY_M - 1.0)).convex_hull))
        start = lobby.difference(chord.buffer(1.0)).buffer(-(radius + 0.1))
        gates.append(_Gate(largest_polygon(start), ids[i], rng))
    widths = [e.width_m for e in space.exits]
    spot_of: dict[int, int] = {}  # agents walking to or standing on a spot
    gate_of: dict[int, str] = {}  # agents not yet inside: the exit they come in through
    exit_of: dict[int, str] = {}  # agents on their way out
    entered = left = 0
    occupancy: list[int] = []
    entries: list[dict[str, int]] = []
    exits: list[dict[str, int]] = []
    leave_p = plan.turnover_per_min / 60.0
    stop = plan.stop_density_p_m2
    while sim.elapsed_s < min(plan.duration_s, settings.max_simulated_s):
        counts = _Counts()
        due = round(peak * plan.share(sim.elapsed_s + 1.0)) + left
        while entered < due:
            open_gates = [i for i in range(len(ids)) if free[i]]
            if not open_gates:
                break  # every spot is taken
            i = rng.choices(open_gates, weights=[widths[g] for g in open_gates])[0]
            position = gates[i].place(sim, 2 * radius + 0.05)
            if position is None:
                break  # the approach is jammed: they wait until the next second
            spot = heapq.heappop(free[i])
            agent = sim.add_stander(position, spots[spot][0], speeds(1, settings, rng)[0], radius)
            spot_of[agent], gate_of[agent] = spot, ids[i]
            entered += 1
        if leave_p > 0:
            for agent in [a for a in spot_of if a not in gate_of and rng.random() < leave_p]:
                point = shapely.Point(sim.position(agent))
                choice = min(range(len(ids)), key=lambda k: space.exits[k].edge.distance(point))
                sim.send_to_exit(agent, outs[choice])
                exit_of[agent] = ids[choice]
                spot = spot_of.pop(agent)
                heapq.heappush(free[spots[spot][1]], spot)
        for _, agent in sim.advance(1.0):
            counts.add(counts.went, exit_of.pop(agent))
            left += 1
        inside = _inside(space, sim)
        for agent in [a for a in gate_of if a in inside]:
            counts.add(counts.came, gate_of.pop(agent))
        occupancy.append(len(inside))
        entries.append(counts.came)
        exits.append(counts.went)
        if progress is not None:
            progress(min(1.0, sim.elapsed_s / plan.duration_s))
        if stop is not None and len(inside) >= stop * space.area_m2:
            break
    return BuildUpResult(
        space_id=space.space.id,
        area_m2=space.area_m2,
        exit_ids=tuple(ids),
        occupancy=tuple(occupancy),
        entries=per_second(entries, ids),
        exits=per_second(exits, ids),
        seed=settings.seed,
    )


def _inside(space: SimSpace, sim: PedestrianSimulation) -> set[int]:
    """The agents inside the space's own polygon (not on an approach)."""
    where = sim.positions_by_agent()
    if not where:
        return set()
    agents = list(where)
    xy = np.array([where[a] for a in agents])
    mask = shapely.contains_xy(space.walkable, xy[:, 0], xy[:, 1])
    return {a for a, yes in zip(agents, mask, strict=True) if yes}
