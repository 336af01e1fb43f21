"""Alerts to an MQTT topic (``<topic>/<space_id>``, QoS 1, retained): dashboards, sirens and
signage controllers subscribe there. QoS 1 means the broker acknowledged it (PUBACK); retained
means a subscriber that connects later still sees each space's latest alert."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aiomqtt

from smartspaces.clock import Clock
from smartspaces.respond.alerts.delivery.attempts import (
    Attempt,
    RetryPolicy,
    timed,
    until_delivered,
)


class MqttPublisher:
    """One connection to the broker, opened on first use and reopened after a failure."""

    def __init__(
        self,
        host: str,
        port: int,
        clock: Clock,
        policy: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        client_id: str = "smartspaces-alerts",
    ) -> None:
        self.host, self.port, self._clock, self._policy = host, port, clock, policy
        self._sleep, self._client_id = sleep, client_id
        self._client: aiomqtt.Client | None = None

    @property
    def target(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    async def publish(self, topic: str, payload: bytes) -> tuple[bool, tuple[Attempt, ...]]:
        """Publish until the broker acknowledges or the attempts run out."""
        return await until_delivered(
            self._policy, self._sleep, lambda n: self._try(topic, payload, n)
        )

    async def _try(self, topic: str, payload: bytes, number: int) -> Attempt:
        async def send() -> None:
            client = await self._connected()
            await client.publish(topic, payload, qos=1, retain=True)

        failures = (aiomqtt.MqttError, OSError)
        return await timed(number, self._clock, self._policy.timeout_s, send, failures, self.close)

    async def _connected(self) -> aiomqtt.Client:
        if self._client is None:
            client = aiomqtt.Client(
                self.host, self.port, identifier=self._client_id, timeout=self._policy.timeout_s
            )
            await client.__aenter__()
            self._client = client
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(aiomqtt.MqttError, OSError):
                await client.__aexit__(None, None, None)
