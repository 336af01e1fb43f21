"""Egress what-if on the real Plaça de l'Ajuntament (JuPedSim, a few hundred people)."""

from __future__ import annotations

import math

import pytest

from smartspaces.config import SimulationSettings
from smartspaces.scenarios.valencia.layout import Layout
from smartspaces.simulation.egress import run_egress
from smartspaces.simulation.errors import SimulationError, UnknownExit
from smartspaces.simulation.results import EgressResult
from smartspaces.simulation.space import SimSpace, from_layout, near

SETTINGS = SimulationSettings(dt_s=0.1)
PERSONS = 400


@pytest.fixture(scope="module")
def all_open(square_space: SimSpace) -> EgressResult:
    return run_egress(square_space, PERSONS, SETTINGS)


@pytest.fixture(scope="module")
def one_blocked(square_space: SimSpace) -> EgressResult:
    return run_egress(square_space, PERSONS, SETTINGS, blocked=["calle-san-vicente"])


def test_everyone_gets_out_and_is_counted_at_an_exit(all_open: EgressResult) -> None:
    assert all_open.completed and math.isfinite(all_open.egress_s)
    assert sum(all_open.per_exit.values()) == PERSONS
    assert all(n > 0 for n in all_open.per_exit.values())  # people spread over every exit
    assert list(all_open.remaining) == sorted(all_open.remaining, reverse=True)
    assert all_open.remaining[-1] == 0
    # 400 people on 2.5 ha: walking to the exits takes longer than passing through them
    assert 60 < all_open.egress_s < 300


def test_blocking_the_widest_exit_takes_longer(
    all_open: EgressResult, one_blocked: EgressResult
) -> None:
    assert one_blocked.completed and one_blocked.blocked == ("calle-san-vicente",)
    assert "calle-san-vicente" not in one_blocked.per_exit
    assert sum(one_blocked.per_exit.values()) == PERSONS
    assert one_blocked.egress_s > all_open.egress_s + 30


def test_a_result_survives_the_results_file(one_blocked: EgressResult) -> None:
    again = EgressResult.from_json(one_blocked.to_json())
    assert (again.persons, again.blocked, again.egress_s) == (
        PERSONS,
        ("calle-san-vicente",),
        one_blocked.egress_s,
    )
    with pytest.raises(SimulationError, match="not an egress result"):
        EgressResult.from_json('{"space_id": "plaza-ayuntamiento"}')


def test_an_empty_space_is_empty_at_once(square_space: SimSpace) -> None:
    result = run_egress(square_space, 0, SETTINGS)
    assert result.completed and result.egress_s == 0.0


def test_a_run_cut_short_says_who_is_left(square_space: SimSpace) -> None:
    short = SETTINGS.model_copy(update={"max_simulated_s": 5.0})
    result = run_egress(square_space, 50, short)
    assert not result.completed and math.isinf(result.egress_s)
    assert result.evacuated < 50 and len(result.remaining) == 5


def test_impossible_runs_are_refused(square_space: SimSpace, layout: Layout) -> None:
    every = [e.id for e in square_space.exits]
    with pytest.raises(SimulationError, match="every exit"):
        run_egress(square_space, 10, SETTINGS, blocked=every)
    with pytest.raises(UnknownExit):
        run_egress(square_space, 10, SETTINGS, blocked=["periodista-azzati"])
    with pytest.raises(SimulationError, match="0 or more"):
        run_egress(square_space, -1, SETTINGS)
    tiny = near(from_layout(layout, "calle-correos"), "plaza-ayuntamiento", 3.0)
    with pytest.raises(SimulationError, match="do not fit"):
        run_egress(tiny, 1000, SETTINGS)
