"""Exits ranked around a hazard, and the advice an operator reads, on the real square."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from smartspaces.respond.evacuation.advice import advise
from smartspaces.respond.evacuation.egress import EvacuationExit, SimulatedEgress
from smartspaces.respond.evacuation.errors import EvacuationError
from smartspaces.respond.evacuation.exits import rank_exits
from smartspaces.scenarios.valencia.scenario import shipped_layout
from smartspaces.simulation.space import from_layout


@pytest.fixture(scope="module")
def square_exits() -> list[EvacuationExit]:
    space = from_layout(shipped_layout(), "plaza-ayuntamiento")
    return [EvacuationExit(e.id, e.name, e.edge) for e in space.exits]


def test_without_a_hazard_the_widest_exit_comes_first(square_exits: list[EvacuationExit]) -> None:
    ranked = rank_exits(square_exits)
    assert [r.exit.id for r in ranked][:2] == ["calle-san-vicente", "avenida-marques-de-sotelo"]
    assert all(r.usable for r in ranked)
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_a_fire_at_the_northern_tip_rules_out_sant_vicent(
    square_exits: list[EvacuationExit],
) -> None:
    fire = square_exits[0].edge.interpolate(0.5, normalized=True).buffer(5.0)  # at Sant Vicent
    ranked = rank_exits(square_exits, fire)
    assert ranked[-1].exit.id == "calle-san-vicente" and not ranked[-1].usable
    assert "from the hazard" in ranked[-1].reason
    assert ranked[0].exit.id == "avenida-marques-de-sotelo"  # widest of those far away
    assert all(r.usable for r in ranked[:-1])


def test_an_exit_just_outside_the_clearance_counts_for_less() -> None:
    wide_near = EvacuationExit("wide", "Wide", LineString([(30, 0), (50, 0)]))  # 30 m away
    narrow_far = EvacuationExit("narrow", "Narrow", LineString([(200, 0), (214, 0)]))
    ranked = rank_exits([wide_near, narrow_far], Point(0, 0), clearance_m=25)
    assert [r.exit.id for r in ranked] == ["narrow", "wide"]
    assert ranked[1].score == pytest.approx(ranked[1].capacity_p_s * 30 / 50)


def test_closed_exits_are_never_usable() -> None:
    shut = EvacuationExit("shut", "Shut gate", LineString([(0, 0), (40, 0)]), open=False)
    open_ = EvacuationExit("open", "Open gate", LineString([(0, 50), (2, 50)]))
    ranked = rank_exits([shut, open_])
    assert [(r.exit.id, r.usable, r.reason) for r in ranked] == [
        ("open", True, "2.7 persons/s"),
        ("shut", False, "closed"),
    ]


@given(
    st.lists(
        st.tuples(st.floats(-300, 300), st.floats(-300, 300), st.floats(1, 30), st.booleans()),
        min_size=1,
        max_size=10,
    ),
    st.floats(-300, 300),
    st.floats(-300, 300),
    st.floats(0, 100),
)
def test_a_ranking_keeps_every_exit_and_puts_the_usable_first(
    doors: list[tuple[float, float, float, bool]], hx: float, hy: float, clearance: float
) -> None:
    exits = [
        EvacuationExit(f"e{i}", f"Exit {i}", LineString([(x, y), (x + w, y)]), is_open)
        for i, (x, y, w, is_open) in enumerate(doors)
    ]
    ranked = rank_exits(exits, Point(hx, hy), clearance)
    assert sorted(r.exit.id for r in ranked) == sorted(e.id for e in exits)
    usable = [r.usable for r in ranked]
    assert usable == sorted(usable, reverse=True)
    for r in ranked:
        assert r.usable == (r.exit.open and r.hazard_distance_m >= clearance)
        assert 0 <= r.score <= r.capacity_p_s


def test_the_advice_avoids_the_hazard_in_its_egress_time(
    square_exits: list[EvacuationExit],
) -> None:
    fire = square_exits[0].edge.centroid
    runs = [SimulatedEgress(1000, frozenset({"calle-san-vicente"}), 250.6)]
    advice = advise("plaza-ayuntamiento", 800, square_exits, fire, runs)
    assert advice.egress.method == "simulation"
    assert "calle-san-vicente" not in advice.egress.open_exits
    assert advice.egress.seconds == pytest.approx(800 / 1000 * 250.6)
    assert advice.all_open.method == "flow_capacity"
    lines = advice.lines()
    assert lines[0].startswith("plaza-ayuntamiento: 800 people; egress 3.3 min (simulation)")
    assert lines[-1].startswith("  avoid Carrer de Sant Vicent Màrtir")


def test_a_bad_hazard_or_clearance_is_refused(square_exits: list[EvacuationExit]) -> None:
    with pytest.raises(EvacuationError, match="clearance"):
        rank_exits(square_exits, Point(0, 0), clearance_m=-1)
    with pytest.raises(EvacuationError, match="hazard"):
        rank_exits(square_exits, Point())
