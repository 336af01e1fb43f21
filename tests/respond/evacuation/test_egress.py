"""Egress time for the current occupancy: simulation runs where they exist, exit capacity else."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString

from smartspaces.config.simulation import GREEN_GUIDE_FLOW_P_M_S
from smartspaces.respond.evacuation.egress import (
    EvacuationExit,
    SimulatedEgress,
    estimate_egress,
    flow_capacity_egress_s,
    simulated_egress_s,
)
from smartspaces.respond.evacuation.errors import EvacuationError

# The Plaça de l'Ajuntament's six exits, by width (m), as the simulation derives them.
WIDTHS = {
    "calle-san-vicente": 28.7,
    "avenida-marques-de-sotelo": 17.8,
    "calle-ribera": 11.0,
    "calle-barcas": 9.5,
    "calle-correos": 6.8,
    "calle-sangre": 6.1,
}


def door(exit_id: str, width_m: float, x: float = 0.0, open_: bool = True) -> EvacuationExit:
    return EvacuationExit(exit_id, exit_id, LineString([(x, 0.0), (x + width_m, 0.0)]), open_)


EXITS = [door(k, w, x=100.0 * i) for i, (k, w) in enumerate(WIDTHS.items())]


def test_the_green_guide_flow_is_82_per_metre_per_minute() -> None:
    assert GREEN_GUIDE_FLOW_P_M_S * 60 == pytest.approx(82.0)
    # 98,500 people (4 persons/m2 on the square) through 79.9 m of exits: 15 minutes
    seconds = flow_capacity_egress_s(98_500, EXITS)
    assert seconds == pytest.approx(98_500 / (79.9 * 82 / 60), rel=1e-6)
    assert 14 < seconds / 60 < 16


def test_blocking_an_exit_or_closing_it_costs_its_capacity() -> None:
    blocked = flow_capacity_egress_s(10_000, EXITS, blocked=["calle-san-vicente"])
    closed = [door("calle-san-vicente", 28.7, open_=False), *EXITS[1:]]
    assert blocked == pytest.approx(10_000 / (51.2 * GREEN_GUIDE_FLOW_P_M_S))
    assert flow_capacity_egress_s(10_000, closed) == pytest.approx(blocked)
    assert math.isinf(flow_capacity_egress_s(10, EXITS, blocked=list(WIDTHS)))
    assert flow_capacity_egress_s(0, EXITS, blocked=list(WIDTHS)) == 0.0


@given(
    st.floats(0, 200_000),
    st.floats(0, 200_000),
    st.lists(st.floats(0.5, 40), min_size=1, max_size=8),
)
def test_more_people_never_leave_sooner_and_wider_exits_never_slower(
    a: float, b: float, widths: list[float]
) -> None:
    exits = [door(f"e{i}", w) for i, w in enumerate(widths)]
    low, high = sorted((a, b))
    assert flow_capacity_egress_s(low, exits) <= flow_capacity_egress_s(high, exits)
    wider = [door(f"e{i}", w * 1.5) for i, w in enumerate(widths)]
    assert flow_capacity_egress_s(high, wider) <= flow_capacity_egress_s(high, exits)


RUNS = [
    SimulatedEgress(1000, frozenset(), 122.9),
    SimulatedEgress(5000, frozenset(), 190.0),
    SimulatedEgress(1000, frozenset({"calle-san-vicente"}), 250.6),
    SimulatedEgress(2000, frozenset(), math.inf),  # a run that did not finish: never used
]


def test_simulation_runs_are_interpolated_for_the_same_blocked_exits() -> None:
    capacity = 79.9 * GREEN_GUIDE_FLOW_P_M_S
    assert simulated_egress_s(500, RUNS, (), capacity) == pytest.approx(61.45)
    assert simulated_egress_s(3000, RUNS, (), capacity) == pytest.approx(156.45)
    # beyond the largest run: each extra person at the exits' capacity
    assert simulated_egress_s(6000, RUNS, (), capacity) == pytest.approx(190 + 1000 / capacity)
    assert simulated_egress_s(800, RUNS, ["calle-san-vicente"], capacity) == pytest.approx(200.48)
    assert simulated_egress_s(800, RUNS, ["calle-sangre"], capacity) is None


def test_the_estimate_says_how_it_was_made() -> None:
    simulated = estimate_egress(3000, EXITS, RUNS)
    assert simulated.method == "simulation" and simulated.seconds == pytest.approx(156.45)
    assert simulated.lower_bound_s < simulated.seconds  # walking to the exits takes time
    fallback = estimate_egress(3000, EXITS, RUNS, blocked=["calle-ribera"])
    assert fallback.method == "flow_capacity"
    assert fallback.seconds == pytest.approx(3000 / (68.9 * GREEN_GUIDE_FLOW_P_M_S))
    assert "calle-ribera" not in fallback.open_exits and fallback.open_width_m == pytest.approx(
        68.9
    )
    assert fallback.minutes == pytest.approx(fallback.seconds / 60)


@pytest.mark.parametrize("persons", [-1.0, math.nan, math.inf])
def test_an_impossible_occupancy_is_refused(persons: float) -> None:
    with pytest.raises(EvacuationError, match="occupancy"):
        estimate_egress(persons, EXITS)


def test_unknown_exits_degenerate_edges_and_bad_flows_are_refused() -> None:
    with pytest.raises(EvacuationError, match="no such exit: passeig-de-russafa"):
        estimate_egress(100, EXITS, blocked=["passeig-de-russafa"])
    with pytest.raises(EvacuationError, match="positive length"):
        EvacuationExit("gate", "Gate", LineString([(0, 0), (0, 0)]))
    with pytest.raises(EvacuationError, match="flow"):
        flow_capacity_egress_s(100, EXITS, flow_p_m_s=0.0)
