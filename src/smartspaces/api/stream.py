"""Fan-out of live events to WebSocket clients; a slow client loses messages, never the server.

Each client has a bounded queue. When it is full the oldest message is dropped and the client is
told how many it missed (``{"kind": "gap", "missed": n}``), so a screen can reload what it lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smartspaces.events import AnyEvent

QUEUE_SIZE = 1000


class StreamClient:
    def __init__(self, kinds: frozenset[str]) -> None:
        self.kinds = kinds
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.missed = 0

    def offer(self, message: str) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(message)


class StreamHub:
    """Holds the connected clients and broadcasts stored events to them."""

    def __init__(self) -> None:
        self._clients: set[StreamClient] = set()

    def connect(self, kinds: frozenset[str]) -> StreamClient:
        client = StreamClient(kinds)
        self._clients.add(client)
        return client

    def disconnect(self, client: StreamClient) -> None:
        self._clients.discard(client)

    def broadcast(self, events: Sequence[AnyEvent]) -> None:
        for event in events:
            message: str | None = None
            for client in self._clients:
                if event.kind in client.kinds:
                    message = message or event.model_dump_json()
                    client.offer(message)

    @property
    def clients(self) -> int:
        return len(self._clients)
