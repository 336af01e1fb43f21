"""Egress what-if: how long a space takes to empty through its open exits (JuPedSim).

Set-up: ``persons`` stand spread at random over the walkable area (at least 0.5 m apart, clear
of the walls); each walks, at a free speed drawn around the settings' mean, to the nearest open
exit (straight-line distance to the exit's edge: people head for the way out they see, not the
emptiest). An exit's area is the strip ``exit_depth_m`` deep along its edge; reaching it counts
as out. Blocking an exit sends the people near it to the next nearest. The run ends when the
space is empty or ``max_simulated_s`` has passed; the egress time is when the last person left.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection

import numpy as np
import shapely

from smartspaces.config import SimulationSettings
from smartspaces.simulation.engine import PedestrianSimulation, distribute
from smartspaces.simulation.errors import SimulationError
from smartspaces.simulation.results import EgressResult
from smartspaces.simulation.space import SimSpace

Progress = Callable[[float], None]
"""Told the share of the run done (0 to 1) after each simulated second."""
SPACING_M = 0.5
MIN_SPEED_M_S, MAX_SPEED_M_S = 0.5, 2.0


def speeds(count: int, settings: SimulationSettings, rng: random.Random) -> list[float]:
    """Free walking speeds drawn around the mean, kept within walking range."""
    mean, spread = settings.desired_speed_m_s, settings.speed_spread_m_s
    return [min(MAX_SPEED_M_S, max(MIN_SPEED_M_S, rng.gauss(mean, spread))) for _ in range(count)]


def exit_area(space: SimSpace, exit_id: str, depth_m: float) -> shapely.Polygon:
    """The convex area agents leave through (JuPedSim wants exits convex)."""
    hull = space.strip(exit_id, depth_m).convex_hull
    if not isinstance(hull, shapely.Polygon) or hull.area <= 0:
        raise SimulationError(f"exit {exit_id} of {space.space.id} has no area")
    return hull


def run_egress(
    space: SimSpace,
    persons: int,
    settings: SimulationSettings,
    blocked: Collection[str] = (),
    progress: Progress | None = None,
) -> EgressResult:
    """Empty ``space`` of ``persons`` through every exit not in ``blocked``."""
    if persons < 0:
        raise SimulationError(f"persons must be 0 or more, got {persons}")
    closed = tuple(sorted({space.exit(b).id for b in blocked}))  # unknown ids raise
    open_exits = [e for e in space.exits if e.id not in closed]
    if not open_exits:
        raise SimulationError(f"every exit of {space.space.id} is blocked: nobody can leave")
    radius = settings.agent_radius_m
    positions = distribute(space.walkable, persons, SPACING_M, radius + 0.1, settings.seed)
    sim = PedestrianSimulation(space.walkable, settings.dt_s)
    indices = [sim.add_exit(exit_area(space, e.id, settings.exit_depth_m)) for e in open_exits]
    nearest: list[int] = []
    if positions:
        points = shapely.points(np.array(positions))
        distances = np.array([shapely.distance(points, e.edge) for e in open_exits])
        nearest = [int(i) for i in distances.argmin(axis=0)]
    rng = random.Random(f"egress:{settings.seed}")  # noqa: S311 - a simulation, not secrets
    exit_of: dict[int, str] = {}
    for position, choice, speed in zip(
        positions, nearest, speeds(persons, settings, rng), strict=True
    ):
        agent = sim.add_leaver(position, indices[choice], speed, radius)
        exit_of[agent] = open_exits[choice].id
    per_exit = dict.fromkeys((e.id for e in open_exits), 0)
    remaining: list[int] = []
    last_out = 0.0
    while sim.agent_count > 0 and sim.elapsed_s < settings.max_simulated_s:
        for at, agent in sim.advance(1.0):
            per_exit[exit_of[agent]] += 1
            last_out = at
        remaining.append(sim.agent_count)
        if progress is not None:
            progress(1.0 - sim.agent_count / persons)
    left = persons - sim.agent_count
    return EgressResult(
        space_id=space.space.id,
        persons=persons,
        blocked=closed,
        egress_s=round(last_out, 2) if left == persons else float("inf"),
        evacuated=left,
        per_exit=per_exit,
        remaining=tuple(remaining),
        dt_s=settings.dt_s,
        seed=settings.seed,
    )
