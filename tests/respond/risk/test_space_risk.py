"""Risk per space: never below the highest current detection; score, grade and reasons on top."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.city import CityModel
from smartspaces.config.risk import RiskSettings
from smartspaces.events import Detection, Level, Situation, SmartSpace
from smartspaces.respond.risk import RiskAssessor, SpaceRiskAssessor
from tests.conftest import T0
from tests.respond.risk.conftest import at, crowd, event, infra


def detection(level: Level, minute: int, kind: str = "crowd.density_level") -> Detection:
    return Detection(
        source="crowd.density",
        space_id="plaza",
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0,
        derived_from=(f"obs-{minute}",),
        detector="crowd.density",
        detection_type=kind,
        level=level,
        summary=f"density {level.value}",
    )


def test_risk_follows_the_highest_current_detection() -> None:
    risk = SpaceRiskAssessor()
    amber = risk.step(detection(Level.AMBER, 1), T0)
    assert amber is not None and amber.level == Level.AMBER and amber.asset_id is None
    assert amber.derived_from == (detection(Level.AMBER, 1).id,)
    assert amber.reasons[0] == "density amber" and amber.reasons[1].startswith("Risk grade ")
    assert amber.grade is not None and 0 < amber.score < 1
    other = risk.step(detection(Level.RED, 2, kind="video.zone_density"), T0)
    assert other is not None and other.level == Level.RED and other.score > amber.score
    # the crowd detector calming down does not lower the level while video still says red
    calmer = risk.step(detection(Level.NORMAL, 3), T0)
    assert calmer is None or calmer.level == Level.RED
    assert risk.level("plaza") == Level.RED


def test_the_triggering_detection_comes_first_in_the_provenance(
    spaces: dict[str, SmartSpace],
) -> None:
    # alerts are explained through derived_from[0]: it must be the detection that moved the risk
    risk = RiskAssessor(spaces)
    first = event(Level.AMBER, 0)
    risk.step(first, at(0))
    red = crowd(Level.RED, 10, 4.5)
    found = risk.step(red, at(10))
    assert found[-1].derived_from[:2] == (red.id, first.id)


LEVELS = st.sampled_from(list(Level))
KINDS = st.sampled_from(["crowd.density_level", "video.zone_density", "cyber.port_scan"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(KINDS, LEVELS, st.floats(0, 1), st.floats(0, 8), st.integers(0, 120)),
        min_size=1,
        max_size=25,
    )
)
def test_the_level_is_never_below_the_highest_current_detection(
    steps: list[tuple[str, Level, float, float, int]],
) -> None:
    risk = RiskAssessor({})
    latest: dict[str, Level] = {}
    clock = 0
    for kind, level, confidence, density, gap_s in steps:
        clock += gap_s  # under the evidence lifetime: everything seen is still current
        measured = crowd(level, clock, density) if kind == "crowd.density_level" else None
        item = measured or event(level, clock, kind=kind, confidence=confidence)
        for found in risk.step(item, at(clock)):
            assert 0 <= found.score <= 1 and found.grade in range(1, 6)
        latest[kind] = level
        highest = max(latest.values(), key=lambda lvl: lvl.rank)
        # without infrastructure the score cannot reach grade 5, so the level is exactly that
        assert risk.level("plaza") == highest


def test_event_like_evidence_fades_and_expires(spaces: dict[str, SmartSpace]) -> None:
    risk = RiskAssessor(spaces, settings=RiskSettings(half_life_s=600, evidence_ttl_s=1800))
    first = risk.step(event(Level.RED, 0), at(0))[-1]
    faded = risk.tick(at(600))
    assert faded and faded[-1].level == Level.RED and faded[-1].score < first.score
    gone = risk.tick(at(1801))
    assert gone and gone[-1].level == Level.NORMAL and gone[-1].score == 0
    assert risk.tick(at(7200)) == []


def test_a_crowd_measure_stands_until_replaced(spaces: dict[str, SmartSpace]) -> None:
    risk = RiskAssessor(spaces)
    risk.step(crowd(Level.RED, 0, 4.5), at(0))
    assert risk.tick(at(6 * 3600)) == []
    assert risk.level("plaza") == Level.RED


def test_more_people_at_the_same_level_is_more_risk(spaces: dict[str, SmartSpace]) -> None:
    risk = RiskAssessor(spaces)
    low = risk.step(crowd(Level.RED, 0, 4.0), at(0))[-1]
    high = risk.step(crowd(Level.RED, 10, 6.0, space="calle"), at(10))[-1]
    assert high.score > low.score and "6.00 persons/m2" in high.reasons[1]


def test_a_situation_counts_like_a_detection(spaces: dict[str, SmartSpace]) -> None:
    risk = RiskAssessor(spaces)
    situation = Situation(
        source="fusion",
        space_id="plaza",
        observed_at=at(0),
        received_at=at(0),
        situation_type="crowd.crush_risk",
        level=Level.RED,
        confidence=0.8,
        summary="Crush risk at the south access",
        started_at=at(0),
    )
    found = risk.step(situation, at(0))
    assert found[-1].level == Level.RED and found[-1].derived_from == (situation.id,)
    assert found[-1].reasons[0] == "Crush risk at the south access"


def test_losing_vital_infrastructure_makes_a_quiet_space_amber(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    # the outage is reported for the street, so the square has no detection of its own
    risk.step(infra("down", "substation-s", 0, space="calle"), at(0))
    assert risk.level("plaza") == Level.NORMAL  # the hospital on backup is not enough
    found = [r for r in risk.tick(at(60)) if r.asset_id is None]
    assert found[-1].space_id == "plaza" and found[-1].level == Level.AMBER
    assert "Level raised to amber: infrastructure serving it is out." in found[-1].reasons
    assert any(
        reason.startswith("Metro M, which serves it, is down") for reason in found[-1].reasons
    )


def test_an_extreme_grade_makes_the_space_critical(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    risk.step(crowd(Level.RED, 0, 4.2), at(0))
    found = risk.step(infra("down", "substation-s", 0), at(0))  # a red report in the square
    assert [r.level for r in found if r.asset_id is None] == [Level.RED]
    found = [r for r in risk.tick(at(60)) if r.asset_id is None]  # and then the metro is lost
    assert found[-1].grade == 5 and found[-1].level == Level.CRITICAL
    assert "Level raised to critical: extreme risk grade." in found[-1].reasons


def test_restore_does_not_publish_again(spaces: dict[str, SmartSpace]) -> None:
    risk = SpaceRiskAssessor(spaces=spaces)
    risk.restore([detection(Level.RED, 1), detection(Level.AMBER, 2, kind="video.zone_density")])
    assert risk.level("plaza") == Level.RED
    same = risk.step(detection(Level.RED, 3), T0)
    assert same is None or same.level == Level.RED
