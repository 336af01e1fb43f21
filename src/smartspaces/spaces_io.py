"""Smart spaces from GeoJSON: polygons in WGS84, areas measured in the local UTM zone.

Any city's spaces can be loaded, not just the demo's: the metric projection is the UTM zone of
each polygon's centroid, so areas are square metres wherever the city is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import shapely
from pydantic import ValidationError
from pyproj import Transformer
from shapely.geometry import Polygon, shape

from smartspaces.errors import RejectedInput
from smartspaces.events import GeoPoint, GeoPolygon, SmartSpace

MAX_FILE_BYTES = 50_000_000


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 / UTM zone holding a point."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def space_from_polygon(
    polygon: Polygon, space_id: str, name: str, space_type: str = "zone", attribution: str = ""
) -> SmartSpace:
    """A SmartSpace with its area computed in metres (raises RejectedInput if unusable)."""
    if polygon.is_empty or not polygon.is_valid:
        raise RejectedInput(f"{space_id}: the polygon is empty or self-intersecting")
    centre = polygon.centroid
    project = Transformer.from_crs(4326, utm_epsg(centre.x, centre.y), always_xy=True).transform
    area = shapely.transform(polygon, project, interleaved=False).area
    if area <= 0:
        raise RejectedInput(f"{space_id}: the polygon has no area")
    ring = tuple((round(x, 7), round(y, 7)) for x, y in polygon.exterior.coords)
    holes = tuple(tuple((round(x, 7), round(y, 7)) for x, y in h.coords) for h in polygon.interiors)
    try:
        return SmartSpace(
            id=space_id,
            name=name[:200] or space_id,
            space_type=space_type,
            area_m2=round(area, 1),
            geometry=GeoPolygon(coordinates=(ring, *holes)),
            centroid=GeoPoint(coordinates=(round(centre.x, 7), round(centre.y, 7))),
            attribution=attribution,
        )
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        raise RejectedInput(
            f"{space_id}: {'.'.join(map(str, first['loc']))}: {first['msg']}"
        ) from error


def spaces_from_geojson(
    path: Path,
    id_property: str = "id",
    name_property: str = "name",
    space_type: str = "zone",
    attribution: str = "",
) -> tuple[list[SmartSpace], list[str]]:
    """The polygon features of a FeatureCollection as spaces, and a reason for each refused one."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RejectedInput(f"{path.name} is over {MAX_FILE_BYTES} bytes")
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RejectedInput(f"{path.name} is not GeoJSON: {error}") from error
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RejectedInput(f"{path.name} is not a GeoJSON FeatureCollection")
    spaces: list[SmartSpace] = []
    refused: list[str] = []
    seen: set[str] = set()
    for index, feature in enumerate(data.get("features") or []):
        properties = (feature or {}).get("properties") or {}
        raw_id = str(properties.get(id_property, feature.get("id", "")))
        space_id = re.sub(r"[^A-Za-z0-9_:\-]+", "-", raw_id).strip("-")[:128]
        if not space_id or space_id in seen:
            # two features under one id would silently replace each other: refuse the second
            refused.append(f"feature {index}: id {space_id!r} is empty or used twice")
            continue
        seen.add(space_id)
        try:
            geometry = shape(feature["geometry"])
            if not isinstance(geometry, Polygon):
                raise RejectedInput(f"feature {index}: {geometry.geom_type} is not a Polygon")
            spaces.append(
                space_from_polygon(
                    geometry,
                    space_id,
                    str(properties.get(name_property, space_id)),
                    space_type,
                    attribution,
                )
            )
        except RejectedInput as error:
            refused.append(error.reason)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            refused.append(f"feature {index}: unreadable geometry ({error})")
    return spaces, refused
