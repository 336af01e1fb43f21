"""HTTP batch ingest of observations: bounded read, parse, validate, publish, dead-letter."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request

from smartspaces.bootstrap import Services
from smartspaces.edge.observations import BatchResult, validate_json_batch
from smartspaces.errors import RejectedInput

ADAPTER = "http"


class BodyTooLarge(RejectedInput):
    """The request body is over the configured limit."""


@dataclass(frozen=True)
class IngestOutcome:
    result: BatchResult
    total: int


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it passes ``limit`` bytes (no matter the headers)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def ingest(services: Services, body: bytes) -> IngestOutcome:
    """Validate a JSON body, publish the valid items and dead-letter the others.

    Raises RejectedInput when the body as a whole is unusable."""
    now = services.clock.now()
    spaces = {space.id for space in services.spaces}
    result = validate_json_batch(body, ADAPTER, spaces, now, services.settings.api)
    await services.runtime.publish(result.accepted)
    for rejection in result.rejected:
        reason = f"item {rejection.index}: {rejection.reason}"
        await asyncio.to_thread(
            services.store.add_dead_letter, ADAPTER, reason, rejection.item, now
        )
    return IngestOutcome(result, len(result.accepted) + len(result.rejected))


async def dead_letter_body(services: Services, reason: str, body: bytes) -> None:
    """Keep a whole rejected body (cut to the store's bound) with its reason."""
    text = body[:65_536].decode("utf-8", "replace")
    await asyncio.to_thread(
        services.store.add_dead_letter, ADAPTER, reason, text, services.clock.now()
    )
