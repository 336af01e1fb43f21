"""REST routes: observations in; spaces, alerts, provenance and health out. Handlers stay thin."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.device_auth import Sender
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.ingest import (
    BodyTooLarge,
    RateLimited,
    dead_letter_body,
    ingest,
    read_limited,
)
from smartspaces.api.views import IngestAnswer, Problem, Rejected, SpaceView
from smartspaces.errors import RejectedInput
from smartspaces.events import Device
from smartspaces.security.policy import require_space
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1")
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    413: {"model": Problem},
    429: {"model": Problem},
    422: {"model": IngestAnswer},
}


_OBSERVATION = {
    "type": "object",
    "required": ["sensor_id", "space_id", "quantity", "value", "observed_at"],
    "properties": {
        "sensor_id": {"type": "string", "maxLength": 128},
        "space_id": {"type": "string", "maxLength": 128},
        "quantity": {"type": "string", "description": "e.g. entries_count, occupancy_persons"},
        "value": {"type": "number", "description": "In the unit the quantity's name ends with"},
        "observed_at": {"type": "string", "format": "date-time"},
        "interval_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        "unit": {"type": "string", "maxLength": 64, "description": "If not the SI unit"},
        "location": {"type": "object", "description": "GeoJSON Point"},
    },
}
_OBSERVATIONS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": _OBSERVATION}, _OBSERVATION]}
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One observation object per line"}
            },
        },
    }
}


@router.post(
    "/observations",
    status_code=202,
    response_model=IngestAnswer,
    responses=_PROBLEMS,
    openapi_extra=_OBSERVATIONS_BODY,
)
async def post_observations(
    request: Request,
    services: ServicesDep,
    sender: Annotated[Device | None, Sender("http")],
) -> JSONResponse:
    """Ingest a JSON array of observations (or one object), or JSON lines
    (``application/x-ndjson``), sent with a device token (``Authorization: Bearer``). Valid
    items are kept even when others are rejected: the answer is then 422 and lists each rejected
    item with its reason."""
    limits = services.settings.api
    try:
        body = await read_limited(request, limits.max_body_bytes)
    except BodyTooLarge as error:
        await dead_letter_body(services, error.reason, b"")
        return JSONResponse({"detail": error.reason}, status_code=413)
    try:
        outcome = await ingest(services, body, request.headers.get("content-type", ""), sender)
    except RateLimited as error:
        await dead_letter_body(services, error.reason, body)
        return JSONResponse({"detail": error.reason}, status_code=429, headers={"Retry-After": "1"})
    except RejectedInput as error:
        await dead_letter_body(services, error.reason, body)
        status = 413 if error.reason.startswith("batch of") else 400
        return JSONResponse({"detail": error.reason}, status_code=status)
    rejected = [Rejected(index=r.index, reason=r.reason) for r in outcome.result.rejected]
    answer = IngestAnswer(
        accepted=len(outcome.result.accepted),
        ids=[o.id for o in outcome.result.accepted],
        rejected=rejected,
        detail=f"{len(outcome.result.accepted)} of {outcome.total} observations accepted"
        + (f"; {len(rejected)} rejected and kept as dead letters" if rejected else ""),
    )
    return JSONResponse(answer.model_dump(), status_code=422 if rejected else 202)


@router.get("/spaces", response_model=list[SpaceView], responses=DENIALS)
async def list_spaces(
    services: ServicesDep, who: Annotated[Principal, Who("spaces.read")]
) -> list[SpaceView]:
    """Every smart space the caller may see, with its live occupancy, density, level of
    service and risk."""
    status = await asyncio.to_thread(services.store.status)
    return [
        SpaceView.of(space, status.get(space.id))
        for space in services.spaces
        if who.may_see_space(space.id)
    ]


@router.get(
    "/spaces/{space_id}",
    response_model=SpaceView,
    responses={404: {"model": Problem}, **DENIALS},
)
async def get_space(
    space_id: str, services: ServicesDep, who: Annotated[Principal, Who("spaces.read")]
) -> SpaceView:
    """One smart space with its live state."""
    space = next((s for s in services.spaces if s.id == space_id), None)
    if space is None:
        raise HTTPException(404, f"unknown space {space_id[:128]!r}")
    require_space(who, space_id)
    status = await asyncio.to_thread(services.store.status)
    return SpaceView.of(space, status.get(space_id))


@router.get("/alerts", responses=DENIALS)
async def list_alerts(
    access: AccessDep,
    who: Annotated[Principal, Who("alerts.read")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    space_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[dict[str, Any]]:
    """The newest alerts the caller's agency receives or was shared, first (CAP 1.2
    vocabulary: severity, urgency, certainty, msg_type). The read is audited."""
    alerts = await asyncio.to_thread(access.visible_alerts, who, limit, space_id)
    details = {"space_id": space_id, "count": len(alerts)}
    await asyncio.to_thread(access.audit, who, "alerts.read", "alerts", details)
    return [a.model_dump(mode="json") for a in alerts]


@router.get("/events/{event_id}/provenance", responses={404: {"model": Problem}, **DENIALS})
async def provenance(
    event_id: str,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("events.provenance")],
) -> list[dict[str, Any]]:
    """The event and every stored event it was derived from, back to the observations."""
    chain = await asyncio.to_thread(services.store.provenance, event_id[:64])
    if not chain:
        raise HTTPException(404, f"unknown event {event_id[:64]!r}")
    await asyncio.to_thread(access.check_event, who, chain[0])
    details = {"events": len(chain)}
    await asyncio.to_thread(access.audit, who, "event.provenance", chain[0].id, details)
    return [e.model_dump(mode="json") for e in chain]


health_router = APIRouter()


@health_router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, Any]:
    """Liveness and a glance at the pipeline: stored counts per kind."""
    counts = await asyncio.to_thread(
        lambda: {k: services.store.count(k) for k in ("observation", "alert", "dead_letter")}
    )
    return {"status": "ok", "spaces": len(services.spaces), "stored": counts}
