"""Device tokens on ingest routes: ``Authorization: Bearer <token>`` names the sending device."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request

from smartspaces.bootstrap import Services
from smartspaces.edge.devices import hash_token
from smartspaces.events import Device

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="smartspaces-devices"'}


async def sending_device(request: Request, services: Services, adapter: str) -> Device | None:
    """The device whose token came with the request; None when tokens are not required.

    Raises 401 (and keeps a dead letter without the body) for a missing, unknown or revoked
    token: a sensor that lost its credential must show up somewhere, not vanish."""
    if not services.settings.edge.require_device_token:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    reason = None
    device = None
    if scheme.lower() != "bearer" or not token.strip():
        reason = "missing device token: send Authorization: Bearer <token>"
    else:
        device = await asyncio.to_thread(
            services.store.devices.by_token_hash, hash_token(token.strip())
        )
        if device is None or device.status != "active":
            reason = "unknown or revoked device token"
    if reason is not None or device is None:
        client = request.client.host if request.client else "unknown"
        await asyncio.to_thread(
            services.store.add_dead_letter,
            adapter,
            f"401 from {client}: {reason}",
            "",
            services.clock.now(),
        )
        raise HTTPException(401, reason, headers=CHALLENGE)
    return device
