"""Spatial queries on the real València spaces: PostGIS on PostgreSQL, shapely on SQLite, and
the two agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.events import SmartSpace
from smartspaces.scenarios.valencia.layout import layout_from_geojson
from smartspaces.store import Store
from smartspaces.store.errors import StoreError
from tests.conftest import drop_schema, postgres_url, private_schema

SQUARE_CENTRE = (-0.3764368, 39.4701818)  # the centroid of Plaça de l'Ajuntament
FAR_AWAY = (-0.3500, 39.4500)  # south-east of the old town, over 2 km off


def valencia() -> list[SmartSpace]:
    files = resources.files("smartspaces") / "scenarios" / "valencia" / "valencia-spaces.geojson"
    return list(layout_from_geojson(files.read_bytes()).spaces)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    store = make_store(request.param)
    store.put_spaces(valencia())
    return store


def test_postgis_answers_on_postgresql(make_store: Callable[[str], Store]) -> None:
    # `make services` installs PostGIS; without it the store would still answer (shapely)
    assert make_store("postgres").spatial.postgis
    assert not make_store("sqlite").spatial.postgis


def test_the_square_contains_its_centre_and_nothing_else_does(store: Store) -> None:
    assert store.spatial.spaces_at(*SQUARE_CENTRE) == ["plaza-ayuntamiento"]
    assert store.spatial.spaces_at(*FAR_AWAY) == []


def test_spaces_near_the_square_come_nearest_first(store: Store) -> None:
    near = store.spatial.spaces_near(*SQUARE_CENTRE, radius_m=150)
    assert near[0].space_id == "plaza-ayuntamiento" and near[0].distance_m == 0
    distances = [n.distance_m for n in near]
    assert distances == sorted(distances)
    # the access streets meet the square: several of them lie within 150 m of its centre
    assert len(near) >= 3
    assert store.spatial.spaces_near(*FAR_AWAY, radius_m=500) == []


def test_a_moved_space_is_found_at_its_new_place(store: Store) -> None:
    square = next(s for s in valencia() if s.id == "plaza-ayuntamiento")
    shift = 0.03  # about 2.6 km east
    moved = square.model_copy(
        update={
            "geometry": square.geometry.model_copy(
                update={
                    "coordinates": tuple(
                        tuple((lon + shift, lat) for lon, lat in ring)
                        for ring in square.geometry.coordinates
                    )
                }
            )
        }
    )
    store.put_spaces([moved])
    assert store.spatial.spaces_at(*SQUARE_CENTRE) == []
    assert store.spatial.spaces_at(SQUARE_CENTRE[0] + shift, SQUARE_CENTRE[1]) == [square.id]


@pytest.mark.parametrize(
    ("lon", "lat", "radius"),
    [(float("nan"), 39.47, 10.0), (181.0, 39.47, 10.0), (-0.37, -91.0, 10.0),
     (-0.37, 39.47, -1.0), (-0.37, 39.47, 1e9), (-0.37, 39.47, float("nan"))],
)  # fmt: skip
def test_bad_coordinates_are_refused(store: Store, lon: float, lat: float, radius: float) -> None:
    with pytest.raises(StoreError, match="WGS84|radius"):
        store.spatial.spaces_near(lon, lat, radius)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Store]]:
    schema = private_schema()
    lite = Store(f"sqlite:///{tmp_path_factory.mktemp('spatial') / 's.sqlite3'}")
    pg = Store(postgres_url(schema))
    for s in (lite, pg):
        s.migrate()
        s.put_spaces(valencia())
    yield lite, pg
    for s in (lite, pg):
        s.close()
    drop_schema(schema)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-0.3790, -0.3735),
    st.floats(39.4675, 39.4735),
    st.floats(0, 400),
)
def test_postgis_and_shapely_agree(
    both: tuple[Store, Store], lon: float, lat: float, radius: float
) -> None:
    lite, pg = both
    assert lite.spatial.spaces_at(lon, lat) == pg.spatial.spaces_at(lon, lat)
    ours = {n.space_id: n.distance_m for n in lite.spatial.spaces_near(lon, lat, radius)}
    theirs = {n.space_id: n.distance_m for n in pg.spatial.spaces_near(lon, lat, radius)}
    # the same spaces, except one within a metre of the radius where the two models differ
    for space_id in ours.keys() ^ theirs.keys():
        assert abs(ours.get(space_id, theirs.get(space_id, 0)) - radius) < 1.5
    for space_id in ours.keys() & theirs.keys():
        assert ours[space_id] == pytest.approx(theirs[space_id], abs=1.5)
