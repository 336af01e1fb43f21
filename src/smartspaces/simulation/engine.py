"""A narrow, typed wrapper around JuPedSim (which ships no type information).

Only what the runs here need: one walkable polygon, the Collision Free Speed Model (Tordeux,
Chraibi and Seyfried 2016: first order, fast, realistic flows through bottlenecks), exit areas,
agents that head for an exit or walk to a spot and stand there, and time advancing. JuPedSim's
errors (agent outside the area, overlapping agents, bad exit polygons) come out as
``SimulationError`` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import jupedsim as jps  # type: ignore[import-untyped]
import numpy as np
from shapely.geometry import Polygon

from smartspaces.simulation.errors import SimulationError

XY = tuple[float, float]


@contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except (RuntimeError, ValueError, TypeError) as exc:
        raise SimulationError(f"{what}: {exc}") from exc


def distribute(area: Polygon, count: int, spacing_m: float, wall_m: float, seed: int) -> list[XY]:
    """``count`` random positions in ``area``, at least ``spacing_m`` apart and ``wall_m`` from
    its walls (JuPedSim's own distribution); SimulationError if they do not fit."""
    if count == 0:
        return []
    try:
        points = jps.distribute_by_number(
            polygon=area,
            number_of_agents=count,
            distance_to_agents=spacing_m,
            distance_to_polygon=wall_m,
            seed=seed,
        )
    except (jps.AgentNumberError, jps.IncorrectParameterError, ValueError) as exc:
        raise SimulationError(
            f"{count} persons do not fit on {area.area:.0f} m2 {spacing_m} m apart"
        ) from exc
    return [(float(x), float(y)) for x, y in points]


class PedestrianSimulation:
    """One run over a walkable polygon (metres); not thread-safe, one owner."""

    def __init__(self, walkable: Polygon, dt_s: float) -> None:
        with _translated("the walkable area is not usable"):
            self._sim = jps.Simulation(
                model=jps.CollisionFreeSpeedModel(), geometry=walkable, dt=dt_s
            )
            steering = self._sim.add_direct_steering_stage()
            self._steer = (self._sim.add_journey(jps.JourneyDescription([steering])), steering)
        self._exits: list[tuple[int, int]] = []
        self._alive: set[int] = set()
        self._steps_per_s = max(1, round(1.0 / dt_s))

    def add_exit(self, area: Polygon) -> int:
        """An exit area (convex): agents sent to it leave the simulation there; its index."""
        with _translated("exit area refused"):
            stage = self._sim.add_exit_stage(area)
            journey = self._sim.add_journey(jps.JourneyDescription([stage]))
        self._exits.append((journey, stage))
        return len(self._exits) - 1

    def add_leaver(self, position: XY, exit_index: int, speed_m_s: float, radius_m: float) -> int:
        """An agent walking to exit ``exit_index``; its id."""
        journey, stage = self._exits[exit_index]
        return self._add(position, journey, stage, speed_m_s, radius_m)

    def add_stander(self, position: XY, spot: XY, speed_m_s: float, radius_m: float) -> int:
        """An agent walking to ``spot`` and standing there; its id."""
        agent = self._add(position, *self._steer, speed_m_s, radius_m)
        self._sim.agent(agent).target = spot
        return agent

    def _add(self, position: XY, journey: int, stage: int, speed: float, radius: float) -> int:
        parameters = jps.CollisionFreeSpeedModelAgentParameters(
            position=position,
            journey_id=journey,
            stage_id=stage,
            desired_speed=speed,
            radius=radius,
        )
        with _translated(f"agent at {position} refused"):
            agent = int(self._sim.add_agent(parameters))
        self._alive.add(agent)
        return agent

    def send_to_exit(self, agent: int, exit_index: int) -> None:
        """Make a standing agent leave through exit ``exit_index``."""
        journey, stage = self._exits[exit_index]
        self._sim.switch_agent_journey(agent_id=agent, journey_id=journey, stage_id=stage)

    def position(self, agent: int) -> XY:
        x, y = self._sim.agent(agent).position
        return (float(x), float(y))

    def is_free(self, position: XY, clearance_m: float) -> bool:
        """Whether no agent stands within ``clearance_m`` of ``position``."""
        return not list(self._sim.agents_in_range(position, clearance_m))

    def advance(self, seconds: float = 1.0) -> list[tuple[float, int]]:
        """Advance by ``seconds``; the agents that left meanwhile, as (time, id) pairs."""
        left: list[tuple[float, int]] = []
        for _ in range(max(1, round(seconds * self._steps_per_s))):
            with _translated("the simulation broke down (a smaller time step may help)"):
                self._sim.iterate()
            removed = [int(a) for a in self._sim.removed_agents() if int(a) in self._alive]
            if removed:
                at = float(self._sim.elapsed_time())
                left.extend((at, agent) for agent in removed)
                self._alive.difference_update(removed)
        # JuPedSim 1.4 now and then removes an agent at an exit without listing it: whoever is
        # gone unlisted left during this advance (stamped at its end)
        if len(self._alive) != self._sim.agent_count():
            present = {int(agent.id) for agent in self._sim.agents()}
            at = float(self._sim.elapsed_time())
            left.extend((at, agent) for agent in sorted(self._alive - present))
            self._alive &= present
        return left

    @property
    def elapsed_s(self) -> float:
        return float(self._sim.elapsed_time())

    @property
    def agent_count(self) -> int:
        return int(self._sim.agent_count())

    def positions_by_agent(self) -> dict[int, XY]:
        """Every agent's position, by agent id."""
        return {
            int(agent.id): (float(agent.position[0]), float(agent.position[1]))
            for agent in self._sim.agents()
        }

    def positions(self) -> np.ndarray:
        """Every agent's position, one (x, y) row each."""
        rows = [agent.position for agent in self._sim.agents()]
        return np.array(rows, dtype=float).reshape(-1, 2)
