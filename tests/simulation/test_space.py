"""Spaces and exits for the simulation, from the real geometry of the Plaça de l'Ajuntament."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from smartspaces.scenarios.valencia.geometry import metric_polygon, to_metric
from smartspaces.scenarios.valencia.layout import Layout
from smartspaces.simulation.errors import SimulationError, UnknownExit
from smartspaces.simulation.space import TOUCH_M, SimSpace, from_layout, near
from tests.conftest import square


def test_the_square_opens_onto_its_six_access_streets(
    square_space: SimSpace, layout: Layout
) -> None:
    square_ = layout.space("plaza-ayuntamiento")
    assert [e.id for e in square_space.exits] == list(square_.neighbours)
    widths = [e.width_m for e in square_space.exits]
    assert widths == pytest.approx([28.7, 17.8, 11.0, 9.5, 6.8, 6.1], abs=0.1)  # ~80 m in all
    assert square_space.area_m2 == pytest.approx(square_.area_m2, rel=0.001)
    counters = {c.street_space_id: c for c in layout.counters}
    for item in square_space.exits:
        street = metric_polygon(layout.space(item.id).geometry)
        assert item.edge.distance(square_space.walkable.boundary) < 0.01
        assert item.edge.distance(street) < TOUCH_M
        # each exit is where the square's people counter for that street stands
        counter = to_metric(Point(counters[item.id].location.coordinates))
        assert item.edge.distance(counter) < 1.0


def test_a_street_opens_onto_the_square(layout: Layout) -> None:
    street = from_layout(layout, "calle-correos")
    assert [e.id for e in street.exits] == ["plaza-ayuntamiento"]
    assert street.exit("plaza-ayuntamiento").width_m == pytest.approx(6.8, abs=0.1)


def test_a_part_near_an_exit_keeps_that_exit_and_opens_onto_the_rest(layout: Layout) -> None:
    street = from_layout(layout, "calle-correos")
    part = near(street, "plaza-ayuntamiento", 6.0)
    assert part.space.id == "calle-correos-near-plaza-ayuntamiento"
    assert 40 < part.area_m2 < 60 and part.space.area_m2 == pytest.approx(part.area_m2, abs=0.1)
    assert [e.id for e in part.exits] == [
        "plaza-ayuntamiento",
        "calle-correos-near-plaza-ayuntamiento-beyond",
    ]
    assert 6 < part.exits[1].width_m < 9  # the cut across the street
    assert part.walkable.within(street.walkable.buffer(0.01))


@settings(max_examples=15, deadline=None)
@given(st.floats(2.0, 40.0), st.floats(0.5, 10.0))
def test_a_deeper_part_is_never_smaller(depth: float, more: float) -> None:
    from smartspaces.scenarios.valencia.scenario import shipped_layout

    street = from_layout(shipped_layout(), "calle-barcas")
    shallow = near(street, "plaza-ayuntamiento", depth)
    deep = near(street, "plaza-ayuntamiento", depth + more)
    assert shallow.area_m2 <= deep.area_m2 + 0.01 <= street.area_m2 + 0.02


def test_unknown_spaces_and_exits_are_named_with_what_exists(
    layout: Layout, square_space: SimSpace
) -> None:
    with pytest.raises(SimulationError, match="known: plaza-ayuntamiento"):
        from_layout(layout, "plaza-de-la-reina")
    with pytest.raises(UnknownExit, match="its exits: calle-san-vicente"):
        square_space.exit("passeig-de-russafa")
    with pytest.raises(SimulationError, match="positive"):
        near(square_space, "calle-sangre", 0.0)


def test_a_space_meeting_no_other_has_no_exit() -> None:
    alone = Layout(spaces=(square("alone"),), counters=(), cameras=())
    with pytest.raises(SimulationError, match="no exit"):
        from_layout(alone, "alone")
