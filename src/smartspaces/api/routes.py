"""REST routes: observations in; spaces, alerts, provenance and health out. Handlers stay thin."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from smartspaces.api.deps import ServicesDep
from smartspaces.api.device_auth import sending_device
from smartspaces.api.ingest import (
    BodyTooLarge,
    RateLimited,
    dead_letter_body,
    ingest,
    read_limited,
)
from smartspaces.api.views import IngestAnswer, Problem, Rejected, SpaceView
from smartspaces.errors import RejectedInput

router = APIRouter(prefix="/api/v1")
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    413: {"model": Problem},
    429: {"model": Problem},
    422: {"model": IngestAnswer},
}


@router.post("/observations", status_code=202, response_model=IngestAnswer, responses=_PROBLEMS)
async def post_observations(request: Request, services: ServicesDep) -> JSONResponse:
    """Ingest a JSON array of observations (or one object), or JSON lines
    (``application/x-ndjson``), sent with a device token (``Authorization: Bearer``). Valid
    items are kept even when others are rejected: the answer is then 422 and lists each rejected
    item with its reason."""
    limits = services.settings.api
    sender = await sending_device(request, services, "http")
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


@router.get("/spaces", response_model=list[SpaceView])
async def list_spaces(services: ServicesDep) -> list[SpaceView]:
    """Every smart space with its live occupancy, density, level of service and risk."""
    status = await asyncio.to_thread(services.store.status)
    return [SpaceView.of(space, status.get(space.id)) for space in services.spaces]


@router.get("/spaces/{space_id}", response_model=SpaceView, responses={404: {"model": Problem}})
async def get_space(space_id: str, services: ServicesDep) -> SpaceView:
    """One smart space with its live state."""
    space = next((s for s in services.spaces if s.id == space_id), None)
    if space is None:
        raise HTTPException(404, f"unknown space {space_id!r}")
    status = await asyncio.to_thread(services.store.status)
    return SpaceView.of(space, status.get(space_id))


@router.get("/alerts")
async def list_alerts(
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    space_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[dict[str, Any]]:
    """The newest alerts first (CAP 1.2 vocabulary: severity, urgency, certainty, msg_type)."""
    alerts = await asyncio.to_thread(services.store.alerts, limit, space_id)
    return [a.model_dump(mode="json") for a in alerts]


@router.get("/events/{event_id}/provenance", responses={404: {"model": Problem}})
async def provenance(event_id: str, services: ServicesDep) -> list[dict[str, Any]]:
    """The event and every stored event it was derived from, back to the observations."""
    chain = await asyncio.to_thread(services.store.provenance, event_id[:64])
    if not chain:
        raise HTTPException(404, f"unknown event {event_id[:64]!r}")
    return [e.model_dump(mode="json") for e in chain]


health_router = APIRouter()


@health_router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, Any]:
    """Liveness and a glance at the pipeline: stored counts per kind."""
    counts = await asyncio.to_thread(
        lambda: {k: services.store.count(k) for k in ("observation", "alert", "dead_letter")}
    )
    return {"status": "ok", "spaces": len(services.spaces), "stored": counts}
