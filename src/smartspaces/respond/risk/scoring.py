"""The risk arithmetic, pure: likelihood x exposure x vulnerability -> score, grade, level.

- likelihood: how sure we are that something is going wrong, from the current detections and
  situations (their level and confidence; event-like evidence fading with age), combined as
  independent signs (noisy-OR), so two ambers say more than one but never more than certain;
- exposure: how many people it would hit, from the measured crowd density (1 at Fruin F);
- vulnerability: how badly the space could cope, from the assets serving it being degraded or
  down, weighted by their criticality (noisy-OR again).

score = likelihood x (e + (1 - e) exposure) x (v + (1 - v) vulnerability), where the floors e
and v keep a real threat in an empty space, or with everything up, from scoring zero. Each factor
is in [0, 1] and the score rises with each, so more evidence, more people or less infrastructure
never lowers the risk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from smartspaces.config.risk import RiskSettings
from smartspaces.events import Level

AssetState = Literal["up", "degraded", "down"]
STATE_RANK: dict[AssetState, int] = {"up": 0, "degraded": 1, "down": 2}
LEVEL_WEIGHT = {Level.NORMAL: 0.0, Level.AMBER: 0.4, Level.RED: 0.75, Level.CRITICAL: 1.0}
"""How strongly a level says "something is wrong" (the scores the first risk model used)."""


def _unit(value: float) -> float:
    # NaN (from a 0 x inf somewhere upstream) must not slip through as a score
    return 0.0 if math.isnan(value) else min(1.0, max(0.0, value))


def evidence_weight(
    level: Level, confidence: float, age_s: float, half_life_s: float, persistent: bool
) -> float:
    """One piece of evidence's weight: level x confidence, halved every half-life unless it is
    a standing state (a crowd measure, an outage) that holds until replaced."""
    weight = LEVEL_WEIGHT[level] * _unit(confidence)
    if persistent or age_s <= 0:
        return weight
    return weight * float(0.5 ** (age_s / half_life_s))


def combine(weights: Iterable[float]) -> float:
    """Independent signs combined (noisy-OR): 1 - prod(1 - w)."""
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - _unit(weight)
    return _unit(1.0 - miss)


def exposure(density_p_m2: float | None, settings: RiskSettings) -> float:
    """0 for an empty space, 1 at or above the density of full exposure."""
    if density_p_m2 is None:
        return settings.unknown_exposure
    return _unit(density_p_m2 / settings.full_exposure_p_m2)


def asset_weight(criticality: int, state: AssetState, settings: RiskSettings) -> float:
    """How much one asset's state counts against a space: criticality 5 down is 1."""
    share = {"up": 0.0, "degraded": settings.degraded_weight, "down": 1.0}[state]
    return _unit(share * criticality / 5)


def risk_score(
    likelihood: float, exposure_: float, vulnerability: float, settings: RiskSettings
) -> float:
    """The score in [0, 1], non-decreasing in each factor."""
    e, v = settings.exposure_floor, settings.vulnerability_floor
    score = _unit(likelihood) * (e + (1 - e) * _unit(exposure_))
    return _unit(score * (v + (1 - v) * _unit(vulnerability)))


def grade(score: float, settings: RiskSettings) -> int:
    """1 (low) to 5 (extreme): one more for each threshold the score reaches."""
    return 1 + sum(1 for threshold in settings.grade_thresholds if _unit(score) >= threshold)


def space_level(floor: Level, vulnerability: float, grade_: int, settings: RiskSettings) -> Level:
    """Never below the highest current detection (``floor``); at least amber when the space
    lost infrastructure that matters; critical at the extreme grade."""
    level = floor
    if vulnerability >= settings.amber_vulnerability and level.rank < Level.AMBER.rank:
        level = Level.AMBER
    if grade_ >= 5:
        level = Level.CRITICAL
    return level


def asset_level(state: AssetState, criticality: int) -> Level:
    """An asset's own level: amber degraded; down, by what it matters: a minor asset (1-2)
    amber, others red, a vital one (5) critical."""
    if state == "down":
        return (
            Level.CRITICAL if criticality >= 5 else Level.RED if criticality >= 3 else Level.AMBER
        )
    return Level.AMBER if state == "degraded" else Level.NORMAL
