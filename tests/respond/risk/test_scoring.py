"""The risk arithmetic: bounded, graded 1-5, and never lower for more evidence, more people or
less infrastructure (hypothesis over the whole input range, odd settings included)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smartspaces.config.risk import RiskSettings
from smartspaces.events import Level
from smartspaces.respond.risk import scoring

UNIT = st.floats(0, 1)
ANY = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def risk_settings(draw: st.DrawFn) -> RiskSettings:
    cuts = sorted(draw(st.lists(st.floats(0.01, 1), min_size=4, max_size=4, unique=True)))
    return RiskSettings(
        exposure_floor=draw(UNIT),
        vulnerability_floor=draw(UNIT),
        grade_thresholds=tuple(cuts),  # type: ignore[arg-type]
    )


@given(ANY, ANY, ANY, risk_settings())
def test_score_is_in_unit_range_and_grade_in_one_to_five(
    likelihood: float, exposure: float, vulnerability: float, settings: RiskSettings
) -> None:
    score = scoring.risk_score(likelihood, exposure, vulnerability, settings)
    assert 0 <= score <= 1
    assert scoring.grade(score, settings) in {1, 2, 3, 4, 5}


@given(UNIT, UNIT, UNIT, UNIT, risk_settings())
def test_score_is_monotone_in_likelihood(
    a: float, b: float, exposure: float, vulnerability: float, settings: RiskSettings
) -> None:
    low, high = sorted((a, b))
    assert scoring.risk_score(low, exposure, vulnerability, settings) <= scoring.risk_score(
        high, exposure, vulnerability, settings
    )


@given(UNIT, UNIT, UNIT, UNIT, risk_settings())
def test_score_is_monotone_in_exposure(
    likelihood: float, a: float, b: float, vulnerability: float, settings: RiskSettings
) -> None:
    low, high = sorted((a, b))
    assert scoring.risk_score(likelihood, low, vulnerability, settings) <= scoring.risk_score(
        likelihood, high, vulnerability, settings
    )


@given(UNIT, UNIT, UNIT, UNIT, risk_settings())
def test_score_is_monotone_in_vulnerability(
    likelihood: float, exposure: float, a: float, b: float, settings: RiskSettings
) -> None:
    low, high = sorted((a, b))
    assert scoring.risk_score(likelihood, exposure, low, settings) <= scoring.risk_score(
        likelihood, exposure, high, settings
    )


@given(UNIT, UNIT, risk_settings())
def test_grade_is_monotone_in_score(a: float, b: float, settings: RiskSettings) -> None:
    low, high = sorted((a, b))
    assert scoring.grade(low, settings) <= scoring.grade(high, settings)


@given(st.floats(0, 20), st.floats(0, 20))
def test_exposure_rises_with_density_and_saturates(a: float, b: float) -> None:
    settings = RiskSettings()
    low, high = sorted((a, b))
    assert 0 <= scoring.exposure(low, settings) <= scoring.exposure(high, settings) <= 1
    assert scoring.exposure(settings.full_exposure_p_m2, settings) == 1
    assert scoring.exposure(None, settings) == settings.unknown_exposure


@given(st.lists(UNIT, max_size=10), UNIT)
def test_more_evidence_never_lowers_the_likelihood(weights: list[float], extra: float) -> None:
    before = scoring.combine(weights)
    after = scoring.combine([*weights, extra])
    assert 0 <= before <= after <= 1


@given(st.sampled_from(list(Level)), UNIT, st.floats(0, 1e6), st.floats(0, 1e6))
def test_evidence_fades_with_age_unless_it_stands(
    level: Level, confidence: float, a: float, b: float
) -> None:
    young, old = sorted((a, b))
    fading = [scoring.evidence_weight(level, confidence, t, 600, False) for t in (young, old)]
    assert fading[0] >= fading[1] >= 0
    standing = {scoring.evidence_weight(level, confidence, t, 600, True) for t in (young, old)}
    assert len(standing) == 1


@given(st.sampled_from(list(Level)), UNIT, st.integers(1, 5))
def test_the_space_level_never_goes_below_its_floor(
    floor: Level, vulnerability: float, grade: int
) -> None:
    level = scoring.space_level(floor, vulnerability, grade, RiskSettings())
    assert level.rank >= floor.rank


def test_asset_levels_follow_state_and_criticality() -> None:
    assert scoring.asset_level("down", 5) == Level.CRITICAL
    assert scoring.asset_level("down", 4) == Level.RED
    assert scoring.asset_level("down", 2) == Level.AMBER
    assert scoring.asset_level("degraded", 5) == Level.AMBER
    assert scoring.asset_level("up", 5) == Level.NORMAL
