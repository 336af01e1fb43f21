"""The early warning on simulated crowds: a JuPedSim build-up through the real exits, counted
at each exit, fed through the crowd stage of the running pipeline.

Scale: the whole square at 4 persons/m2 is about 100,000 people, minutes of computing per
simulated minute. The runs here use the first 6 m of Carrer de Correus from the square (about
50 m2 of the real street, opening onto the square and onto the rest of the street): the same
densities with about 200 people, a few seconds per run. The density rises of a small area and
of the whole square are alike in persons/m2 per minute, which is what the rules read.
"""

from __future__ import annotations

import pytest

from smartspaces.config import CrowdSettings, ForecastSettings, SimulationSettings
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.events import Detection, Level
from smartspaces.scenarios.valencia.layout import Layout
from smartspaces.simulation.buildup import ArrivalPlan, run_buildup
from smartspaces.simulation.errors import SimulationError
from smartspaces.simulation.results import BuildUpResult
from smartspaces.simulation.space import SimSpace, from_layout, near
from tests.conftest import T0

SETTINGS = SimulationSettings(dt_s=0.1)
RED_P_M2 = 4.0


@pytest.fixture(scope="module")
def street_mouth(layout: Layout) -> SimSpace:
    return near(from_layout(layout, "calle-correos"), "plaza-ayuntamiento", 6.0)


@pytest.fixture(scope="module")
def surge(street_mouth: SimSpace) -> BuildUpResult:
    """People pressing into the street mouth, aiming at 5.5 persons/m2 within 8 minutes."""
    plan = ArrivalPlan(5.5, ramp_s=480.0, stop_density_p_m2=RED_P_M2)
    return run_buildup(street_mouth, plan, SETTINGS)


@pytest.fixture(scope="module")
def gathering(street_mouth: SimSpace) -> BuildUpResult:
    """A normal gathering: 1.5 persons/m2 within 8 minutes, held 10 minutes, 5 %/min turnover."""
    plan = ArrivalPlan(1.5, ramp_s=480.0, hold_s=600.0, turnover_per_min=0.05)
    return run_buildup(street_mouth, plan, SETTINGS)


def detections(space: SimSpace, result: BuildUpResult) -> list[Detection]:
    """The counters' observations through the crowd stage, as the runtime's detect worker."""
    stage = CrowdStage(CrowdSettings(), ForecastSettings(), {space.space.id: space.space})
    found: list[Detection] = []
    for observation in result.observations(T0, SETTINGS.counter_interval_s):
        found += stage.step(observation, observation.observed_at)
    return found


def test_a_surge_is_warned_two_minutes_before_it_turns_red(
    street_mouth: SimSpace, surge: BuildUpResult
) -> None:
    red_s = surge.first_reaching(RED_P_M2)
    assert red_s is not None, "the simulated crowd never reached red"
    found = detections(street_mouth, surge)
    warnings = [d for d in found if d.level is not Level.NORMAL]
    assert warnings, "no warning at all"
    first_s = (warnings[0].observed_at - T0).total_seconds()
    assert red_s - first_s >= 120
    # the forecast by itself gives that lead too, not only the amber rung of the ladder
    forecast = next(d for d in found if d.detection_type == "crowd.red_forecast")
    assert forecast.level is Level.AMBER
    assert red_s - (forecast.observed_at - T0).total_seconds() >= 120


def test_a_normal_gathering_under_two_is_never_warned(
    street_mouth: SimSpace, gathering: BuildUpResult
) -> None:
    assert max(gathering.density()) < 2.0
    assert sum(sum(s) for s in gathering.exits.values()) > 20  # people came and went
    assert detections(street_mouth, gathering) == []


def test_the_counters_add_up_to_the_crowd_they_counted(gathering: BuildUpResult) -> None:
    entered = sum(sum(s) for s in gathering.entries.values())
    left = sum(sum(s) for s in gathering.exits.values())
    # a leaver is counted once gone through the exit, a few metres after the boundary
    assert 0 <= entered - left - gathering.occupancy[-1] <= 5
    observations = gathering.observations(T0, 10.0)
    assert len(observations) == len(gathering.occupancy) // 10 * 2 * len(gathering.exit_ids)
    counted = sum(o.value for o in observations if o.quantity == "entries_count")
    assert counted == sum(
        sum(s[: len(gathering.occupancy) // 10 * 10]) for s in gathering.entries.values()
    )


def test_the_occupancy_table_has_a_row_per_second(gathering: BuildUpResult) -> None:
    lines = gathering.occupancy_csv().splitlines()
    assert lines[0].startswith("t_s,occupancy_persons,density_p_m2,entries_plaza-ayuntamiento")
    assert len(lines) == len(gathering.occupancy) + 1
    last = lines[-1].split(",")
    assert int(last[0]) == len(gathering.occupancy) and int(last[1]) == gathering.occupancy[-1]


def test_impossible_plans_are_refused() -> None:
    with pytest.raises(SimulationError, match="peak density"):
        ArrivalPlan(9.0, ramp_s=60.0)
    with pytest.raises(SimulationError, match="ramp_s"):
        ArrivalPlan(2.0, ramp_s=0.0)
    with pytest.raises(SimulationError, match="turnover"):
        ArrivalPlan(2.0, ramp_s=60.0, turnover_per_min=2.0)
