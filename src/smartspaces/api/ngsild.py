"""NGSI-LD subset: create, batch upsert and attribute patch of Smart Data Models entities."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from smartspaces.api.deps import ServicesDep
from smartspaces.api.device_auth import Sender
from smartspaces.api.hardening import nests_deeper
from smartspaces.api.ingest import BodyTooLarge, dead_letter_body, read_limited
from smartspaces.api.ngsild_ingest import ADAPTER, ERRORS, EntityError, take_entity
from smartspaces.bootstrap import Services
from smartspaces.events import Device

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD"])
MAX_BATCH = 1000
SenderDep = Annotated[Device | None, Sender(ADAPTER)]
_ENTITY = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {"id": {"type": "string"}, "type": {"type": "string"}},
    "description": "A Smart Data Models entity (key-values or normalized)",
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    content = {kind: {"schema": schema} for kind in ("application/json", "application/ld+json")}
    return {"requestBody": {"required": True, "content": content}}


_DENIALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, unknown or revoked device token"},
    403: {"description": "Not a device: only devices send entities"},
}


def _problem(status: int, kind: str, detail: str) -> JSONResponse:
    body = {"type": ERRORS + kind, "title": kind, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


async def _json_body(request: Request, services: Services, limit: int) -> Any:
    body = b""
    depth = services.settings.security.max_json_depth
    try:
        body = await read_limited(request, limit)
        if nests_deeper(body, depth):
            raise EntityError(400, "InvalidRequest", f"body nests deeper than {depth} levels")
        return json.loads(body.decode("utf-8"))
    except BodyTooLarge as error:
        problem = EntityError(413, "RequestEntityTooLarge", error.reason)
    except EntityError as error:
        problem = error
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        problem = EntityError(400, "InvalidRequest", f"body is not JSON: {error}")
    await dead_letter_body(services, f"{problem.kind}: {problem.detail}", body, ADAPTER)
    raise problem


@router.post("/entities", status_code=201, responses=_DENIALS, openapi_extra=_body(_ENTITY))
async def create_entity(request: Request, services: ServicesDep, sender: SenderDep) -> Response:
    """Create an entity (CrowdFlowObserved, NoiseLevelObserved, Device; key-values or
    normalized); its readings become observations. 409 if it exists already."""
    try:
        raw = await _json_body(request, services, services.settings.edge.max_message_bytes)
        await take_entity(services, sender, raw, "create")
    except EntityError as error:
        return _problem(error.status, error.kind, error.detail)
    return Response(status_code=201, headers={"Location": f"/ngsi-ld/v1/entities/{raw['id']}"})


@router.post(
    "/entityOperations/upsert",
    responses=_DENIALS,
    openapi_extra=_body({"type": "array", "items": _ENTITY, "minItems": 1, "maxItems": MAX_BATCH}),
)
async def upsert_entities(request: Request, services: ServicesDep, sender: SenderDep) -> Response:
    """Create or update each entity of an array: 201 all new, 204 all known, 207 with
    per-entity errors otherwise (the others are taken)."""
    try:
        raw = await _json_body(request, services, services.settings.api.max_body_bytes)
    except EntityError as error:
        return _problem(error.status, error.kind, error.detail)
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_BATCH:
        return _problem(400, "BadRequestData", f"send a JSON array of 1 to {MAX_BATCH} entities")
    success, errors, created = [], [], 0
    for entity in raw:
        try:
            created += await take_entity(services, sender, entity, "upsert")
            success.append(str(entity["id"]))
        except EntityError as error:
            errors.append({"entityId": error.entity_id, "error": error.problem()})
    if errors:
        return JSONResponse({"success": success, "errors": errors}, status_code=207)
    return Response(status_code=201 if created == len(raw) else 204)


@router.patch(
    "/entities/{entity_id}/attrs",
    status_code=204,
    responses=_DENIALS,
    openapi_extra=_body({"type": "object", "description": "Attributes to change"}),
)
async def patch_attributes(
    entity_id: str, request: Request, services: ServicesDep, sender: SenderDep
) -> Response:
    """Update attributes of a known entity; the merged entity is validated and mapped again."""
    try:
        raw = await _json_body(request, services, services.settings.edge.max_message_bytes)
        if not isinstance(raw, dict):
            raise EntityError(400, "BadRequestData", "an attribute fragment is a JSON object")
        await take_entity(services, sender, raw, "patch", entity_id[:256])
    except EntityError as error:
        return _problem(error.status, error.kind, error.detail)
    return Response(status_code=204)
