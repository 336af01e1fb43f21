"""Evacuation advice for a space and its current occupancy: which exits, and how long.

>>> from shapely.geometry import LineString, Point
>>> exits = [
...     EvacuationExit("north", "North street", LineString([(0, 100), (10, 100)])),
...     EvacuationExit("south", "South street", LineString([(0, 0), (6, 0)])),
... ]
>>> advice = advise("plaza", 1200, exits, hazard=Point(5, 95))
>>> [r.exit.id for r in advice.exits if r.usable]
['south']
>>> round(advice.egress.seconds), advice.egress.method, round(advice.all_open.seconds)
(146, 'flow_capacity', 55)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from smartspaces.config.simulation import GREEN_GUIDE_FLOW_P_M_S
from smartspaces.respond.evacuation.egress import (
    EgressEstimate,
    EvacuationExit,
    SimulatedEgress,
    estimate_egress,
)
from smartspaces.respond.evacuation.exits import DEFAULT_CLEARANCE_M, RankedExit, rank_exits


@dataclass(frozen=True)
class EvacuationAdvice:
    """Exits best first, the egress time avoiding the hazard, and with every exit open."""

    space_id: str
    persons: float
    exits: tuple[RankedExit, ...]
    egress: EgressEstimate  # through the usable exits only
    all_open: EgressEstimate  # as if there were no hazard

    def lines(self) -> list[str]:
        """The advice in a few lines for an operator."""
        use = [r for r in self.exits if r.usable]
        avoid = [r for r in self.exits if not r.usable]
        out = [
            f"{self.space_id}: {self.persons:.0f} people; egress {self.egress.minutes:.1f} min "
            f"({self.egress.method.replace('_', ' ')}) through "
            f"{len(use)} exit(s), {self.all_open.minutes:.1f} min with every exit open"
        ]
        out += [f"  use {r.exit.name} ({r.exit.width_m:.1f} m): {r.reason}" for r in use]
        out += [f"  avoid {r.exit.name}: {r.reason}" for r in avoid]
        return out


def advise(
    space_id: str,
    persons: float,
    exits: Sequence[EvacuationExit],
    hazard: BaseGeometry | None = None,
    runs: Sequence[SimulatedEgress] = (),
    clearance_m: float = DEFAULT_CLEARANCE_M,
    flow_p_m_s: float = GREEN_GUIDE_FLOW_P_M_S,
) -> EvacuationAdvice:
    """Rank the exits around ``hazard`` and estimate the egress through the usable ones."""
    ranked = rank_exits(exits, hazard, clearance_m, flow_p_m_s)
    avoided = [r.exit.id for r in ranked if r.exit.open and not r.usable]
    return EvacuationAdvice(
        space_id=space_id,
        persons=persons,
        exits=tuple(ranked),
        egress=estimate_egress(persons, exits, runs, avoided, flow_p_m_s),
        all_open=estimate_egress(persons, exits, runs, (), flow_p_m_s),
    )
