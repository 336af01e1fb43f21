"""The live event stream: ``/api/v1/stream?kinds=alert,risk_level`` sends each stored event.

Authenticated like every route (session cookie from our own pages, API key or bearer token);
a refusal closes the socket with 4401 (who are you?) or 4403 (not for you), and so does the end
of the credentials while it is open (checked every ``security.stream_recheck_s``). Opening the
stream is audited; each client gets only what its principal may see.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from smartspaces.api.guards import SOCKET_UNAUTHENTICATED, AllowSocket
from smartspaces.api.stream import StreamClient, StreamHub
from smartspaces.events import EVENT_KINDS
from smartspaces.security.access import AccessService
from smartspaces.security.authenticator import Authenticator
from smartspaces.security.errors import Forbidden, Unauthenticated
from smartspaces.security.roles import Principal

router = APIRouter()
DEFAULT_KINDS = frozenset({"detection", "situation", "risk_level", "alert", "incident"})


@router.websocket("/api/v1/stream")
async def stream(
    websocket: WebSocket,
    who: Annotated[Principal, Depends(AllowSocket("stream.read"))],
    kinds: str = "",
) -> None:
    """Events as JSON text messages, one per event; observations only when asked for."""
    wanted = frozenset(k for k in kinds.split(",") if k) or DEFAULT_KINDS
    unknown = wanted - set(EVENT_KINDS)
    await websocket.accept()
    if unknown:
        await websocket.close(code=1008, reason=f"unknown kinds: {', '.join(sorted(unknown))}")
        return
    access: AccessService = websocket.app.state.access
    await asyncio.to_thread(access.audit, who, "stream.opened", "stream", {"kinds": sorted(wanted)})
    hub: StreamHub = websocket.app.state.hub
    client = hub.connect(wanted, who)
    receiver = asyncio.create_task(_until_closed(websocket))
    try:
        await _pump(websocket, client, receiver)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(client)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _pump(websocket: WebSocket, client: StreamClient, receiver: asyncio.Task[None]) -> None:
    """Send the client's queue until it goes away or its credentials end."""
    clock = asyncio.get_running_loop().time
    every = websocket.app.state.settings.security.stream_recheck_s
    recheck = clock() + every
    while not receiver.done():
        getter = asyncio.create_task(client.queue.get())
        done, _ = await asyncio.wait(
            {getter, receiver}, timeout=every, return_when=asyncio.FIRST_COMPLETED
        )
        if receiver in done:
            getter.cancel()
            return
        if clock() >= recheck:
            recheck = clock() + every
            if not await _still_allowed(websocket):
                getter.cancel()
                await websocket.close(SOCKET_UNAUTHENTICATED, "the credentials have ended")
                return
        if getter not in done:
            getter.cancel()
            continue
        if client.missed:
            await websocket.send_json({"kind": "gap", "missed": client.missed})
            client.missed = 0
        await websocket.send_text(getter.result())


async def _still_allowed(websocket: WebSocket) -> bool:
    """Whether the stream's credentials still hold (a session ends, a key is revoked)."""
    auth: Authenticator = websocket.app.state.auth
    try:
        await asyncio.to_thread(auth.authenticate, websocket.state.credentials)
    except (Unauthenticated, Forbidden):
        return False
    return True


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
