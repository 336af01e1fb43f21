"""Fruin's level of service (A-F) and the density alert ladder, as pure functions.

Fruin (Pedestrian Planning and Design, 1971) grades space per person. Two tables matter here:
walkways (people moving: streets, corridors) and queuing or standing areas (people waiting: a
square during a show). The limits below are Fruin's, converted from m^2 per person to persons per
m^2 (density = 1 / area per person) and rounded as the literature quotes them.
"""

from __future__ import annotations

from typing import Literal

from smartspaces.events import Level, LevelOfService

AreaUse = Literal["walkway", "standing"]

# Upper density bound (persons/m^2, inclusive) of levels A..E; above E's bound is F.
_FRUIN_UPPER_P_M2: dict[AreaUse, tuple[float, float, float, float, float]] = {
    # walkway: A >= 3.25, B 2.32-3.25, C 1.39-2.32, D 0.93-1.39, E 0.46-0.93, F < 0.46 m^2/p
    "walkway": (1 / 3.25, 1 / 2.32, 1 / 1.39, 1 / 0.93, 1 / 0.46),
    # standing: A >= 1.21, B 0.93-1.21, C 0.65-0.93, D 0.28-0.65, E 0.19-0.28, F < 0.19 m^2/p
    "standing": (1 / 1.21, 1 / 0.93, 1 / 0.65, 1 / 0.28, 1 / 0.19),
}
_GRADES: tuple[LevelOfService, ...] = ("A", "B", "C", "D", "E")


def level_of_service(density_p_m2: float, use: AreaUse) -> LevelOfService:
    """Fruin's grade for a density in persons per square metre (negative densities are refused)."""
    if not density_p_m2 >= 0:  # also catches NaN
        raise ValueError(f"density must be a non-negative number, got {density_p_m2!r}")
    for grade, upper in zip(_GRADES, _FRUIN_UPPER_P_M2[use], strict=True):
        if density_p_m2 <= upper:
            return grade
    return "F"


def area_use(space_type: str) -> AreaUse:
    """Squares, venues and zones are graded as standing areas; streets and stations as walkways."""
    return "walkway" if space_type in ("street", "station") else "standing"


def ladder_level(
    density_p_m2: float,
    amber_p_m2: float,
    red_p_m2: float,
    critical_p_m2: float,
    previous: Level = Level.NORMAL,
    hysteresis: float = 0.05,
) -> Level:
    """The alert level for a density; stepping down needs ``hysteresis`` (a fraction) below the
    threshold, so a density hovering on a line does not flap between two levels."""
    thresholds = ((Level.CRITICAL, critical_p_m2), (Level.RED, red_p_m2), (Level.AMBER, amber_p_m2))
    for level, threshold in thresholds:
        if density_p_m2 >= threshold:
            raw = level
            break
    else:
        raw = Level.NORMAL
    if raw.rank >= previous.rank:
        return raw
    # Going down: stay at the previous level while still within the hysteresis band of it.
    for level, threshold in thresholds:
        if level == previous and density_p_m2 >= threshold * (1 - hysteresis):
            return previous
    # Fell through more than one band, or cleared the band: recompute from the highest kept level.
    for level, threshold in thresholds:
        if level.rank < previous.rank and density_p_m2 >= threshold * (1 - hysteresis):
            return level
    return Level.NORMAL
