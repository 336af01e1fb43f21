"""NGSI-LD entities to observation items: normal forms, device of an entity, type mappings.

Pure. Entities come in key-values form or in NGSI-LD's normalized form (``{"type": "Property",
"value": ...}``); both are brought to key-values, then each accepted type is mapped to wire
observation items (the dicts ``edge.observations`` validates), so units, ranges and times are
checked exactly as for every other adapter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from smartspaces.errors import RejectedInput

ACCEPTED_TYPES = ("CrowdFlowObserved", "NoiseLevelObserved", "Device")
_URN = re.compile(r"^urn:ngsi-ld:([A-Za-z][A-Za-z0-9]{0,63}):([A-Za-z0-9][A-Za-z0-9._:\-]{0,127})$")
_ATTRIBUTE_TYPES = ("Property", "GeoProperty", "Relationship", "LanguageProperty")


class BadEntity(RejectedInput):
    """An entity that is not NGSI-LD or not of a type we accept."""


def to_key_values(entity: Any) -> dict[str, Any]:
    """Key-values form of an entity in either form (``@context`` is dropped, never fetched)."""
    if not isinstance(entity, dict):
        raise BadEntity(f"an entity must be a JSON object, got {type(entity).__name__}")
    result: dict[str, Any] = {}
    for key, value in entity.items():
        if key == "@context":
            continue
        if key in ("id", "type"):
            result[key] = value
        elif isinstance(value, list) and value and all(_is_attribute(v) for v in value):
            raise BadEntity(f"{key}: multi-attributes (datasetId) are not supported")
        elif _is_attribute(value):
            result[key] = _attribute_value(key, value)
        else:
            result[key] = value
    return result


def entity_identity(entity: dict[str, Any]) -> tuple[str, str]:
    """The entity's type and the device it speaks for: ``refDevice`` if present, else the last
    part of its URN id (``urn:ngsi-ld:CrowdFlowObserved:counter-ribera`` -> counter-ribera)."""
    entity_id, entity_type = entity.get("id"), entity.get("type")
    if not isinstance(entity_id, str) or not isinstance(entity_type, str):
        raise BadEntity("id and type are required strings")
    match = _URN.match(entity_id)
    if match is None:
        raise BadEntity(f"id: {entity_id[:80]!r} is not urn:ngsi-ld:<Type>:<name>")
    if entity_type not in ACCEPTED_TYPES:
        raise BadEntity(
            f"type: {entity_type[:64]!r} is not accepted here ({', '.join(ACCEPTED_TYPES)})"
        )
    if match.group(1) != entity_type:
        raise BadEntity(f"id: names type {match.group(1)!r} but type is {entity_type!r}")
    reference = entity.get("refDevice")
    if isinstance(reference, list) and len(reference) == 1:
        reference = reference[0]
    if isinstance(reference, str):
        device = _URN.match(reference)
        if device is None:
            raise BadEntity(f"refDevice: {reference[:80]!r} is not urn:ngsi-ld:Device:<name>")
        return entity_type, device.group(2)
    return entity_type, match.group(2)


def observation_items(
    entity: dict[str, Any], device_id: str, space_id: str, now: datetime
) -> list[dict[str, Any]]:
    """The wire observation items an entity (key-values) carries; empty if it carries none."""
    mapper = _MAPPERS[str(entity["type"])]
    return [{"sensor_id": device_id, "space_id": space_id, **item} for item in mapper(entity, now)]


def _crowd_flow(entity: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    start, end = _times(entity, now)
    interval = (end - start).total_seconds() if start is not None else None
    common: dict[str, Any] = {"observed_at": end.isoformat()}
    if interval is not None:
        if interval <= 0:
            raise BadEntity("dateObservedFrom must be before dateObservedTo")
        common["interval_s"] = interval
    items = []
    # "towards" is into the space the counter serves, "away" out of it.
    for attribute, quantity in (
        ("peopleCountTowards", "entries_count"),
        ("peopleCountAway", "exits_count"),
    ):
        if attribute in entity:
            items.append({**common, "quantity": quantity, "value": entity[attribute]})
    if not items and "peopleCount" in entity:
        items.append({**common, "quantity": "passersby_count", "value": entity["peopleCount"]})
    if "averageCrowdSpeed" in entity:  # Smart Data Models give it in km/h
        items.append(
            {
                **common,
                "quantity": "speed_m_s",
                "value": entity["averageCrowdSpeed"],
                "unit": "km/h",
            }
        )
    return items


def _noise(entity: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    _, end = _times(entity, now)
    if "LAeq" not in entity:
        return []
    return [
        {
            "observed_at": end.isoformat(),
            "quantity": "noise_laeq_dba",
            "value": entity["LAeq"],
            "unit": "dBA",
        }
    ]


def _device(entity: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    if "batteryLevel" not in entity:
        return []
    when = _parse_time(entity.get("dateLastValueReported") or entity.get("dateObserved"))
    at = when or now
    return [
        {
            "observed_at": at.isoformat(),
            "quantity": "battery_ratio",
            "value": entity["batteryLevel"],
        }
    ]


_MAPPERS: dict[str, Callable[[dict[str, Any], datetime], list[dict[str, Any]]]] = {
    "CrowdFlowObserved": _crowd_flow,
    "NoiseLevelObserved": _noise,
    "Device": _device,
}


def _times(entity: dict[str, Any], now: datetime) -> tuple[datetime | None, datetime]:
    start = _parse_time(entity.get("dateObservedFrom"))
    end = _parse_time(entity.get("dateObservedTo"))
    observed = entity.get("dateObserved")
    if isinstance(observed, str) and "/" in observed:  # an ISO 8601 interval
        first, _, last = observed.partition("/")
        start, end = start or _parse_time(first), end or _parse_time(last)
    elif end is None:
        end = _parse_time(observed)
    if end is None:
        raise BadEntity("dateObserved or dateObservedTo is required")
    return start, end


def _parse_time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise BadEntity(f"a date-time must be an ISO 8601 string, got {str(value)[:40]!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadEntity(f"{value!r} is not an ISO 8601 date-time") from error
    # NGSI-LD DateTime values are UTC by definition (ETSI GS CIM 009); a missing offset means UTC.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _is_attribute(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _ATTRIBUTE_TYPES


def _attribute_value(key: str, attribute: dict[str, Any]) -> Any:
    if attribute["type"] == "Relationship":
        if "object" not in attribute:
            raise BadEntity(f"{key}: a Relationship needs an object")
        return attribute["object"]
    if "value" not in attribute:
        raise BadEntity(f"{key}: a {attribute['type']} needs a value")
    value = attribute["value"]
    if isinstance(value, dict) and "@value" in value:  # {"@type": "DateTime", "@value": ...}
        return value["@value"]
    return value
