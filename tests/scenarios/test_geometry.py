"""The Valencia spaces from the real OSM export: plausible areas, clean topology, same when shipped.

The walkable Plaza del Ayuntamiento, facade to facade, less the fountain pool, gardens and
buildings, measures about 24,600 m2 here. Plausible bounds: more than the 17,141 m2 oval mascletà
esplanade of the city's 2025 redesign (which leaves out the fountain zone and the sidewalks),
less than the 38,000 m2 works area of that redesign (which also takes in the first blocks of Sant
Vicent Màrtir and Marqués de Sotelo). The two pedestrian islands alone are about 6,000 m2.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest
from shapely.geometry import Point

from smartspaces.scenarios.valencia import ValenciaScenario, derive
from smartspaces.scenarios.valencia.geometry import (
    metric_polygon,
    multipolygon,
    to_metric,
    way_polygon,
)
from smartspaces.scenarios.valencia.layout import ATTRIBUTION, SQUARE_ID, layout_from_geojson
from smartspaces.scenarios.valencia.osm import read_osm
from smartspaces.scenarios.valencia.scenario import BASEMAP_FILE, SPACES_FILE
from smartspaces.scenarios.valencia.square import obstacles

STREET_IDS = {
    "calle-san-vicente",
    "avenida-marques-de-sotelo",
    "calle-ribera",
    "calle-barcas",
    "calle-correos",
    "calle-sangre",
}
OVERLAP_TOLERANCE_M2 = 1.0
"""Stored coordinates are rounded to 1e-7 degrees (~1 cm): shared edges may overlap by a hair."""


def _package_file(name: str) -> bytes:
    return resources.files("smartspaces.scenarios.valencia").joinpath(name).read_bytes()


def test_square_area_is_plausible(real_scenario: ValenciaScenario) -> None:
    square = real_scenario.space(SQUARE_ID)
    assert square.space_type == "square"
    assert 17_141 < square.area_m2 < 38_000
    assert square.area_m2 == pytest.approx(24_600, rel=0.05)


def test_areas_are_metric_not_degrees(real_scenario: ValenciaScenario) -> None:
    for space in real_scenario.spaces:
        assert metric_polygon(space.geometry).area == pytest.approx(space.area_m2, rel=0.001)


def test_expected_spaces_with_readable_ids(real_scenario: ValenciaScenario) -> None:
    ids = [s.id for s in real_scenario.spaces]
    assert ids[0] == SQUARE_ID
    assert set(ids[1:]) == STREET_IDS
    assert all(s.space_type == "street" for s in real_scenario.spaces[1:])
    # Realistic stretch of 60 m at 8-25 m wide, clipped at the square.
    assert all(300 < s.area_m2 < 2_000 for s in real_scenario.spaces[1:])


def test_polygons_are_valid_and_attributed(real_scenario: ValenciaScenario) -> None:
    for space in real_scenario.spaces:
        polygon = metric_polygon(space.geometry)
        assert polygon.is_valid, space.id
        assert space.attribution == ATTRIBUTION
        assert polygon.contains(to_metric(Point(space.centroid.coordinates))) or (
            space.space_type == "street"  # a bent street's centroid may fall just outside
        )


def test_streets_touch_but_do_not_overlap_the_square(real_scenario: ValenciaScenario) -> None:
    square = metric_polygon(real_scenario.space(SQUARE_ID).geometry)
    for street_id in STREET_IDS:
        street = metric_polygon(real_scenario.space(street_id).geometry)
        assert street.intersection(square).area < OVERLAP_TOLERANCE_M2, street_id
        assert street.distance(square) < 0.5, street_id


def test_streets_do_not_overlap_each_other(real_scenario: ValenciaScenario) -> None:
    streets = [metric_polygon(real_scenario.space(i).geometry) for i in sorted(STREET_IDS)]
    for i, a in enumerate(streets):
        for b in streets[i + 1 :]:
            assert a.intersection(b).area < OVERLAP_TOLERANCE_M2


def test_neighbours_are_symmetric(real_scenario: ValenciaScenario) -> None:
    square = real_scenario.space(SQUARE_ID)
    assert set(square.neighbours) == STREET_IDS
    for street_id in STREET_IDS:
        assert SQUARE_ID in real_scenario.space(street_id).neighbours
    for space in real_scenario.spaces:
        for other in space.neighbours:
            assert space.id in real_scenario.space(other).neighbours


def test_one_counter_per_access_on_the_shared_edge(real_scenario: ValenciaScenario) -> None:
    square = metric_polygon(real_scenario.space(SQUARE_ID).geometry)
    assert {c.street_space_id for c in real_scenario.counters} == STREET_IDS
    for counter in real_scenario.counters:
        assert counter.space_id == SQUARE_ID
        assert counter.id == "counter-" + counter.street_space_id.split("-", 1)[1]
        where = to_metric(Point(counter.location.coordinates))
        street = metric_polygon(real_scenario.space(counter.street_space_id).geometry)
        assert where.distance(square.boundary) < 0.5
        assert where.distance(street) < 0.5
    for camera in real_scenario.cameras:
        street = metric_polygon(real_scenario.space(camera.space_id).geometry)
        assert street.contains(to_metric(Point(camera.location.coordinates)))


def test_fallback_to_shipped_geojson_matches(
    real_scenario: ValenciaScenario, shipped_scenario: ValenciaScenario
) -> None:
    assert [s.id for s in shipped_scenario.spaces] == [s.id for s in real_scenario.spaces]
    for shipped, real in zip(shipped_scenario.spaces, real_scenario.spaces, strict=True):
        assert shipped.area_m2 == pytest.approx(real.area_m2, rel=0.01)
        assert metric_polygon(shipped.geometry).area == pytest.approx(real.area_m2, rel=0.01)
        assert shipped.neighbours == real.neighbours
    assert [c.id for c in shipped_scenario.counters] == [c.id for c in real_scenario.counters]


def test_shipped_files_are_derived_from_the_shared_export(osm_path: Path) -> None:
    # Fails when the export changed: rerun python -m smartspaces.scenarios.valencia.derive
    digest = hashlib.sha256(osm_path.read_bytes()).hexdigest()
    for name in (SPACES_FILE, BASEMAP_FILE):
        props = json.loads(_package_file(name))["properties"]
        assert props["source_sha256"] == digest, name
        assert props["attribution"] == ATTRIBUTION


def test_basemap_is_small_rounded_and_attributed() -> None:
    data = _package_file(BASEMAP_FILE)
    assert len(data) < 400_000
    doc = json.loads(data)
    kinds = {f["properties"]["kind"] for f in doc["features"]}
    assert kinds == {"highway", "building"}
    first = doc["features"][0]["geometry"]["coordinates"][0]
    assert all(len(repr(c).split(".")[1]) <= 6 for c in first)
    assert doc["properties"]["attribution"] == ATTRIBUTION


def test_shipped_layout_needs_no_shared_data(shipped_scenario: ValenciaScenario) -> None:
    assert shipped_scenario.space(SQUARE_ID).area_m2 > 17_141
    assert len(shipped_scenario.counters) == len(STREET_IDS)


def test_square_holds_the_islands_not_the_town_hall_or_the_pool(
    real_scenario: ValenciaScenario, osm_path: Path
) -> None:
    osm = read_osm(osm_path)
    square = metric_polygon(real_scenario.space(SQUARE_ID).geometry)
    for relation_id in (3562064, 3562065):  # the two pedestrian islands named after the square
        # Gardens planted on the islands are not walkable: they are left out of the square.
        island = multipolygon(osm, osm.relations[relation_id])
        island = island.difference(obstacles(osm, island))
        assert square.intersection(island).area > 0.97 * island.area
    town_hall = way_polygon(osm, osm.ways[5011425])  # amenity=townhall "Ayuntamiento"
    fountain_pool = way_polygon(osm, osm.ways[264162528])  # the ring inside relation 3562064
    assert square.intersection(town_hall).area < OVERLAP_TOLERANCE_M2
    assert square.intersection(fountain_pool).area < OVERLAP_TOLERANCE_M2


def test_derive_writes_both_files(osm_path: Path, tmp_path: Path) -> None:
    assert derive.main(["--osm", str(osm_path), "--out", str(tmp_path)]) == 0
    written = layout_from_geojson((tmp_path / SPACES_FILE).read_bytes())
    shipped = layout_from_geojson(_package_file(SPACES_FILE))
    assert [s.id for s in written.spaces] == [s.id for s in shipped.spaces]
    assert [s.area_m2 for s in written.spaces] == pytest.approx(
        [s.area_m2 for s in shipped.spaces], rel=0.001
    )
    assert (tmp_path / BASEMAP_FILE).stat().st_size < 400_000
