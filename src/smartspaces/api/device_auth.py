"""Device tokens on ingest routes: ``Authorization: Bearer <token>`` names the sending device.

``AllowDevice`` is the ingest routes' guard: only devices send observations. A person's
credentials (API key, COP session) get 403; a missing, unknown or revoked device token gets 401
and a dead letter (without the body).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from smartspaces.api.deps import ServicesDep
from smartspaces.api.guards import (
    API_KEY_HEADER,
    CHALLENGE,
    CSRF_COOKIE,
    CSRF_HEADER,
    DEVICE_TOKEN,
    SESSION_COOKIE,
    Guard,
    authenticator,
    checked,
)
from smartspaces.bootstrap import Services
from smartspaces.edge.devices import hash_token
from smartspaces.events import Device
from smartspaces.security.authenticator import Credentials


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


class AllowDevice(Guard):
    """The guard of an ingest route (``adapter`` names it in dead letters)."""

    def __init__(self, adapter: str) -> None:
        self.action = "observations.ingest"
        self.adapter = adapter

    async def __call__(
        self,
        request: Request,
        services: ServicesDep,
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(DEVICE_TOKEN)],
    ) -> Device | None:
        if not services.settings.edge.require_device_token:
            return None
        api_key, session = request.headers.get(API_KEY_HEADER), request.cookies.get(SESSION_COOKIE)
        if token is None and (api_key or session):
            # a person or a machine client, not a device: 401 if unknown, else 403 by policy
            credentials = Credentials(
                api_key=api_key,
                session=session,
                csrf_header=request.headers.get(CSRF_HEADER),
                csrf_cookie=request.cookies.get(CSRF_COOKIE),
                changes=True,
            )
            await checked(authenticator(request), credentials, self.action)
        return await sending_device(request, services, self.adapter)


def Sender(adapter: str) -> Any:  # noqa: N802 - reads as a type in route signatures
    """``sender: Annotated[Device | None, Sender("http")]`` in an ingest route's parameters."""
    return Depends(AllowDevice(adapter))
