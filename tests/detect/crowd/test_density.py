"""Occupancy and density from counters, and detections on level changes with provenance."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from smartspaces.config import CrowdSettings
from smartspaces.detect.crowd.density import CrowdDensityDetector
from smartspaces.events import Level
from tests.conftest import T0, counts, square


def detector(area_m2: float = 1000.0) -> CrowdDensityDetector:
    return CrowdDensityDetector(CrowdSettings(), {"plaza": square(area_m2=area_m2)})


def test_occupancy_is_the_balance_of_entries_and_exits() -> None:
    crowd = detector()
    crowd.step(counts("entries_count", 300, T0), T0)
    crowd.step(counts("exits_count", 120, T0, sensor="c2"), T0)
    state = crowd.state("plaza")
    assert state is not None
    assert state.occupancy_persons == 180
    assert state.density_p_m2 == 0.18
    assert state.inflow_p_s == 5.0  # 300 people over the 60 s window
    assert state.level_of_service == "A"


def test_more_exits_than_people_clamps_at_empty() -> None:
    crowd = detector()
    crowd.step(counts("entries_count", 10, T0), T0)
    crowd.step(counts("exits_count", 50, T0), T0)
    assert crowd.state("plaza").occupancy_persons == 0  # type: ignore[union-attr]


def test_an_absolute_count_replaces_the_balance() -> None:
    crowd = detector()
    crowd.step(counts("entries_count", 10, T0), T0)
    crowd.step(counts("occupancy_persons", 2500, T0), T0)
    assert crowd.state("plaza").occupancy_persons == 2500  # type: ignore[union-attr]


def test_unknown_spaces_and_quantities_are_ignored() -> None:
    crowd = detector()
    assert crowd.step(counts("entries_count", 9999, T0, space="elsewhere"), T0) == []
    assert crowd.step(counts("noise_laeq_dba", 90, T0), T0) == []
    assert crowd.state("plaza") is None


def test_crossing_red_gives_one_detection_that_names_its_observations() -> None:
    crowd = detector()
    sent, found = [], []
    for minute in range(10):
        obs = counts("entries_count", 500, T0 + timedelta(minutes=minute))
        sent.append(obs.id)
        found.extend(crowd.step(obs, obs.observed_at))
    levels = [(d.level, d.observed_at) for d in found]
    # 1000 m2: amber at 2000 people (minute 3), red at 4000 (minute 7), critical at 5000 (minute 9)
    assert levels == [
        (Level.AMBER, T0 + timedelta(minutes=3)),
        (Level.RED, T0 + timedelta(minutes=7)),
        (Level.CRITICAL, T0 + timedelta(minutes=9)),
    ]
    red = found[1]
    assert red.crowd is not None and red.crowd.density_p_m2 == 4.0
    assert red.derived_from == tuple(sent[:8])
    assert "4.00 persons/m2" in red.summary


def test_hovering_on_the_threshold_does_not_flap() -> None:
    crowd = detector()
    crowd.step(counts("occupancy_persons", 4000, T0), T0)
    flaps = []
    for i, people in enumerate([3950, 4010, 3920, 4005, 3990] * 4, start=1):
        at = T0 + timedelta(seconds=10 * i)
        flaps.extend(crowd.step(counts("occupancy_persons", people, at), at))
    assert flaps == []
    assert crowd.level("plaza") == Level.RED


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 500)), max_size=60))
def test_occupancy_never_negative_and_never_above_total_entries(
    flows: list[tuple[bool, int]],
) -> None:
    crowd = detector()
    entered = 0
    for i, (entering, value) in enumerate(flows):
        at = T0 + timedelta(seconds=10 * i)
        crowd.step(counts("entries_count" if entering else "exits_count", value, at), at)
        entered += value if entering else 0
        state = crowd.state("plaza")
        assert state is not None
        assert 0 <= state.occupancy_persons <= entered
