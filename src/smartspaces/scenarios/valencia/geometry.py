"""Geometry helpers: WGS84 <-> ETRS89 / UTM 30N, OSM ways and multipolygons as shapely shapes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from smartspaces.events import GeoPoint, GeoPolygon
from smartspaces.scenarios.valencia.osm import OsmData, OsmRelation, OsmWay

METRIC_CRS = "EPSG:25830"
"""ETRS89 / UTM zone 30N: the official metric grid for Valencia; areas and widths live here."""

Coords = NDArray[np.float64]


def _projection(source: str, target: str) -> Callable[[Coords], Coords]:
    transformer = Transformer.from_crs(source, target, always_xy=True)

    def project(xy: Coords) -> Coords:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return project


_TO_METRIC = _projection("EPSG:4326", METRIC_CRS)
_TO_WGS84 = _projection(METRIC_CRS, "EPSG:4326")

G = TypeVar("G", bound=BaseGeometry)


def to_metric(geom: G) -> G:
    """Project a lon/lat geometry to metres (EPSG:25830)."""
    projected: G = shapely.transform(geom, _TO_METRIC)
    return projected


def to_wgs84(geom: G) -> G:
    """Project a metric (EPSG:25830) geometry back to lon/lat."""
    projected: G = shapely.transform(geom, _TO_WGS84)
    return projected


def way_line(osm: OsmData, way: OsmWay) -> LineString:
    """A way as a metric line."""
    return to_metric(LineString(osm.coords(way)))


def way_polygon(osm: OsmData, way: OsmWay) -> Polygon:
    """A closed way as a metric polygon (made valid if the mapper's ring self-intersects)."""
    return largest_polygon(shapely.make_valid(to_metric(Polygon(osm.coords(way)))))


def multipolygon(osm: OsmData, relation: OsmRelation) -> BaseGeometry:
    """A multipolygon relation as a metric area, filled by ring nesting (even-odd).

    Member roles are ignored: a ring inside another is a hole whatever its role says, as the
    OGC model requires (outer rings may not overlap). This repairs the common mapping slip of a
    second ``outer`` drawn inside the first (a fountain pool inside a pedestrian island).
    """
    lines = [
        way_line(osm, osm.ways[m.ref])
        for m in relation.members
        if m.type == "way" and m.ref in osm.ways
    ]
    merged = linemerge(lines) if lines else LineString()
    parts = list(getattr(merged, "geoms", [merged]))
    rings = [Polygon(p.coords) for p in parts if p.is_closed and len(p.coords) >= 4]
    # Even-odd fill: the symmetric difference of all rings is the area inside an odd number.
    fill: BaseGeometry = Polygon()
    for ring in rings:
        fill = fill.symmetric_difference(ring)
    return fill


def largest_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon of a geometry, collections included (empty polygon if none)."""
    parts = [geom]
    polygons: list[Polygon] = []
    while parts:
        part = parts.pop()
        if isinstance(part, Polygon):
            polygons.append(part)
        else:
            parts.extend(getattr(part, "geoms", []))
    return max(polygons, key=lambda p: p.area) if polygons else Polygon()


def union_all(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    """The union of some geometries (empty polygon for none)."""
    items = list(geoms)
    return shapely.union_all(items) if items else Polygon()


def geo_polygon(polygon: Polygon, digits: int = 7) -> GeoPolygon:
    """A metric polygon as a WGS84 ``GeoPolygon`` rounded to ``digits`` (7: about 1 cm)."""
    wgs = shapely.set_precision(to_wgs84(shapely.orient_polygons(polygon)), 10.0**-digits)
    if not isinstance(wgs, Polygon):
        wgs = largest_polygon(wgs)
    rings = [wgs.exterior, *wgs.interiors]
    return GeoPolygon(
        coordinates=tuple(
            tuple((round(x, digits), round(y, digits)) for x, y in ring.coords) for ring in rings
        )
    )


def geo_point(point: Point, digits: int = 7) -> GeoPoint:
    """A metric point as a WGS84 ``GeoPoint``."""
    wgs = to_wgs84(point)
    return GeoPoint(coordinates=(round(wgs.x, digits), round(wgs.y, digits)))


def metric_polygon(polygon: GeoPolygon) -> Polygon:
    """A WGS84 ``GeoPolygon`` as a metric shapely polygon."""
    exterior, *holes = polygon.coordinates
    return to_metric(Polygon(exterior, holes))
