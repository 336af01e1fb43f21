"""Fan-out of live events to WebSocket clients; a slow client loses messages, never the server.

Each client has a bounded queue. When it is full the oldest message is dropped and the client is
told how many it missed (``{"kind": "gap", "missed": n}``), so a screen can reload what it lost.
Each client sees what its principal may: events of its spaces, and alerts and incidents of its
agency or shared with it (the owners and shares of a batch are looked up once, for all clients).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from smartspaces.events import AnyEvent
from smartspaces.security.access import Audience
from smartspaces.security.policy import access
from smartspaces.security.roles import Principal

QUEUE_SIZE = 1000
AudienceOf = Callable[[Sequence[AnyEvent]], Mapping[str, Audience]]


class StreamClient:
    def __init__(self, kinds: frozenset[str], principal: Principal | None = None) -> None:
        self.kinds = kinds
        self.principal = principal
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.missed = 0

    def offer(self, message: str) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(message)

    def wants(self, event: AnyEvent, audience: Audience | None) -> bool:
        if event.kind not in self.kinds:
            return False
        who = self.principal
        if who is None:
            return True
        if not who.may_see_space(event.space_id):
            return False
        return audience is None or access(who, audience[0], audience[1]) is not None


class StreamHub:
    """Holds the connected clients and broadcasts stored events to them."""

    def __init__(self) -> None:
        self._clients: set[StreamClient] = set()
        self.audience_of: AudienceOf | None = None

    def connect(self, kinds: frozenset[str], principal: Principal | None = None) -> StreamClient:
        client = StreamClient(kinds, principal)
        self._clients.add(client)
        return client

    def disconnect(self, client: StreamClient) -> None:
        self._clients.discard(client)

    async def deliver(self, events: Sequence[AnyEvent]) -> None:
        """The runtime's listener: look up who may see the batch's alerts and incidents (in a
        worker thread), then broadcast."""
        if not self._clients:
            return
        audience: Mapping[str, Audience] = {}
        if self.audience_of is not None:
            audience = await asyncio.to_thread(self.audience_of, events)
        self.broadcast(events, audience)

    def broadcast(
        self, events: Sequence[AnyEvent], audience: Mapping[str, Audience] | None = None
    ) -> None:
        for event in events:
            message: str | None = None
            seen_by = (audience or {}).get(event.id)
            for client in self._clients:
                if client.wants(event, seen_by):
                    message = message or event.model_dump_json()
                    client.offer(message)

    @property
    def clients(self) -> int:
        return len(self._clients)
