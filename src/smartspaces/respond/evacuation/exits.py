"""Exits ranked for an evacuation: away from the hazard first, then by how many they can carry.

An exit whose edge lies within ``clearance_m`` of the hazard (a point: a fire, an abandoned
object, a fight; or an area: a collapsed stand, a crush) is not to be used: people sent there
would walk into or past it. The others score their flow capacity (width x flow), discounted
near the hazard: half at the clearance distance, rising linearly to full at twice the clearance,
so a wide exit just outside the cordon ranks below a somewhat narrower one well clear of it.
Without a hazard the ranking is by capacity alone. Closed exits are listed last, never usable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from smartspaces.config.simulation import GREEN_GUIDE_FLOW_P_M_S
from smartspaces.respond.evacuation.egress import EvacuationExit
from smartspaces.respond.evacuation.errors import EvacuationError

DEFAULT_CLEARANCE_M = 25.0
"""An exit this close to a hazard is not used: about the stand-off police keep around a fire
or a suspected device in a crowd before the bomb squad sets its own, wider, cordon."""


@dataclass(frozen=True)
class RankedExit:
    """An exit's place in the ranking and why."""

    exit: EvacuationExit
    hazard_distance_m: float  # inf without a hazard
    capacity_p_s: float
    score: float  # capacity discounted near the hazard; 0 when not usable
    usable: bool
    reason: str


def _weight(distance_m: float, clearance_m: float) -> float:
    if math.isinf(distance_m) or clearance_m == 0:
        return 1.0
    return min(1.0, distance_m / (2.0 * clearance_m))


def rank_exits(
    exits: Sequence[EvacuationExit],
    hazard: BaseGeometry | None = None,
    clearance_m: float = DEFAULT_CLEARANCE_M,
    flow_p_m_s: float = GREEN_GUIDE_FLOW_P_M_S,
) -> list[RankedExit]:
    """``exits`` best first: usable ones by score (ties: farther from the hazard, then id),
    then those too close to the hazard (nearest last), then the closed ones."""
    if not (math.isfinite(clearance_m) and clearance_m >= 0):
        raise EvacuationError(f"clearance must be a finite number >= 0 m, got {clearance_m!r}")
    if hazard is not None and (hazard.is_empty or not hazard.is_valid):
        raise EvacuationError("the hazard must be a valid, non-empty point or area")
    ranked = []
    for item in exits:
        distance = math.inf if hazard is None else float(item.edge.distance(hazard))
        capacity = item.width_m * flow_p_m_s
        if not item.open:
            usable, score, reason = False, 0.0, "closed"
        elif distance < clearance_m:
            usable, score, reason = False, 0.0, f"{distance:.0f} m from the hazard"
        else:
            usable, score = True, capacity * _weight(distance, clearance_m)
            where = "" if hazard is None else f", {distance:.0f} m from the hazard"
            reason = f"{capacity:.1f} persons/s{where}"
        ranked.append(RankedExit(item, distance, capacity, score, usable, reason))
    return sorted(
        ranked,
        key=lambda r: (not r.usable, not r.exit.open, -r.score, -r.hazard_distance_m, r.exit.id),
    )
