"""Dead letters: what was refused and why; replay after a fix."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.dead_letter_replay import replay_dead_letters
from smartspaces.security.roles import Principal
from smartspaces.store.accounts import aware

router = APIRouter(prefix="/api/v1/dead-letters", tags=["dead letters"])
PREVIEW_CHARS = 2048


class DeadLetterView(BaseModel):
    id: int
    received_at: datetime
    adapter: str
    reason: str
    payload_preview: str
    payload_bytes: int
    replayed_at: datetime | None


class ReplayAnswer(BaseModel):
    replayed: list[int]
    still_rejected: list[dict[str, int | str]]


@router.get("", response_model=list[DeadLetterView], responses=DENIALS)
async def list_dead_letters(
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("dead_letters.read")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    adapter: Annotated[str | None, Query(max_length=64)] = None,
    pending: bool = False,
) -> list[DeadLetterView]:
    """Newest first; ``pending=true`` hides the ones already replayed. Refused input may
    hold anything a sender sent: the read is audited."""
    rows = await asyncio.to_thread(services.store.dead_letters, limit, adapter, pending)
    details = {"adapter": adapter, "count": len(rows)}
    await asyncio.to_thread(access.audit, who, "dead_letters.read", "dead-letters", details)
    return [
        DeadLetterView(
            id=r.id,
            received_at=aware(r.received_at),
            adapter=r.adapter,
            reason=r.reason,
            payload_preview=r.payload[:PREVIEW_CHARS],
            payload_bytes=r.payload_bytes,
            replayed_at=aware(r.replayed_at) if r.replayed_at else None,
        )
        for r in rows
    ]


@router.post("/replay", response_model=ReplayAnswer, responses=DENIALS)
async def replay(
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("dead_letters.replay")],
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    adapter: Annotated[str | None, Query(max_length=64)] = None,
) -> ReplayAnswer:
    """Validate pending letters again; the ones that pass now are published."""
    letters = await asyncio.to_thread(services.store.dead_letters, limit, adapter, True)
    report = await replay_dead_letters(services, letters)
    details = {"replayed": len(report.replayed), "still_rejected": len(report.still_rejected)}
    await asyncio.to_thread(access.audit, who, "dead_letters.replayed", "dead-letters", details)
    return ReplayAnswer(
        replayed=report.replayed,
        still_rejected=[{"id": i, "reason": reason} for i, reason in report.still_rejected],
    )
