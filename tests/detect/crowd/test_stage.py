"""The crowd stage: ladder, rate of rise and red forecast behind one step, with withdrawals."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config import CrowdSettings, ForecastSettings, ScenarioSettings
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.events import Detection, Level, Observation
from tests.conftest import T0, counts, square

AREA_M2 = 1000.0
GATES = ("north", "south", "east")


def stage(area_m2: float = AREA_M2) -> CrowdStage:
    return CrowdStage(CrowdSettings(), ForecastSettings(), {"plaza": square(area_m2=area_m2)})


def instant(at: datetime, entries: int, exits: int = 0) -> list[Observation]:
    """Three counters reporting one interval, entries split over them, all stamped ``at``."""
    found = []
    for k, gate in enumerate(GATES):
        share_in = entries // 3 + (1 if k < entries % 3 else 0)
        share_out = exits // 3 + (1 if k < exits % 3 else 0)
        found.append(counts("entries_count", share_in, at, sensor=f"in-{gate}"))
        found.append(counts("exits_count", share_out, at, sensor=f"out-{gate}"))
    return found


def play(crowd: CrowdStage, flows: list[tuple[int, int]], step_s: int = 10) -> list[Detection]:
    found: list[Detection] = []
    for k, (entries, exits) in enumerate(flows):
        at = T0 + timedelta(seconds=step_s * (k + 1))
        for observation in instant(at, entries, exits):
            found += crowd.step(observation, at)
    return found


def of_type(found: list[Detection], kind: str) -> list[Detection]:
    return [d for d in found if d.detection_type == kind]


def test_a_steady_fill_is_forecast_then_handed_over_to_the_ladder() -> None:
    # +100 people per 10 s on 1,000 m2: 0.6 persons/m2 per minute, red after 400 s
    found = play(stage(), [(100, 0)] * 45)
    forecasts = of_type(found, "crowd.red_forecast")
    rises = of_type(found, "crowd.density_rising_fast")
    ladder = of_type(found, "crowd.density_level")
    assert [d.level for d in ladder] == [Level.AMBER, Level.RED]
    red_at = ladder[1].observed_at
    assert [d.level for d in forecasts] == [Level.AMBER, Level.NORMAL]
    assert (red_at - forecasts[0].observed_at).total_seconds() >= 120
    assert [d.level for d in rises] == [Level.AMBER, Level.NORMAL]
    # both trend warnings are withdrawn right before the red detection, in the same step
    red_index = found.index(ladder[1])
    assert found[red_index - 2 : red_index] == sorted(
        [forecasts[1], rises[1]], key=lambda d: d.detector
    )
    assert "withdrawn" in forecasts[1].summary and forecasts[1].observed_at == red_at


def test_a_reading_is_taken_once_every_count_of_an_instant_is_in() -> None:
    found = play(stage(), [(100, 0)] * 20)
    first = of_type(found, "crowd.red_forecast")[0]
    # the reading is the balance once all three counters of its instant were in (100 people
    # per instant), never a part of one
    instants = (first.observed_at - T0).total_seconds() / 10
    assert first.crowd is not None and first.crowd.occupancy_persons == 100 * instants


def test_trend_warnings_name_the_counter_observations_behind_them() -> None:
    crowd, sent = stage(), []
    found: list[Detection] = []
    for k in range(30):
        at = T0 + timedelta(seconds=10 * (k + 1))
        for observation in instant(at, 100):
            sent.append(observation.id)
            found += crowd.step(observation, at)
    warning = of_type(found, "crowd.red_forecast")[0]
    assert warning.derived_from and set(warning.derived_from) <= set(sent)


def test_a_rise_that_stops_is_withdrawn_and_a_gathering_below_two_is_never_warned() -> None:
    # fast to 1.8 persons/m2, then a steady crowd with people coming and going
    found = play(stage(), [(100, 0)] * 18 + [(40, 40)] * 120)
    rises = of_type(found, "crowd.density_rising_fast")
    assert [d.level for d in rises] == [Level.AMBER, Level.NORMAL]
    assert "eased" in rises[1].summary
    forecasts = of_type(found, "crowd.red_forecast")
    assert [d.level for d in forecasts] in ([], [Level.AMBER, Level.NORMAL])
    assert of_type(found, "crowd.density_level") == []
    quiet = play(stage(), [(10, 0)] * 180 + [(20, 20)] * 180)  # 1.8 persons/m2 in 30 min
    assert quiet == []


def test_no_trend_warning_while_the_ladder_stands_at_red() -> None:
    crowd = stage()
    at = T0
    crowd.step(counts("occupancy_persons", 4100, at, sensor="cam"), at)
    found: list[Detection] = []
    for k in range(1, 40):  # red and still rising fast
        at = T0 + timedelta(seconds=10 * k)
        found += crowd.step(counts("occupancy_persons", 4100 + 80 * k, at, sensor="cam"), at)
    assert {d.detection_type for d in found} == {"crowd.density_level"}


def test_a_restart_resumes_a_standing_forecast_and_withdraws_it_in_due_course() -> None:
    first = stage()
    found = play(first, [(100, 0)] * 25)  # warned, not yet red
    standing = of_type(found, "crowd.red_forecast")[-1]
    assert standing.level is Level.AMBER
    state = first.state("plaza")
    assert state is not None
    second = stage()
    second.resume([standing])
    second.restore("plaza", state.occupancy_persons, first.level("plaza"))
    later: list[Detection] = []
    for k in range(26, 60):  # the crowd stops growing and thins out
        at = T0 + timedelta(seconds=10 * k)
        for observation in instant(at, 0, 30):
            later += second.step(observation, at)
    assert [d.level for d in of_type(later, "crowd.red_forecast")] == [Level.NORMAL]
    assert second.state("plaza") is not None


def test_unknown_spaces_other_quantities_and_late_counts_are_handled() -> None:
    crowd = stage()
    assert crowd.step(counts("entries_count", 50, T0, space="elsewhere"), T0) == []
    assert crowd.step(counts("noise_laeq_dba", 95, T0), T0) == []
    assert crowd.state("plaza") is None and crowd.level("plaza") is Level.NORMAL
    crowd.step(counts("entries_count", 50, T0 + timedelta(seconds=20)), T0)
    late = counts("entries_count", 25, T0 + timedelta(seconds=10), sensor="late")
    assert crowd.step(late, T0) == []  # an older interval still counts, never breaks a trend
    assert crowd.state("plaza").occupancy_persons == 75  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=1, max_size=120))
def test_trend_warnings_always_alternate_raised_and_withdrawn(flows: list[tuple[int, int]]) -> None:
    found = play(stage(area_m2=500.0), flows)
    for kind in ("crowd.red_forecast", "crowd.density_rising_fast"):
        levels = [d.level for d in of_type(found, kind)]
        assert levels == [Level.AMBER, Level.NORMAL] * (len(levels) // 2) + (
            [Level.AMBER] if len(levels) % 2 else []
        )


def test_the_valencia_mascleta_is_forecast_two_minutes_ahead_from_the_counters() -> None:
    from smartspaces.scenarios.valencia import ValenciaScenario

    scenario = ValenciaScenario(ScenarioSettings())
    crowd = CrowdStage(CrowdSettings(), ForecastSettings(), {s.id: s for s in scenario.spaces})
    found: list[Detection] = []
    for step in scenario.steps():
        for observation in step.observations:
            found += crowd.step(observation, step.at)
    square_id = scenario.square_id
    red = scenario.first_crossing(square_id, 4.0)
    assert red is not None
    forecasts = [d for d in of_type(found, "crowd.red_forecast") if d.space_id == square_id]
    assert forecasts and (red - forecasts[0].observed_at).total_seconds() >= 120
    assert forecasts[1].level is Level.NORMAL and forecasts[1].observed_at == red
    # the streets never come near red: no forecast for any of them
    assert {d.space_id for d in of_type(found, "crowd.red_forecast")} == {square_id}
