"""The live event stream: ``/api/v1/stream?kinds=alert,risk_level`` sends each stored event."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from smartspaces.api.stream import StreamHub
from smartspaces.events import EVENT_KINDS

router = APIRouter()
DEFAULT_KINDS = frozenset({"detection", "situation", "risk_level", "alert", "incident"})


@router.websocket("/api/v1/stream")
async def stream(websocket: WebSocket, kinds: str = "") -> None:
    """Events as JSON text messages, one per event; observations only when asked for."""
    wanted = frozenset(k for k in kinds.split(",") if k) or DEFAULT_KINDS
    unknown = wanted - set(EVENT_KINDS)
    await websocket.accept()
    if unknown:
        await websocket.close(code=1008, reason=f"unknown kinds: {', '.join(sorted(unknown))}")
        return
    hub: StreamHub = websocket.app.state.hub
    client = hub.connect(wanted)
    receiver = asyncio.create_task(_until_closed(websocket))
    try:
        while not receiver.done():
            getter = asyncio.create_task(client.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            if client.missed:
                await websocket.send_json({"kind": "gap", "missed": client.missed})
                client.missed = 0
            await websocket.send_text(getter.result())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.disconnect(client)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
