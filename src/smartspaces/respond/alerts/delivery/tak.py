"""Cursor-on-Target to TAK over TCP (one stream, events back to back) or UDP (one per datagram).

TAK's plain CoT input (port 8087 on a TAK server, or a client's network input) acknowledges
nothing: a TCP write that drained is as far as we can know. A broken stream is reopened on the
next attempt; attempts back off like webhooks do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from smartspaces.clock import Clock
from smartspaces.config.delivery import TakTarget
from smartspaces.respond.alerts.delivery.attempts import (
    Attempt,
    RetryPolicy,
    timed,
    until_delivered,
)

MAX_EVENT_BYTES = 64_000
"""Larger than any event we write; a UDP datagram must stay under 65,507 bytes."""


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.error: Exception | None = None

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable
        self.error = exc


class TakSender:
    """Sends CoT events to one TAK target; ``close`` it when done."""

    def __init__(
        self,
        target: TakTarget,
        clock: Clock,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.target, self._clock, self._policy, self._sleep = target, clock, policy, sleep
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()  # one event at a time on the stream: no interleaved XML

    async def send(self, event: bytes) -> tuple[bool, tuple[Attempt, ...]]:
        """Send one event; whether it went and every attempt."""
        if len(event) > MAX_EVENT_BYTES:
            raise ValueError(f"CoT event of {len(event)} bytes is over {MAX_EVENT_BYTES}")
        async with self._lock:
            return await until_delivered(self._policy, self._sleep, lambda n: self._try(event, n))

    async def _try(self, event: bytes, number: int) -> Attempt:
        async def send() -> None:
            if self.target.protocol == "udp":
                await self._send_udp(event)
            else:
                await self._send_tcp(event)

        return await timed(
            number, self._clock, self._policy.timeout_s, send, (OSError,), self._drop_stream
        )

    async def _send_tcp(self, event: bytes) -> None:
        if self._writer is None or self._writer.is_closing():
            _, self._writer = await asyncio.open_connection(self.target.host, self.target.port)
        self._writer.write(event)
        await self._writer.drain()

    async def _send_udp(self, event: bytes) -> None:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            _Datagram, remote_addr=(self.target.host, self.target.port)
        )
        try:
            transport.sendto(event)
            await asyncio.sleep(0)  # let an immediate ICMP refusal come back
            if protocol.error is not None:
                raise protocol.error
        finally:
            transport.close()

    async def _drop_stream(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def close(self) -> None:
        await self._drop_stream()
