"""Devices to and from FIWARE Smart Data Models ``Device`` entities (key-values form).

The standard has no words for our exact quantities or for the smart space a device serves, so
export writes the nearest ``controlledProperty`` values and ``areaServed`` (the space id), plus
``smartspacesQuantities``/``smartspacesKind`` so that a re-import loses nothing; an import from
elsewhere maps ``controlledProperty`` back to the quantities it implies.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from smartspaces.edge.ngsild.entities import BadEntity, entity_identity, to_key_values
from smartspaces.events import Device

_PROPERTY_OF = {
    "entries_count": "occupancy",
    "exits_count": "occupancy",
    "passersby_count": "occupancy",
    "occupancy_persons": "occupancy",
    "density_p_m2": "occupancy",
    "speed_m_s": "speed",
    "flow_p_m_s": "trafficFlow",
    "noise_laeq_dba": "noiseLevel",
    "temperature_k": "temperature",
    "battery_ratio": "batteryLife",
}
_QUANTITIES_OF = {
    "occupancy": ("entries_count", "exits_count", "occupancy_persons"),
    "speed": ("speed_m_s",),
    "trafficFlow": ("flow_p_m_s",),
    "noiseLevel": ("noise_laeq_dba",),
    "temperature": ("temperature_k",),
    "batteryLife": ("battery_ratio",),
}
_CATEGORY = {"camera": "multimedia", "gateway": "network"}
_KIND_OF_PROPERTY = {"occupancy": "people_counter", "noiseLevel": "noise_sensor"}


def device_to_sdm(device: Device) -> dict[str, Any]:
    """The device as a Smart Data Models Device entity (never includes the token hash)."""
    properties = sorted({_PROPERTY_OF[q] for q in device.quantities if q in _PROPERTY_OF})
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Device:{device.id}",
        "type": "Device",
        "controlledProperty": properties or ["occupancy"],
        "deviceCategory": [_CATEGORY.get(device.kind, "sensor")],
        "areaServed": device.space_id,
        "deviceState": "ok" if device.status == "active" else "disabled",
        "smartspacesKind": device.kind,
        "smartspacesQuantities": list(device.quantities),
    }
    if device.name:
        entity["name"] = device.name
    if device.location is not None:
        entity["location"] = device.location.model_dump(mode="json")
    if device.gateway_id:
        entity["refGateway"] = f"urn:ngsi-ld:Device:{device.gateway_id}"
    return entity


def device_from_sdm(raw: Any, default_space: str | None = None) -> Device:
    """A Device from an entity in either form (raises BadEntity with the reason)."""
    entity = to_key_values(raw)
    entity_type, device_id = entity_identity(entity)
    if entity_type != "Device":
        raise BadEntity(f"type: expected Device, got {entity_type!r}")
    properties = entity.get("controlledProperty") or []
    quantities = entity.get("smartspacesQuantities") or [
        q for p in properties if isinstance(p, str) for q in _QUANTITIES_OF.get(p, ())
    ]
    kind = entity.get("smartspacesKind") or next(
        (_KIND_OF_PROPERTY[p] for p in properties if p in _KIND_OF_PROPERTY), "other"
    )
    space = entity.get("areaServed") or default_space
    if not isinstance(space, str):
        raise BadEntity("areaServed: the smart space the device serves is required")
    gateway = entity.get("refGateway")
    try:
        return Device(
            id=device_id,
            kind=kind,
            space_id=space,
            quantities=tuple(quantities),
            location=entity.get("location"),
            gateway_id=gateway.rsplit(":", 1)[-1] if isinstance(gateway, str) else None,
            status="active" if entity.get("deviceState", "ok") == "ok" else "disabled",
            name=str(entity.get("name", ""))[:200],
        )
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadEntity(f"{where}: {first['msg']}") from error
