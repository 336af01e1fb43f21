"""The Valencia layout (spaces, people counters, cameras) and its GeoJSON file form."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from smartspaces.events import GeoPoint, Identifier, SmartSpace
from smartspaces.scenarios.valencia.errors import ScenarioDataError

ATTRIBUTION = "(c) OpenStreetMap contributors"
SQUARE_ID = "plaza-ayuntamiento"
MAX_GEOJSON_BYTES = 4 * 1024 * 1024


class Counter(BaseModel):
    """A people counter on an access point of a space: counts entries into it and exits out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    space_id: Identifier
    location: GeoPoint
    street: str
    street_space_id: Identifier


class Camera(BaseModel):
    """A camera that reports how many people are in a zone (its space) right now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    space_id: Identifier
    location: GeoPoint


@dataclass(frozen=True)
class Layout:
    """Everything the scenario knows about the place, with the provenance of the map data."""

    spaces: tuple[SmartSpace, ...]
    counters: tuple[Counter, ...]
    cameras: tuple[Camera, ...]
    source_sha256: str = ""
    source_name: str = "valencia-centre.osm"

    def space(self, space_id: str) -> SmartSpace:
        for space in self.spaces:
            if space.id == space_id:
                return space
        raise KeyError(space_id)


def _feature(kind: str, item_id: str, geometry: BaseModel, props: Mapping[str, Any]) -> Any:
    return {
        "type": "Feature",
        "id": item_id,
        "geometry": geometry.model_dump(mode="json"),
        "properties": {"kind": kind, **props},
    }


def layout_to_geojson(layout: Layout) -> dict[str, Any]:
    """The layout as a GeoJSON FeatureCollection (WGS84), provenance in top-level properties."""
    features = [
        _feature("space", s.id, s.geometry, s.model_dump(mode="json", exclude={"geometry"}))
        for s in layout.spaces
    ]
    features += [
        _feature("counter", c.id, c.location, c.model_dump(mode="json", exclude={"location"}))
        for c in layout.counters
    ]
    features += [
        _feature("camera", c.id, c.location, c.model_dump(mode="json", exclude={"location"}))
        for c in layout.cameras
    ]
    return {
        "type": "FeatureCollection",
        "properties": {
            "attribution": ATTRIBUTION,
            "license": "ODbL-1.0",
            "source": layout.source_name,
            "source_sha256": layout.source_sha256,
            "crs": "EPSG:4326",
            "area_crs": "EPSG:25830",
            "generator": "python -m smartspaces.scenarios.valencia.derive",
        },
        "features": features,
    }


def layout_from_geojson(data: bytes) -> Layout:
    """Read a layout back from its GeoJSON form, validating every feature."""
    if len(data) > MAX_GEOJSON_BYTES:
        raise ScenarioDataError("layout GeoJSON too large")
    try:
        doc = json.loads(data)
        props = doc.get("properties", {})
        spaces, counters, cameras = [], [], []
        for feature in doc["features"]:
            fields = dict(feature["properties"])
            kind = fields.pop("kind")
            if kind == "space":
                spaces.append(SmartSpace(geometry=feature["geometry"], **fields))
            elif kind == "counter":
                counters.append(Counter(location=feature["geometry"], **fields))
            elif kind == "camera":
                cameras.append(Camera(location=feature["geometry"], **fields))
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise ScenarioDataError(f"invalid layout GeoJSON: {exc}") from exc
    return Layout(
        tuple(spaces),
        tuple(counters),
        tuple(cameras),
        source_sha256=str(props.get("source_sha256", "")),
        source_name=str(props.get("source", "")),
    )
