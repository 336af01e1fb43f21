"""HTTP batch ingest of observations: bounded read, parse, validate, publish, dead-letter."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from smartspaces.bootstrap import Services
from smartspaces.edge.observations import BatchResult, validate_observations
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


def parse_batch(body: bytes, max_items: int) -> list[Any]:
    """A JSON array of observations, or a single observation object, as a list."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RejectedInput(
            f"body is not UTF-8 text: {error.reason} at byte {error.start}"
        ) from error
    except json.JSONDecodeError as error:
        raise RejectedInput(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    items = data if isinstance(data, list) else [data]
    if not items:
        raise RejectedInput("empty batch: send at least one observation")
    if len(items) > max_items:
        raise RejectedInput(f"batch of {len(items)} observations is over the limit of {max_items}")
    return items


async def ingest(services: Services, items: list[Any]) -> IngestOutcome:
    """Validate a parsed batch, publish the valid items and dead-letter the others."""
    now = services.clock.now()
    spaces = {space.id for space in services.spaces}
    result = validate_observations(items, ADAPTER, spaces, now, services.settings.api)
    await services.runtime.publish(result.accepted)
    for rejection in result.rejected:
        reason = f"item {rejection.index}: {rejection.reason}"
        await asyncio.to_thread(
            services.store.add_dead_letter, ADAPTER, reason, rejection.item, now
        )
    return IngestOutcome(result, len(items))


async def dead_letter_body(services: Services, reason: str, body: bytes) -> None:
    """Keep a whole rejected body (cut to the store's bound) with its reason."""
    text = body[:65_536].decode("utf-8", "replace")
    await asyncio.to_thread(
        services.store.add_dead_letter, ADAPTER, reason, text, services.clock.now()
    )
