"""Load a city model from YAML or GeoJSON, validating everything before anything is used.

YAML::

    name: valencia-old-town
    reach_m: 500                 # optional: how far from a space an asset may serve it
    assets:
      - id: metro-xativa
        name: Metro Xàtiva
        kind: metro_station
        location: [-0.3775, 39.4672]   # longitude, latitude (WGS84)
        serves: [plaza-ayuntamiento]
        criticality: 4                 # 1 (minor) to 5 (vital)
        backup_s: {power: 1800}        # optional ride-through per service
        depends_on:                    # optional, same as a dependencies entry
          - {supplier: substation-centre, service: power, delay_s: 30}
    dependencies:
      - {supplier: telecom-centre, dependent: metro-xativa, service: telecom, delay_s: 60}

GeoJSON: a FeatureCollection of Points whose properties are an asset's fields (``depends_on``
included); ``name`` and ``reach_m`` may sit in the collection's ``properties``.

Every problem is reported with the asset it concerns; loading raises ``CityModelError`` and has
no other effect, so whoever holds the previous model keeps it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from smartspaces.city.errors import CityModelError
from smartspaces.city.model import Asset, CityModel, Dependency
from smartspaces.city.placement import DEFAULT_REACH_M, check_placement
from smartspaces.events import SmartSpace

MAX_BYTES = 10_000_000
MAX_ASSETS = 100_000
_TOP_KEYS = {"name", "reach_m", "assets", "dependencies"}


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""Safe YAML (no Python objects), in C where libyaml is there: three times faster."""


def _read_yaml(text: str) -> Any:
    # Aliases are refused before anything is built: an alias bomb expands to gigabytes when
    # walked, and a city model has no use for them.
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            mark: Any = event.start_mark
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases are not supported", problem_mark=mark
            )
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def load_city_model(path: Path, spaces: Iterable[SmartSpace]) -> CityModel:
    """Read a ``.yaml``/``.yml`` or ``.geojson``/``.json`` city model file and validate it."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CityModelError(path.name, [f"the file is over {MAX_BYTES:,} bytes"])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CityModelError(path.name, [f"cannot read the file: {error}"]) from error
    if path.suffix.lower() in (".geojson", ".json"):
        return parse_city_geojson(text, spaces, source=path.name)
    return parse_city_yaml(text, spaces, source=path.name)


def parse_city_yaml(
    text: str, spaces: Iterable[SmartSpace], source: str = "city.yaml"
) -> CityModel:
    """A city model from YAML text (see the module docstring for the format)."""
    if len(text) > MAX_BYTES:
        raise CityModelError(source, [f"the text is over {MAX_BYTES:,} characters"])
    try:
        doc = _read_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise CityModelError(source, [f"not valid YAML{where}: {problem}"]) from error
    if not isinstance(doc, dict):
        raise CityModelError(source, ["the document must be a mapping with 'assets'"])
    unknown = sorted(str(k) for k in doc if k not in _TOP_KEYS)
    if unknown:
        raise CityModelError(source, [f"unknown top-level keys: {', '.join(unknown)}"])
    return _build(doc, spaces, source)


def parse_city_geojson(
    text: str, spaces: Iterable[SmartSpace], source: str = "city.geojson"
) -> CityModel:
    """A city model from a GeoJSON FeatureCollection of Points (properties: asset fields)."""
    if len(text) > MAX_BYTES:
        raise CityModelError(source, [f"the text is over {MAX_BYTES:,} characters"])
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise CityModelError(
            source, [f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from error
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise CityModelError(source, ["not a GeoJSON FeatureCollection"])
    features = doc.get("features")
    if not isinstance(features, list):
        raise CityModelError(source, ["'features' must be a list"])
    props: dict[str, Any] = doc["properties"] if isinstance(doc.get("properties"), dict) else {}
    assets: list[Any] = []
    problems: list[str] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            problems.append(f"feature #{index + 1} is not a Feature with properties")
            continue
        fields = dict(feature["properties"])
        fields.setdefault("id", feature.get("id"))
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            problems.append(f"asset {_name(fields, index)}: the geometry must be a Point")
            continue
        fields["location"] = geometry
        assets.append(fields)
    if problems:
        raise CityModelError(source, problems)
    body = {
        "name": props.get("name", source),
        "reach_m": props.get("reach_m", DEFAULT_REACH_M),
        "assets": assets,
        "dependencies": doc.get("dependencies", []),
    }
    return _build(body, spaces, source)


def _name(fields: Mapping[str, Any], index: int) -> str:
    raw = fields.get("id")
    return f"'{raw}'" if isinstance(raw, str) and raw else f"#{index + 1} (no id)"


def _errors(prefix: str, error: ValidationError) -> list[str]:
    found = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"])
        found.append(f"{prefix}: {where + ': ' if where else ''}{item['msg']}")
    return found


def _build(doc: Mapping[str, Any], spaces: Iterable[SmartSpace], source: str) -> CityModel:
    raw_assets = doc.get("assets")
    raw_deps = doc.get("dependencies") or []
    name = doc.get("name") or source
    reach = doc.get("reach_m", DEFAULT_REACH_M)
    problems: list[str] = []
    if not isinstance(raw_assets, list) or not raw_assets:
        problems.append("'assets' must be a non-empty list")
    elif len(raw_assets) > MAX_ASSETS:
        problems.append(f"over {MAX_ASSETS:,} assets")
    if not isinstance(raw_deps, list):
        problems.append("'dependencies' must be a list")
    if not isinstance(name, str):
        problems.append("'name' must be text")
    if isinstance(reach, bool) or not isinstance(reach, int | float) or not 0 <= reach <= 50_000:
        problems.append(f"'reach_m' must be a number of metres in 0..50000, not {reach!r}")
    if problems or not isinstance(raw_assets, list) or not isinstance(raw_deps, list):
        raise CityModelError(source, problems)
    assets: list[Asset] = []
    deps: list[Dependency] = []
    for index, raw in enumerate(raw_assets):
        if not isinstance(raw, dict):
            problems.append(f"asset #{index + 1} is not a mapping")
            continue
        fields = dict(raw)
        label = f"asset {_name(fields, index)}"
        inline = fields.pop("depends_on", [])
        if isinstance(fields.get("location"), list):  # the YAML shorthand [lon, lat]
            fields["location"] = {"type": "Point", "coordinates": fields["location"]}
        try:
            asset = Asset.model_validate(fields)
        except ValidationError as error:
            problems.extend(_errors(label, error))
            continue
        assets.append(asset)
        if not isinstance(inline, list):
            problems.append(f"{label}: depends_on must be a list")
            continue
        for link in inline:
            if not isinstance(link, dict):
                problems.append(f"{label}: each depends_on entry must be a mapping")
                continue
            raw_deps_entry = {**link, "dependent": asset.id}
            deps.extend(_dependency(raw_deps_entry, f"{label}: depends_on", problems))
    for index, raw in enumerate(raw_deps):
        deps.extend(_dependency(raw, f"dependency #{index + 1}", problems))
    if problems:
        raise CityModelError(source, problems)
    known = {space.id: space for space in spaces}
    nearest, placement = check_placement(assets, known, float(reach))
    if placement:
        raise CityModelError(source, placement)
    return CityModel.build(str(name), assets, deps, nearest, source=source)


def _dependency(raw: Any, label: str, problems: list[str]) -> list[Dependency]:
    if not isinstance(raw, dict):
        problems.append(f"{label} is not a mapping")
        return []
    ends = f"{raw.get('supplier', '?')} -> {raw.get('dependent', '?')}"
    try:
        return [Dependency.model_validate(raw)]
    except ValidationError as error:
        problems.extend(_errors(f"{label} ({ends})", error))
        return []
