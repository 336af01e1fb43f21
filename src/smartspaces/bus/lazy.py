"""A bus that connects on first use: lets a synchronous composition root choose an engine whose
client connects asynchronously (NATS), with the same ``Bus`` interface and guarantees."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from smartspaces.bus.base import Bus, Subscription
from smartspaces.events import AnyEvent


class LazyBus:
    """Delegates to the bus ``connect`` returns, awaited once, at the first call."""

    def __init__(self, connect: Callable[[], Awaitable[Bus]]) -> None:
        self._connect = connect
        self._bus: Bus | None = None
        self._lock: asyncio.Lock | None = None  # made inside the running loop

    async def _ready(self) -> Bus:
        if self._bus is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._bus is None:
                    self._bus = await self._connect()
        return self._bus

    async def publish(self, event: AnyEvent) -> int:
        return await (await self._ready()).publish(event)

    async def publish_many(self, events: Sequence[AnyEvent]) -> list[int]:
        return await (await self._ready()).publish_many(events)

    async def subscribe(self, durable: str, subjects: Sequence[str]) -> Subscription:
        return await (await self._ready()).subscribe(durable, subjects)

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.close()
