"""Responder routes over the real street graph of València's old town (OpenStreetMap)."""

from __future__ import annotations

import math
from importlib import resources

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Polygon

from smartspaces.events import GeoPolygon, SmartSpace
from smartspaces.respond.routing.responder import NoRoute, ResponderRouter
from smartspaces.scenarios.valencia.layout import layout_from_geojson
from smartspaces.scenarios.valencia.osm import read_osm
from smartspaces.scenarios.valencia.street_graph import street_graph
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata

XATIVA = (-0.3773, 39.4666)  # in front of the Estació del Nord
SAN_VICENTE = (-0.37666, 39.47243)  # north of the square, towards the cathedral


@pytest.fixture(scope="module")
def routers() -> dict[str, ResponderRouter]:
    osm = read_osm(shared_data("valencia-geo", "valencia-centre.osm"))
    return {mode: ResponderRouter(street_graph(osm, mode)) for mode in ("vehicle", "foot")}


@pytest.fixture(scope="module")
def square() -> SmartSpace:
    files = resources.files("smartspaces") / "scenarios" / "valencia" / "valencia-spaces.geojson"
    return next(
        s for s in layout_from_geojson(files.read_bytes()).spaces if s.id == "plaza-ayuntamiento"
    )


def crow_flies_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    x = math.radians(b[0] - a[0]) * math.cos(math.radians(a[1]))
    return 6_371_000 * math.hypot(x, math.radians(b[1] - a[1]))


@pytest.mark.parametrize("mode", ["vehicle", "foot"])
def test_a_route_across_the_old_town_is_plausible(
    routers: dict[str, ResponderRouter], mode: str
) -> None:
    route = routers[mode].route(XATIVA, SAN_VICENTE)
    straight = crow_flies_m(XATIVA, SAN_VICENTE)
    assert straight <= route.length_m <= 2.5 * straight
    assert route.snapped_start_m < 60 and route.snapped_goal_m < 60
    speed = route.length_m / route.travel_time_s
    assert (2.0 < speed < 12.0) if mode == "vehicle" else speed == pytest.approx(1.4, rel=0.01)


@pytest.mark.parametrize("mode", ["vehicle", "foot"])
def test_the_route_goes_around_a_crowded_square(
    routers: dict[str, ResponderRouter], square: SmartSpace, mode: str
) -> None:
    direct = routers[mode].route(XATIVA, SAN_VICENTE)
    around = routers[mode].route(XATIVA, SAN_VICENTE, [square.geometry])
    area = Polygon(square.geometry.coordinates[0])
    assert LineString(direct.coordinates).intersects(area)  # the short way is through it
    # only the goal's own street may touch it; the path itself stays out of the square
    inner = LineString(around.coordinates[1:-1])
    assert not inner.crosses(area.buffer(-1e-5))
    assert around.travel_time_s > direct.travel_time_s
    assert around.hazards_avoided == 1


def test_a_vehicle_keeps_to_one_way_streets_a_person_on_foot_does_not(
    routers: dict[str, ResponderRouter],
) -> None:
    there = routers["vehicle"].route(XATIVA, SAN_VICENTE).length_m
    back = routers["vehicle"].route(SAN_VICENTE, XATIVA).length_m
    assert there != back  # one-way streets make the two directions differ
    walk = [
        routers["foot"].route(*ends).length_m
        for ends in ((XATIVA, SAN_VICENTE), (SAN_VICENTE, XATIVA))
    ]
    assert walk[0] == pytest.approx(walk[1], rel=0.01)


def test_no_route_when_the_destination_is_walled_in(
    routers: dict[str, ResponderRouter],
) -> None:
    lon, lat = SAN_VICENTE
    ring = [
        (lon - 0.004, lat - 0.003),
        (lon + 0.004, lat - 0.003),
        (lon + 0.004, lat + 0.003),
        (lon - 0.004, lat + 0.003),
        (lon - 0.004, lat - 0.003),
    ]
    inner = [
        (lon - 0.0015, lat - 0.0012),
        (lon + 0.0015, lat - 0.0012),
        (lon + 0.0015, lat + 0.0012),
        (lon - 0.0015, lat + 0.0012),
        (lon - 0.0015, lat - 0.0012),
    ]
    moat = GeoPolygon(coordinates=(tuple(ring), tuple(inner)))  # a ring around the goal
    with pytest.raises(NoRoute, match="avoids"):
        routers["foot"].route(XATIVA, SAN_VICENTE, [moat])


@pytest.mark.parametrize(
    "point", [(float("nan"), 39.47), (200.0, 39.47), (-0.3773, 95.0), (2.17, 41.38)]
)
def test_points_off_the_map_are_refused_clearly(
    routers: dict[str, ResponderRouter], point: tuple[float, float]
) -> None:
    with pytest.raises(NoRoute, match="WGS84|nearest street"):
        routers["foot"].route(point, SAN_VICENTE)


def test_an_empty_graph_is_refused() -> None:
    with pytest.raises(NoRoute, match="empty"):
        ResponderRouter(nx.DiGraph())


@settings(max_examples=40, deadline=None)
@given(
    st.tuples(st.floats(-0.3800, -0.3725), st.floats(39.4670, 39.4760)),
    st.tuples(st.floats(-0.3800, -0.3725), st.floats(39.4670, 39.4760)),
)
def test_any_two_points_in_the_old_town_are_joined_on_foot(
    routers: dict[str, ResponderRouter], a: tuple[float, float], b: tuple[float, float]
) -> None:
    route = routers["foot"].route(a, b)
    # never shorter than the straight line between the points it snapped to
    assert route.length_m + 1 >= crow_flies_m(route.coordinates[0], route.coordinates[-1])
    assert route.travel_time_s == pytest.approx(route.length_m / 1.4, abs=1)
