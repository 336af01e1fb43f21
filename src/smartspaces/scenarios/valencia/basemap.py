"""A small basemap for the map page: street centre lines and building outlines near the square."""

from __future__ import annotations

from typing import Any

from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from smartspaces.scenarios.valencia.geometry import to_wgs84, way_line, way_polygon
from smartspaces.scenarios.valencia.layout import ATTRIBUTION
from smartspaces.scenarios.valencia.osm import OsmData

RADIUS_M = 450.0
"""How far from the square the basemap reaches: the old town blocks a responder walks through."""
DIGITS = 6
"""Coordinate decimals: 6 is about 10 cm at this latitude, plenty for a city map."""


def _coords(geom: BaseGeometry) -> Any:
    wgs = to_wgs84(geom)
    if isinstance(wgs, LineString):
        return [[round(x, DIGITS), round(y, DIGITS)] for x, y in wgs.coords]
    if isinstance(wgs, Polygon):
        return [
            [[round(x, DIGITS), round(y, DIGITS)] for x, y in ring.coords]
            for ring in (wgs.exterior, *wgs.interiors)
        ]
    raise TypeError(wgs.geom_type)


def _parts(geom: BaseGeometry, kind: type[BaseGeometry]) -> list[BaseGeometry]:
    return [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, kind) and not g.is_empty]


def basemap_geojson(osm: OsmData, square: Polygon, source_name: str) -> dict[str, Any]:
    """Highway centre lines and buildings within ``RADIUS_M`` of the square, clipped to it."""
    area = square.buffer(RADIUS_M)
    features: list[dict[str, Any]] = []
    for way in sorted(osm.ways.values(), key=lambda w: w.id):
        tags = way.tags
        if "highway" in tags and tags.get("area") != "yes":
            clipped = way_line(osm, way).intersection(area)
            props = {"kind": "highway", "highway": tags["highway"]}
            if "name" in tags:
                props["name"] = tags["name"]
            # A way that leaves the circle and comes back is clipped into several lines.
            for part in _parts(clipped, LineString):
                geometry = {"type": "LineString", "coordinates": _coords(part)}
                features.append({"type": "Feature", "geometry": geometry, "properties": props})
        elif "building" in tags and way.closed:
            polygon = way_polygon(osm, way)
            if polygon.intersects(area):
                props = {"kind": "building"}
                if "name" in tags:
                    props["name"] = tags["name"]
                geometry = {"type": "Polygon", "coordinates": _coords(polygon)}
                features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {
        "type": "FeatureCollection",
        "properties": {
            "attribution": ATTRIBUTION,
            "license": "ODbL-1.0",
            "source": source_name,
            "source_sha256": osm.sha256,
            "radius_m": RADIUS_M,
        },
        "features": features,
    }
