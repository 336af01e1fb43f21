"""Green Guide exit-flow limits: how fast a space can empty through its exits.

The UK Guide to Safety at Sports Grounds (the "Green Guide", 6th edition, 2018) sets the rate at
which people can safely pass along an exit route: 82 persons per metre of width per minute on
level ground or ramps, 66 on stairways (people slow down and bunch on steps). The minimum time to
empty a space is its occupancy over the summed capacity of the open exits. It is a lower bound:
it assumes every exit is used to capacity from the first second, and ignores walking time to the
exits, so the real time is longer; the Guide compares it with an emergency evacuation time
(typically 2.5 to 8 minutes, set per venue).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from smartspaces.detect.crowd.errors import CrowdMeasureError

RouteKind = Literal["level", "stairs"]

GREEN_GUIDE_P_M_MIN: dict[RouteKind, float] = {"level": 82.0, "stairs": 66.0}
"""Persons per metre of exit width per minute (Green Guide, 6th edition)."""


@dataclass(frozen=True)
class Exit:
    """One exit route: its narrowest clear width, its kind, and whether it can be used now."""

    name: str
    width_m: float
    kind: RouteKind = "level"
    open: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.width_m) and self.width_m > 0):
            raise CrowdMeasureError(f"exit {self.name!r}: width must be a positive number of m")
        if self.kind not in GREEN_GUIDE_P_M_MIN:
            raise CrowdMeasureError(f"exit {self.name!r}: kind must be 'level' or 'stairs'")

    @property
    def capacity_p_min(self) -> float:
        """People per minute this route can carry at the Green Guide rate."""
        return self.width_m * GREEN_GUIDE_P_M_MIN[self.kind]


def exit_capacity_p_min(exits: Sequence[Exit]) -> float:
    """Summed Green Guide capacity of the open exits, persons per minute."""
    return sum(e.capacity_p_min for e in exits if e.open)


def minimum_emptying_time_s(occupancy_persons: float, exits: Sequence[Exit]) -> float:
    """Least time (s) for ``occupancy_persons`` to leave through the open ``exits``.

    ``inf`` when people remain and every exit is closed: the space cannot be emptied.
    """
    if not (math.isfinite(occupancy_persons) and occupancy_persons >= 0):
        raise CrowdMeasureError(f"occupancy must be a finite number >= 0, got {occupancy_persons}")
    if occupancy_persons == 0:
        return 0.0
    capacity = exit_capacity_p_min(exits)
    return math.inf if capacity == 0 else occupancy_persons / capacity * 60.0


def safe_occupancy_persons(exits: Sequence[Exit], evacuation_time_s: float) -> float:
    """The most people the open exits can clear within ``evacuation_time_s``."""
    if not (math.isfinite(evacuation_time_s) and evacuation_time_s > 0):
        raise CrowdMeasureError("the evacuation time must be a positive number of seconds")
    return exit_capacity_p_min(exits) * evacuation_time_s / 60.0


def required_exit_width_m(
    occupancy_persons: float, evacuation_time_s: float, kind: RouteKind = "level"
) -> float:
    """Exit width needed to clear ``occupancy_persons`` within ``evacuation_time_s``."""
    if not (math.isfinite(evacuation_time_s) and evacuation_time_s > 0):
        raise CrowdMeasureError("the evacuation time must be a positive number of seconds")
    if not (math.isfinite(occupancy_persons) and occupancy_persons >= 0):
        raise CrowdMeasureError(f"occupancy must be a finite number >= 0, got {occupancy_persons}")
    return occupancy_persons / (GREEN_GUIDE_P_M_MIN[kind] * evacuation_time_s / 60.0)
