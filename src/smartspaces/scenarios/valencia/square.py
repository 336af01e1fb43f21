"""The Plaza del Ayuntamiento (Plaça de l'Ajuntament) as one walkable metric polygon from OSM."""

from __future__ import annotations

import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from smartspaces.scenarios.valencia.errors import ScenarioDataError
from smartspaces.scenarios.valencia.geometry import (
    largest_polygon,
    multipolygon,
    union_all,
    way_line,
    way_polygon,
)
from smartspaces.scenarios.valencia.osm import OsmData, OsmWay

SQUARE_NAMES = frozenset({"Plaça de l'Ajuntament", "Plaza del Ayuntamiento"})
VEHICLE_HIGHWAYS = frozenset(
    {"primary", "secondary", "tertiary", "unclassified", "residential", "service", "living_street"}
)
LANE_M = 3.0
"""Width of one traffic lane where OSM gives no ``width``: a usual urban lane (2.75-3.5 m)."""
SIDEWALK_M = 2.5
"""Width of a sidewalk where OSM gives none; the export has no ``width`` or ``sidewalk`` tags."""
HULL_RATIO = 0.1
"""Concave hull tightness: 0.02-0.3 change the area by under 4%; 0.1 follows the facades."""
NEAR_M = 10.0
"""How close an unnamed pedestrian area must be to the square's islands to be part of them."""


def lanes(way: OsmWay) -> int:
    """Number of lanes: the ``lanes`` tag, else 2 on through roads and 1 on minor ones."""
    try:
        return max(1, int(way.tags["lanes"]))
    except (KeyError, ValueError):
        return 2 if way.tags.get("highway") in {"primary", "secondary", "tertiary"} else 1


def carriageway_width_m(way: OsmWay) -> float:
    """Carriageway width: the ``width`` tag in metres if present, else lanes x ``LANE_M``."""
    try:
        return float(way.tags["width"].removesuffix("m").strip())
    except (KeyError, ValueError):
        return lanes(way) * LANE_M


def _islands(osm: OsmData) -> tuple[BaseGeometry, BaseGeometry]:
    """The pedestrian islands (even-odd filled) and the non-walkable holes of their relations."""
    relations = [
        r
        for r in osm.relations.values()
        if r.tags.get("type") == "multipolygon"
        and r.tags.get("highway") == "pedestrian"
        and r.tags.get("name") in SQUARE_NAMES
    ]
    if not relations:
        raise ScenarioDataError("no pedestrian multipolygon named Plaça de l'Ajuntament")
    fills = union_all(multipolygon(osm, r) for r in relations)
    rings = union_all(
        way_polygon(osm, osm.ways[m.ref])
        for r in relations
        for m in r.members
        if m.type == "way" and m.ref in osm.ways and osm.ways[m.ref].closed
    )
    # A pedestrian area mapped inside an island (the raised centre) or between the islands is
    # walkable even where the relation's rings make it a hole.
    pedestrian = union_all(
        p
        for w in osm.ways.values()
        if w.closed
        and w.tags.get("highway") == "pedestrian"
        and w.tags.get("area") == "yes"
        and w.tags.get("name", "") in SQUARE_NAMES | {""}
        and (p := way_polygon(osm, w)).distance(fills) < NEAR_M
    )
    return fills.union(pedestrian), rings.difference(fills).difference(pedestrian)


def obstacles(osm: OsmData, near: BaseGeometry) -> BaseGeometry:
    """Buildings, gardens, fountains and water that intersect ``near``: nobody stands there."""
    polygons = []
    for way in osm.ways.values():
        tags = way.tags
        if way.closed and (
            "building" in tags
            or tags.get("leisure") in {"garden", "park"}
            or tags.get("landuse") == "grass"
            or tags.get("amenity") == "fountain"
            or tags.get("natural") == "water"
        ):
            polygon = way_polygon(osm, way)
            if polygon.intersects(near):
                polygons.append(polygon)
    return union_all(polygons)


def build_square(osm: OsmData) -> Polygon:
    """The walkable plaza, metric (EPSG:25830).

    Which OSM features make up the square: the export has about 35 features named "Plaça de
    l'Ajuntament" / "Plaza del Ayuntamiento", and one named "Ayuntamiento":

    - way 5011425 "Ayuntamiento" (amenity=townhall, building): the Town Hall itself. It fronts
      the square on the west; it is not walkable and is cut out.
    - relation 3562065 (multipolygon, highway=pedestrian): the southern island in front of the
      Town Hall balcony, where the mascletà is watched. Its outer ring holds two gardens and the
      raised centre (way 264162530, itself a highway=pedestrian area: the platform over the
      underground flower market), which counts as walkable again.
    - relation 3562064 (multipolygon, highway=pedestrian): the northern island around the big
      fountain. Both its rings are tagged ``outer`` but one lies inside the other; by the OGC
      rule (outer rings may not overlap) the inner ring is a hole: the fountain pool.
    - ~30 lines (tertiary/residential/service carriageways, footway sidewalks) named after the
      square: the traffic ring around the islands and the sidewalks along the facades.

    The two pedestrian relations are the square's own areas, but they are two islands 18 m
    apart, and on a Fallas day the carriageways between and around them are closed to traffic:
    a mascletà crowd stands on the roads and sidewalks as much as on the islands. So the smart
    space is the whole plaza from facade to facade: the islands, the carriageways (buffered to
    their lanes) and the sidewalks, wrapped in a concave hull, less the fountain pool, gardens,
    fountains and buildings. That is about 2.5 ha; the islands alone are about 0.6 ha. For
    scale, the city's 2025 redesign plans an oval mascletà esplanade of 17,141 m2 inside a
    38,000 m2 works area that also takes in the first blocks of Sant Vicent Màrtir and Marqués
    de Sotelo.
    """
    islands, holes = _islands(osm)
    carriageways = []
    sidewalks = []
    for way in osm.ways.values():
        if way.tags.get("name") not in SQUARE_NAMES or way.tags.get("area") == "yes":
            continue
        highway = way.tags.get("highway")
        if highway in VEHICLE_HIGHWAYS:
            width = carriageway_width_m(way)
            carriageways.append(way_line(osm, way).buffer(width / 2, cap_style="flat"))
        elif highway in {"footway", "pedestrian"}:
            sidewalks.append(way_line(osm, way).buffer(SIDEWALK_M / 2, cap_style="flat"))
    plaza = union_all([islands, *carriageways, *sidewalks])
    points = shapely.get_coordinates(shapely.segmentize(plaza, 3.0))
    # The hull is built on points every 3 m; simplifying drops the collinear ones again.
    hull = shapely.concave_hull(MultiPoint(points), ratio=HULL_RATIO).simplify(0.1)
    walkable = hull.difference(holes).difference(obstacles(osm, hull))
    square = largest_polygon(shapely.make_valid(walkable))
    if square.is_empty:
        raise ScenarioDataError("the square came out empty")
    return square
