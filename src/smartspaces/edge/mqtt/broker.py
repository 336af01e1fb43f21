"""An MQTT broker inside the process (amqtt), so ``make demo`` needs no Mosquitto."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from amqtt.broker import Broker  # type: ignore[import-untyped]


class EmbeddedBroker:
    """amqtt listening on ``host:port`` (default 127.0.0.1:11883, clear of a system Mosquitto
    on 1883), anonymous, with no $SYS topics and no packet logging: a demo convenience, not a
    production broker (it keeps sessions in memory only).

    Example::

        async with EmbeddedBroker("127.0.0.1", 11883):
            ...  # MQTT clients connect here
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 11883) -> None:
        self.host, self.port = host, port
        self._broker: Any = None

    async def start(self) -> None:
        """Listen; returns once clients can connect. Starting twice does nothing."""
        if self._broker is not None:
            return
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        await broker.start()
        self._broker = broker

    async def stop(self) -> None:
        """Close every connection and the listener. Stopping a stopped broker does nothing."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
