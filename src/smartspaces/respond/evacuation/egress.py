"""Egress time of a space for its current occupancy: from simulation runs where they exist, from
the capacity of its open exits otherwise.

**Flow capacity.** ``persons / (sum of open exit widths x flow)``, the flow being the Green
Guide's (Guide to Safety at Sports Grounds, 6th edition, 2018): 82 persons per metre of width per
minute on level routes, about 1.37 persons/m/s (the SFPE Handbook's maximum specific flow, 1.3
persons/s per metre of effective width, is close). It is a lower bound: every exit used to
capacity from the first second, no walking time, nobody choosing the crowded exit.

**Simulation.** Egress runs of the same space with the same exits blocked (JuPedSim, see
``smartspaces simulate egress``) are interpolated linearly in the number of persons; below the
smallest run the line starts at (0 persons, 0 s); above the largest, each extra person adds one
flow-capacity slot (a space full enough to queue at its exits empties at their capacity). Runs
with other exits blocked, or that did not empty the space, are not used.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from shapely.geometry import LineString

from smartspaces.config.simulation import GREEN_GUIDE_FLOW_P_M_S
from smartspaces.respond.evacuation.errors import EvacuationError


@dataclass(frozen=True)
class EvacuationExit:
    """A way out: its id, its name, its edge (a metric line; its length is the width)."""

    id: str
    name: str
    edge: LineString
    open: bool = True

    def __post_init__(self) -> None:
        width = self.edge.length
        if self.edge.is_empty or not (math.isfinite(width) and width > 0):
            raise EvacuationError(f"exit {self.id!r}: its edge must be a line of positive length")

    @property
    def width_m(self) -> float:
        return float(self.edge.length)

    def capacity_p_s(self, flow_p_m_s: float = GREEN_GUIDE_FLOW_P_M_S) -> float:
        return self.width_m * flow_p_m_s if self.open else 0.0


@dataclass(frozen=True)
class SimulatedEgress:
    """One simulation run: ``persons`` left with ``blocked`` closed in ``egress_s``."""

    persons: int
    blocked: frozenset[str]
    egress_s: float


@dataclass(frozen=True)
class EgressEstimate:
    """How long the space takes to empty, how that was worked out, through which exits."""

    persons: float
    seconds: float  # inf when people are inside and no exit is open
    method: Literal["simulation", "flow_capacity"]
    open_exits: tuple[str, ...]
    open_width_m: float
    lower_bound_s: float  # the flow-capacity figure, for comparison

    @property
    def minutes(self) -> float:
        return self.seconds / 60.0


def _persons(value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise EvacuationError(f"occupancy must be a finite number >= 0, got {value!r}")
    return value


def _flow(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise EvacuationError(f"the exit flow must be a positive number, got {value!r}")
    return value


def flow_capacity_egress_s(
    persons: float,
    exits: Sequence[EvacuationExit],
    flow_p_m_s: float = GREEN_GUIDE_FLOW_P_M_S,
    blocked: Collection[str] = (),
) -> float:
    """Least time for ``persons`` to leave through the open exits not in ``blocked``."""
    if _persons(persons) == 0:
        return 0.0
    capacity = sum(e.capacity_p_s(_flow(flow_p_m_s)) for e in exits if e.id not in blocked)
    return math.inf if capacity == 0 else persons / capacity


def simulated_egress_s(
    persons: float,
    runs: Sequence[SimulatedEgress],
    blocked: Collection[str],
    capacity_p_s: float,
) -> float | None:
    """Egress time interpolated from the runs made with exactly ``blocked`` closed, or None."""
    closed = frozenset(blocked)
    usable: dict[int, float] = {}
    for run in runs:
        if run.blocked == closed and run.persons > 0 and math.isfinite(run.egress_s):
            # two runs of one size: the slower one counts (the table errs on the safe side)
            usable[run.persons] = max(run.egress_s, usable.get(run.persons, 0.0))
    if not usable or _persons(persons) == 0:
        return 0.0 if usable else None
    points = [(0.0, 0.0), *sorted((float(p), s) for p, s in usable.items())]
    for (p0, s0), (p1, s1) in zip(points, points[1:], strict=False):
        if persons <= p1:
            return s0 + (s1 - s0) * (persons - p0) / (p1 - p0)
    last_p, last_s = points[-1]
    return math.inf if capacity_p_s <= 0 else last_s + (persons - last_p) / capacity_p_s


def estimate_egress(
    persons: float,
    exits: Sequence[EvacuationExit],
    runs: Sequence[SimulatedEgress] = (),
    blocked: Collection[str] = (),
    flow_p_m_s: float = GREEN_GUIDE_FLOW_P_M_S,
) -> EgressEstimate:
    """The egress time for ``persons`` with the closed exits and ``blocked`` out of use."""
    unknown = set(blocked) - {e.id for e in exits}
    if unknown:
        raise EvacuationError(f"no such exit: {', '.join(sorted(unknown))}")
    closed = frozenset(blocked) | {e.id for e in exits if not e.open}
    usable = [e for e in exits if e.id not in closed]
    capacity = sum(e.capacity_p_s(_flow(flow_p_m_s)) for e in usable)
    lower = flow_capacity_egress_s(persons, exits, flow_p_m_s, closed)
    simulated = simulated_egress_s(persons, runs, closed, capacity) if usable else None
    return EgressEstimate(
        persons=persons,
        seconds=simulated if simulated is not None else lower,
        method="simulation" if simulated is not None else "flow_capacity",
        open_exits=tuple(e.id for e in usable),
        open_width_m=sum(e.width_m for e in usable),
        lower_bound_s=lower,
    )
