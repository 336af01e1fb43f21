"""The MQTT adapter: the only I/O around ``parsing``; subscribes, hands on, acknowledges."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import aiomqtt
import structlog

from smartspaces.clock import Clock
from smartspaces.config import ApiSettings
from smartspaces.edge.mqtt.parsing import KEPT_PAYLOAD_CHARS, MessageResult, Reject, parse_message
from smartspaces.edge.mqtt.settings import MqttSettings
from smartspaces.edge.ports import DeadLetterSink, ObservationSink
from smartspaces.events import Observation

log = structlog.get_logger(__name__)

ADAPTER = "mqtt"
_PUBACK = struct.Struct("!BBH")  # MQTT 3.1.1 PUBACK: fixed header, remaining length 2, mid
_PUBACK_HEADER = 0x40


def reconnect_delay_s(attempt: int, first_s: float, longest_s: float) -> float:
    """Seconds to wait before reconnect ``attempt`` (0-based): doubling, capped."""
    return float(min(longest_s, first_s * 2 ** min(attempt, 32)))


def acknowledge(client: aiomqtt.Client, batch: list[aiomqtt.Message]) -> None:
    """Acknowledge QoS 1 messages, in order of arrival as MQTT requires, in one socket write.

    paho's public ``ack`` writes each PUBACK with a system call of its own, which costs more
    than everything else we do per message; the batch's PUBACKs are queued as one buffer on
    paho's own outgoing queue instead (the same bytes, in the same order).
    """
    qos1 = [m.mid for m in batch if m.qos == 1]
    paho = client._client
    if qos1:
        pubacks = b"".join(_PUBACK.pack(_PUBACK_HEADER, 2, mid) for mid in qos1)
        paho._packet_queue(_PUBACK_HEADER, pubacks, 0, 0)
    for message in batch:
        if message.qos == 2:  # rare: left to paho, which tracks the QoS 2 handshake
            paho.ack(message.mid, message.qos)


class _SinkFailed(Exception):
    """A sink raised: the batch stays unacknowledged and comes again after a reconnect."""


@dataclass
class MqttCounters:
    """What the adapter has done since it started (for logs, the API and the bench)."""

    messages: int = 0
    accepted: int = 0
    rejected: int = 0
    connects: int = 0
    failures: int = 0


class MqttAdapter:
    """Subscribes to ``settings.topic`` and hands observations and rejects to the sinks.

    Delivery: QoS 1 (or 2) with manual acknowledgement. A message is acknowledged to the broker
    only after the sink has made its observations durable and its rejects are dead-lettered, so
    nothing the broker counts as delivered is lost. With a fixed client id and a persistent
    session the broker keeps what arrives while we are away and sends again what we never
    acknowledged, so a message may come twice (the sinks are idempotent per id). Connection
    losses and sink failures are retried forever with a doubling backoff.

    Example::

        adapter = MqttAdapter(settings.mqtt, settings.api, spaces, sink, dead_letters, clock)
        task = asyncio.create_task(adapter.run())
        await adapter.ready.wait()  # subscribed
        ...
        task.cancel()
    """

    def __init__(
        self,
        settings: MqttSettings,
        limits: ApiSettings,
        spaces: Collection[str],
        sink: ObservationSink,
        dead_letters: DeadLetterSink,
        clock: Clock,
    ) -> None:
        self.settings, self.limits = settings, limits
        self._spaces = frozenset(spaces)
        self._sink, self._dead_letters, self._clock = sink, dead_letters, clock
        self._prefix = settings.topic_prefix()
        self.counters = MqttCounters()
        self.ready = asyncio.Event()
        """Set while connected and subscribed."""

    async def run(self) -> None:
        """Consume until cancelled, reconnecting after every loss of the broker or a sink."""
        attempt = 0
        while True:
            connects = self.counters.connects
            try:
                await self._session()
            except (aiomqtt.MqttError, _SinkFailed) as error:
                self.ready.clear()
                if self.counters.connects > connects:
                    attempt = 0  # it worked for a while: back off from the shortest wait again
                delay = reconnect_delay_s(
                    attempt, self.settings.reconnect_min_s, self.settings.reconnect_max_s
                )
                attempt += 1
                log.warning("mqtt_reconnect", error=str(error), attempt=attempt, delay_s=delay)
                await asyncio.sleep(delay)

    async def _session(self) -> None:
        client = aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            identifier=self.settings.client_id,
            clean_session=False,
            timeout=10,
        )
        # aiomqtt does not expose paho's manual acknowledgement; without it paho acknowledges a
        # message as soon as it is queued in memory, before the sink made it durable. It must
        # be set before connecting: a persistent session's backlog arrives right after CONNACK.
        client._client.manual_ack_set(True)
        try:
            async with client:
                await client.subscribe(self.settings.topic, qos=self.settings.qos)
                self.counters.connects += 1
                self.ready.set()
                log.info("mqtt_subscribed", host=self.settings.host, port=self.settings.port)
                await self._consume(client)
        finally:
            self.ready.clear()

    async def _consume(self, client: aiomqtt.Client) -> None:
        messages = aiomqtt.client.MessagesIterator(client)
        # Take what has already arrived without waiting, so a busy broker is answered in
        # batches (one sink call, one durable write, one write of acknowledgements).
        queue = client._queue
        while True:
            batch = [queue.get_nowait() if not queue.empty() else await anext(messages)]
            while len(batch) < self.settings.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self._handle(batch)
            except Exception as error:
                self.counters.failures += 1
                log.exception("mqtt_sink_failed", messages=len(batch))
                raise _SinkFailed(f"{type(error).__name__}: {error}") from error
            acknowledge(client, batch)

    async def _handle(self, batch: list[aiomqtt.Message]) -> None:
        now = self._clock.now()
        accepted: list[Observation] = []
        rejected: list[tuple[str, Reject]] = []
        for message in batch:
            topic = message.topic.value
            result = self._parse(topic, message.payload, now)
            accepted.extend(result.accepted)
            rejected.extend((topic, reject) for reject in result.rejected)
        self.counters.messages += len(batch)
        if accepted:
            await self._sink(accepted)
        for topic, reject in rejected:
            reason = f"topic {topic[:200]}: {reject.reason}"
            await self._dead_letters(ADAPTER, reason, reject.payload)
        self.counters.accepted += len(accepted)
        self.counters.rejected += len(rejected)

    def _parse(self, topic: str, payload: bytes, now: datetime) -> MessageResult:
        try:
            return parse_message(
                topic,
                payload,
                prefix=self._prefix,
                spaces=self._spaces,
                now=now,
                limits=self.limits,
                max_payload_bytes=self.settings.max_payload_bytes,
            )
        except Exception as error:
            # A parser bug must not turn one message into an endless redelivery loop.
            log.exception("mqtt_parse_failed", topic=topic[:200])
            text = payload[:KEPT_PAYLOAD_CHARS].decode("utf-8", "replace")
            reason = f"could not be parsed ({type(error).__name__})"
            return MessageResult((), (Reject(reason, text),))
