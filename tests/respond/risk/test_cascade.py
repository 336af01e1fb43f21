"""Cascades over the dependency graph: failures spread in order, with the declared delays and
backups; restoring lowers everything again; the timing does not depend on how often time ticks."""

from __future__ import annotations

from smartspaces.city import CityModel
from smartspaces.events import Level, RiskLevel, SmartSpace
from smartspaces.respond.risk import RiskAssessor
from tests.respond.risk.conftest import at, crowd, infra


def assets(found: list[RiskLevel]) -> list[tuple[str, str, float]]:
    """(asset, level, seconds after T0) of each asset risk, in order."""
    return [
        (r.asset_id, r.level.value, (r.observed_at - at(0)).total_seconds())
        for r in found
        if r.asset_id is not None
    ]


def plaza(found: list[RiskLevel]) -> list[RiskLevel]:
    return [r for r in found if r.asset_id is None and r.space_id == "plaza"]


def test_a_substation_failure_spreads_in_order_with_its_delays(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    assert risk.step(crowd(Level.AMBER, 0, 2.5), at(0))  # a crowd is there already
    before = risk.space_risk("plaza")
    assert before is not None and before.level == Level.AMBER

    first = risk.step(infra("down", "substation-s", 100), at(100))
    # at once: the substation itself, and the hospital going on backup power
    assert assets(first) == [("substation-s", "critical", 100), ("hospital-h", "amber", 100)]
    hospital = next(r for r in first if r.asset_id == "hospital-h")
    assert "on backup power" in hospital.reasons[0] and "8 h of autonomy" in hospital.reasons[0]
    assert hospital.space_id == "plaza" and hospital.grade is not None
    assert first[0].derived_from == (infra("down", "substation-s", 100).id,)
    assert first[0].space_id == "plaza"  # the substation serves the square through the metro

    assert risk.tick(at(159)) == []  # the loss has not reached the metro yet
    metro = risk.tick(at(160))
    assert assets(metro) == [("metro-m", "red", 160)]
    assert "lost power from Substation S" in metro[0].reasons[0]
    assert assets(risk.tick(at(189))) == []
    camera = risk.tick(at(190))
    assert assets(camera) == [("camera-c", "amber", 190)]
    assert risk.asset_state("camera-c") == "down" and risk.asset_state("hospital-h") == "degraded"

    # backup capacity: the hospital holds for 8 h, then goes down
    assert assets(risk.tick(at(100 + 8 * 3600 - 1))) == []
    hospital_down = risk.tick(at(100 + 8 * 3600))
    assert assets(hospital_down) == [("hospital-h", "critical", 100 + 8 * 3600)]
    assert "backup power ran out (8 h)" in hospital_down[0].reasons[0]


def test_the_square_risk_rises_with_each_step_of_the_cascade(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    risk.step(crowd(Level.RED, 0, 4.2), at(0))
    scores = [risk.space_risk("plaza").score]  # type: ignore[union-attr]
    found = risk.step(infra("down", "substation-s", 10), at(10))
    found += risk.tick(at(70)) + risk.tick(at(100)) + risk.tick(at(10 + 8 * 3600))
    spaces_risks = plaza(found)
    assert [r.observed_at for r in spaces_risks] == sorted(r.observed_at for r in spaces_risks)
    scores += [r.score for r in spaces_risks]
    assert scores == sorted(scores) and scores[-1] > scores[0]
    last = spaces_risks[-1]
    assert last.level.rank >= Level.RED.rank  # never below the crowd's red
    assert any("Metro M, which serves it, is down" in reason for reason in last.reasons)
    assert any("Hospital H, which serves it, is down" in reason for reason in last.reasons)
    assert infra("down", "substation-s", 10).id in last.derived_from


def test_restoring_the_substation_lowers_its_dependents(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    risk.step(crowd(Level.AMBER, 0, 2.5), at(0))
    risk.step(infra("down", "substation-s", 0), at(0))
    risk.tick(at(3600))
    high = risk.space_risk("plaza")
    assert high is not None
    back = risk.step(infra("up", "substation-s", 3600), at(3600))
    assert sorted(assets(back)) == [
        ("camera-c", "normal", 3600),
        ("hospital-h", "normal", 3600),
        ("metro-m", "normal", 3600),
        ("substation-s", "normal", 3600),
    ]
    low = plaza(back)[-1]
    assert low.score < high.score and low.level == Level.AMBER  # the crowd still says amber
    assert all(risk.asset_state(a) == "up" for a in town.assets)
    assert risk.tick(at(8 * 3600 + 60)) == []  # nothing left to come due


def test_restoring_before_the_loss_arrives_cancels_it(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    risk.step(infra("down", "substation-s", 0), at(0))
    risk.step(infra("up", "substation-s", 30), at(30))
    assert assets(risk.tick(at(3600))) == []
    assert risk.asset_state("metro-m") == "up"


def test_one_big_tick_gives_the_same_events_as_many_small_ones(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    fine, coarse = RiskAssessor(spaces, town), RiskAssessor(spaces, town)
    failure = infra("down", "substation-s", 0)
    small = fine.step(failure, at(0))
    for second in range(1, 200):
        small += fine.tick(at(second))
    big = coarse.step(failure, at(0)) + coarse.tick(at(199))
    assert [r.id for r in big] == [r.id for r in small]


def test_redundant_feeds_degrade_then_fail(
    spaces: dict[str, SmartSpace], redundant: CityModel
) -> None:
    risk = RiskAssessor(spaces, redundant)
    risk.step(infra("down", "substation-t", 0), at(0))
    found = risk.tick(at(10))
    assert assets(found) == [("metro-m", "amber", 10)]  # one of two feeds lost
    assert "1 other feed(s) still up" in found[0].reasons[0]
    found = risk.step(infra("down", "substation-s", 100), at(100))
    found += risk.tick(at(200))
    assert ("metro-m", "red", 160) in assets(found)  # both lost: down when the last one is


def test_a_late_report_dates_the_cascade_from_the_failure(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    risk = RiskAssessor(spaces, town)
    risk.step(crowd(Level.NORMAL, 500, 0.5), at(500))  # time is already at 500 s
    found = risk.step(infra("down", "substation-s", 0), at(500))  # failed at 0, reported late
    assert assets(found)[:4] == [
        ("substation-s", "critical", 0),
        ("hospital-h", "amber", 0),
        ("metro-m", "red", 60),
        ("camera-c", "amber", 90),
    ]


def test_an_unknown_asset_is_plain_evidence(spaces: dict[str, SmartSpace], town: CityModel) -> None:
    risk = RiskAssessor(spaces, town)
    found = risk.step(infra("down", "substation-x", 0), at(0))
    assert assets(found) == []
    assert risk.level("plaza") == Level.RED  # the report's own level stands


def test_restart_resumes_the_cascade_without_repeating_it(
    spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    stored = [crowd(Level.AMBER, 0, 2.5), infra("down", "substation-s", 10)]
    risk = RiskAssessor(spaces, town)
    risk.restore(stored)
    assert risk.level("plaza") == Level.RED  # the stored outage report still stands
    assert risk.asset_state("substation-s") == "down"
    assert risk.asset_state("hospital-h") == "degraded"
    assert assets(risk.tick(at(70))) == [("metro-m", "red", 70)]
