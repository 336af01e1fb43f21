"""The square's access streets as street spaces, with a people counter where each meets it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge, substring

from smartspaces.events import SmartSpace
from smartspaces.scenarios.valencia.errors import ScenarioDataError
from smartspaces.scenarios.valencia.geometry import (
    geo_point,
    geo_polygon,
    largest_polygon,
    union_all,
    way_line,
)
from smartspaces.scenarios.valencia.layout import (
    ATTRIBUTION,
    SQUARE_ID,
    Camera,
    Counter,
    Layout,
)
from smartspaces.scenarios.valencia.osm import OsmData, OsmWay
from smartspaces.scenarios.valencia.square import (
    SIDEWALK_M,
    VEHICLE_HIGHWAYS,
    build_square,
    carriageway_width_m,
    obstacles,
)

STRETCH_M = 60.0
"""How far along each access street, from the square's edge, its street space reaches."""
PEDESTRIAN_STREET_M = 10.0
"""Wall-to-wall width of a pedestrian street without a ``width`` tag (Carrer Ribera is ~10 m)."""
TOUCH_M = 0.5
"""Spaces closer than this share a boundary (coordinates are rounded to ~1 cm when stored)."""


@dataclass(frozen=True)
class AccessStreet:
    """A street that leads into the square: its OSM name and the short key of its ids."""

    osm_name: str
    key: str
    space_id: str

    @property
    def counter_id(self) -> str:
        return f"counter-{self.key}"

    @property
    def camera_id(self) -> str:
        return f"camera-{self.key}"


ACCESS_STREETS = (
    AccessStreet("Carrer de Sant Vicent Màrtir", "san-vicente", "calle-san-vicente"),
    AccessStreet("Avinguda de Marqués de Sotelo", "marques-de-sotelo", "avenida-marques-de-sotelo"),
    AccessStreet("Carrer Ribera", "ribera", "calle-ribera"),
    AccessStreet("Carrer de les Barques", "barcas", "calle-barcas"),
    AccessStreet("Carrer de Correus", "correos", "calle-correos"),
    AccessStreet("Carrer de la Sang", "sangre", "calle-sangre"),
)
"""The main ways in, as the 2014 OSM export has them (it has no Avinguda de l'Oest, and Maria
Cristina does not reach the square). Passeig de Russafa, Periodista Azzati, Roger de Llòria and
Barcelonina also open onto it; they are left uncounted."""


def street_width_m(way: OsmWay) -> float:
    """Wall-to-wall width of a street: carriageway plus two sidewalks, or a pedestrian street."""
    if way.tags.get("highway") == "pedestrian":
        return PEDESTRIAN_STREET_M
    return carriageway_width_m(way) + 2 * SIDEWALK_M


def _stretches(line: LineString, square: Polygon) -> list[LineString]:
    """The first ``STRETCH_M`` of a centre line from each end where it leaves the square."""
    outside = line.difference(square)
    pieces = []
    for part in getattr(outside, "geoms", [outside]):
        if not isinstance(part, LineString) or part.length == 0:
            continue
        length = part.length
        if Point(part.coords[0]).distance(square) < TOUCH_M:
            pieces.append(substring(part, 0, min(STRETCH_M, length)))
        if Point(part.coords[-1]).distance(square) < TOUCH_M:
            pieces.append(substring(part, max(0.0, length - STRETCH_M), length))
    return [p for p in pieces if isinstance(p, LineString)]


def street_polygon(
    osm: OsmData, access: AccessStreet, square: Polygon, taken: BaseGeometry
) -> Polygon:
    """The stretch of a street next to the square, buffered to its width, outside ``taken``."""
    ways = [
        w
        for w in osm.ways.values()
        if w.tags.get("name") == access.osm_name
        and w.tags.get("highway") in VEHICLE_HIGHWAYS | {"pedestrian"}
        and w.tags.get("area") != "yes"
    ]
    near = [w for w in ways if way_line(osm, w).distance(square) < STRETCH_M]
    if not near:
        raise ScenarioDataError(f"{access.osm_name} does not reach the square")
    width = max(street_width_m(w) for w in near)
    merged = linemerge([way_line(osm, w) for w in near])
    lines = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, LineString)]
    stretches = [s for line in lines for s in _stretches(line, square)]
    area = union_all(
        s.buffer(width / 2, cap_style="flat", join_style="mitre") for s in stretches
    ).difference(taken)
    # A 1 m closing joins the pieces of a dual carriageway; only what touches the square counts.
    area = area.buffer(1.0, join_style="mitre").buffer(-1.0, join_style="mitre")
    area = shapely.make_valid(area).difference(taken)
    # Where a street leaves the square both ways (Sant Vicent Màrtir at the northern tip), the
    # larger stretch is kept, as a space is one polygon: there, the one toward Plaza de la Reina.
    touching = [p for p in getattr(area, "geoms", [area]) if p.distance(square) < TOUCH_M]
    polygon = largest_polygon(union_all(touching))
    if polygon.is_empty:
        raise ScenarioDataError(f"{access.osm_name} has no stretch next to the square")
    return polygon


def access_point(street: Polygon, square: Polygon) -> Point:
    """Where a street meets the square: the middle of their shared edge."""
    shared = street.buffer(TOUCH_M).intersection(square.boundary)
    parts = [g for g in getattr(shared, "geoms", [shared]) if isinstance(g, LineString)]
    if not parts:
        return square.exterior.interpolate(square.exterior.project(street.centroid))
    edge = max(parts, key=lambda g: g.length)
    return edge.interpolate(0.5, normalized=True)


def _space(
    space_id: str,
    name: str,
    kind: Literal["square", "street"],
    polygon: Polygon,
    neighbours: tuple[str, ...],
) -> SmartSpace:
    return SmartSpace(
        id=space_id,
        name=name,
        space_type=kind,
        area_m2=round(polygon.area, 1),
        geometry=geo_polygon(polygon),
        centroid=geo_point(polygon.centroid),
        neighbours=neighbours,
        attribution=ATTRIBUTION,
    )


def build_layout(osm: OsmData) -> Layout:
    """The square, its access streets, a counter at each access and a camera on each street."""
    square = build_square(osm)
    taken: BaseGeometry = square.union(obstacles(osm, square.buffer(STRETCH_M * 2)))
    streets: dict[str, Polygon] = {}
    for access in ACCESS_STREETS:
        streets[access.space_id] = street_polygon(osm, access, square, taken)
        taken = taken.union(streets[access.space_id])
    polygons = {SQUARE_ID: square, **streets}
    neighbours = {
        a: tuple(b for b in polygons if b != a and pa.distance(polygons[b]) < TOUCH_M)
        for a, pa in polygons.items()
    }
    spaces = [_space(SQUARE_ID, "Plaça de l'Ajuntament", "square", square, neighbours[SQUARE_ID])]
    counters = []
    cameras = []
    for access in ACCESS_STREETS:
        street = streets[access.space_id]
        spaces.append(
            _space(access.space_id, access.osm_name, "street", street, neighbours[access.space_id])
        )
        counters.append(
            Counter(
                id=access.counter_id,
                space_id=SQUARE_ID,
                location=geo_point(access_point(street, square)),
                street=access.osm_name,
                street_space_id=access.space_id,
            )
        )
        cameras.append(
            Camera(
                id=access.camera_id,
                space_id=access.space_id,
                location=geo_point(street.representative_point()),
            )
        )
    return Layout(tuple(spaces), tuple(counters), tuple(cameras), source_sha256=osm.sha256)
