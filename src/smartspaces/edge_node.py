"""The edge adapters that run beside the pipeline: MQTT (with the embedded broker when set) into
a store-and-forward buffer, so readings survive a stalled pipeline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection, Mapping

import structlog

from smartspaces.bootstrap import Services
from smartspaces.edge.buffer import StoreAndForward
from smartspaces.edge.mqtt.adapter import MqttAdapter
from smartspaces.edge.mqtt.broker import EmbeddedBroker
from smartspaces.events import Device

log = structlog.get_logger(__name__)


class EdgeNode:
    """Starts and stops the broker, the buffer's forwarder and the MQTT adapter."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._broker: EmbeddedBroker | None = None
        self._buffer: StoreAndForward | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        services = self._services
        settings = services.settings
        if not settings.mqtt.enabled:
            return
        if settings.mqtt.embedded:
            self._broker = EmbeddedBroker(settings.mqtt.host, settings.mqtt.port)
            await self._broker.start()
        self._buffer = StoreAndForward(
            services.runtime.publish,
            settings.store.data_dir / "edge-buffer.sqlite3",
            settings.edge_buffer,
        )
        adapter = MqttAdapter(
            settings.mqtt,
            settings.api,
            [s.id for s in services.spaces],
            self._buffer,
            self._dead_letter,
            services.clock,
            devices=self._devices,
            pace=self._buffer.rate_factor,
        )
        self._tasks = [
            asyncio.create_task(self._buffer.run(), name="edge-buffer"),
            asyncio.create_task(adapter.run(), name="edge-mqtt"),
        ]
        log.info(
            "edge_started",
            mqtt=f"{settings.mqtt.host}:{settings.mqtt.port}",
            embedded=settings.mqtt.embedded,
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None

    async def _devices(self, device_ids: Collection[str]) -> Mapping[str, Device]:
        return await asyncio.to_thread(self._services.store.devices.many, set(device_ids))

    async def _dead_letter(self, adapter: str, reason: str, payload: str) -> None:
        store, clock = self._services.store, self._services.clock
        await asyncio.to_thread(store.add_dead_letter, adapter, reason, payload, clock.now())
