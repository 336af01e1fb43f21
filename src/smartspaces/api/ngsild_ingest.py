"""NGSI-LD entities in: normal form, schema, device, observations; one entity at a time.

An entity is taken whole or not at all (its observations are published together), and every
refusal is kept as a dead letter with the reason. Errors follow NGSI-LD's ProblemDetails types.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

from smartspaces.bootstrap import Services
from smartspaces.edge.devices import authorise
from smartspaces.edge.ngsild.entities import (
    BadEntity,
    entity_identity,
    observation_items,
    to_key_values,
)
from smartspaces.edge.ngsild.schemas import SchemaViolation
from smartspaces.edge.observations import validate_observations
from smartspaces.errors import RejectedInput
from smartspaces.events import Device

ADAPTER = "ngsi-ld"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
Mode = Literal["create", "upsert", "patch"]


class EntityError(Exception):
    """Why an entity was refused, as NGSI-LD ProblemDetails."""

    def __init__(self, status: int, kind: str, detail: str, entity_id: str = "") -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail, self.entity_id = status, kind, detail, entity_id

    def problem(self) -> dict[str, Any]:
        return {"type": ERRORS + self.kind, "title": self.kind, "detail": self.detail}


async def take_entity(
    services: Services, sender: Device | None, raw: Any, mode: Mode, entity_id: str = ""
) -> bool:
    """Process one entity; True if it was new. Raises EntityError (and dead-letters it)."""
    try:
        return await _take(services, sender, raw, mode, entity_id)
    except EntityError as error:
        await asyncio.to_thread(
            services.store.add_dead_letter,
            ADAPTER,
            f"{error.kind}: {error.detail}",
            json.dumps(raw, default=str)[:65_536],
            services.clock.now(),
        )
        raise


async def _take(
    services: Services, sender: Device | None, raw: Any, mode: Mode, entity_id: str
) -> bool:
    now = services.clock.now()
    try:
        entity = to_key_values(raw)
        if mode == "patch":
            entity = {**entity, "id": entity_id}
        target = str(entity.get("id", ""))[:256]
        existing = await asyncio.to_thread(services.store.devices.entity, target)
        if mode == "create" and existing is not None:
            raise EntityError(409, "AlreadyExists", f"entity {target} already exists", target)
        if mode == "patch":
            if existing is None:
                raise EntityError(404, "ResourceNotFound", f"no entity {target}", target)
            entity = {**existing, **{k: v for k, v in entity.items() if k not in ("id", "type")}}
        entity_type, device_id = entity_identity(entity)
        services.schemas.validate(entity)
    except (BadEntity, SchemaViolation) as error:
        raise EntityError(400, "BadRequestData", error.reason, str(_id_of(raw))) from error
    device = await asyncio.to_thread(services.store.devices.get, device_id)
    if device is None:
        raise EntityError(400, "BadRequestData", f"unknown device {device_id!r}", target)
    try:
        items = observation_items(entity, device.id, device.space_id, now)
    except RejectedInput as error:
        raise EntityError(400, "BadRequestData", error.reason, target) from error
    spaces = {space.id for space in services.spaces}
    result = validate_observations(items, ADAPTER, spaces, now, services.settings.api)
    reasons = [r.reason for r in result.rejected]
    if sender is not None:
        _, refused = authorise(sender, result.accepted, {device.id: device})
        reasons += [reason for _, reason in refused]
    if reasons:
        raise EntityError(400, "BadRequestData", "; ".join(reasons[:5]), target)
    await services.runtime.publish(result.accepted)
    await asyncio.to_thread(services.store.devices.put_entity, entity, now)
    return existing is None


def _id_of(raw: Any) -> str:
    return str(raw.get("id", ""))[:256] if isinstance(raw, dict) else ""
