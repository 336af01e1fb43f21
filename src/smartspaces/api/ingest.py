"""HTTP batch ingest of observations: bounded read, parse, validate, publish, dead-letter."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from starlette.requests import Request

from smartspaces.api.hardening import nests_deeper
from smartspaces.bootstrap import Services
from smartspaces.edge.devices import authorise
from smartspaces.edge.observations import (
    BatchResult,
    Rejection,
    validate_json_batch,
    validate_json_lines,
    wire_item,
)
from smartspaces.errors import RejectedInput
from smartspaces.events import Device

ADAPTER = "http"


class BodyTooLarge(RejectedInput):
    """The request body is over the configured limit."""


class RateLimited(RejectedInput):
    """The sending device is over its rate; nothing of the batch was taken."""


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


JSON_LINES_TYPES = frozenset(
    {"application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines"}
)


async def ingest(
    services: Services, body: bytes, content_type: str, sender: Device | None
) -> IngestOutcome:
    """Validate a JSON array (or JSON lines) body, check the sender may report each item,
    publish the valid items and dead-letter the others.

    Raises RejectedInput when the body as a whole is unusable."""
    now = services.clock.now()
    spaces = {space.id for space in services.spaces}
    lines = content_type.split(";")[0].strip().lower() in JSON_LINES_TYPES
    validate = validate_json_lines if lines else validate_json_batch
    depth = services.settings.security.max_json_depth
    if nests_deeper(body, depth):
        raise RejectedInput(
            f"body is not an observation batch: it nests deeper than {depth} levels"
        )
    result = validate(body, ADAPTER, spaces, now, services.settings.api)
    if sender is not None:
        items = len(result.accepted) + len(result.rejected)
        if not services.limiter.allow(sender.id, now, cost=items):
            raise RateLimited(
                f"device {sender.id!r} is over its rate of "
                f"{services.settings.edge.rate_limit_per_s:g} observations/s; retry later"
            )
        result = await _authorised(services, sender, result)
    await services.runtime.publish(result.accepted)
    for rejection in result.rejected:
        reason = f"item {rejection.index}: {rejection.reason}"
        await asyncio.to_thread(
            services.store.add_dead_letter, ADAPTER, reason, rejection.item, now
        )
    return IngestOutcome(result, len(result.accepted) + len(result.rejected))


async def _authorised(services: Services, sender: Device, result: BatchResult) -> BatchResult:
    sensors = {o.sensor_id for o in result.accepted}
    registry = await asyncio.to_thread(services.store.devices.many, sensors)
    allowed, refused = authorise(sender, result.accepted, registry)
    if not refused:
        return result
    where = {id(o): p for o, p in zip(result.accepted, result.positions, strict=True)}
    rejected = list(result.rejected) + [
        Rejection(where[id(o)], reason, json.dumps(wire_item(o))) for o, reason in refused
    ]
    rejected.sort(key=lambda r: r.index)
    return BatchResult(tuple(allowed), tuple(rejected), tuple(where[id(o)] for o in allowed))


async def dead_letter_body(
    services: Services, reason: str, body: bytes, adapter: str = ADAPTER
) -> None:
    """Keep a whole rejected body (cut to the store's bound) with its reason."""
    text = body[:65_536].decode("utf-8", "replace")
    await asyncio.to_thread(
        services.store.add_dead_letter, adapter, reason, text, services.clock.now()
    )
