"""The MQTT adapter: the only I/O around ``parsing``; subscribes, hands on, acknowledges."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

import aiomqtt
import structlog

from smartspaces.clock import Clock
from smartspaces.config import ApiSettings
from smartspaces.edge.buffer.pacing import Pacer
from smartspaces.edge.buffer.policy import Priority
from smartspaces.edge.devices import authorise
from smartspaces.edge.mqtt.parsing import (
    KEPT_PAYLOAD_CHARS,
    MessageParser,
    MessageResult,
    Reject,
)
from smartspaces.edge.mqtt.reader import read_in_bursts
from smartspaces.edge.mqtt.settings import MqttSettings
from smartspaces.edge.observations import wire_item
from smartspaces.edge.ports import DeadLetterSink, DeviceDirectory, ObservationSink
from smartspaces.edge.registry import CachedDirectory
from smartspaces.errors import ConfigError
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
    thinned: int = 0
    advice: int = 0


class MqttAdapter:
    """Subscribes to ``settings.topic`` and hands observations and rejects to the sinks.

    Delivery: QoS 1 (or 2) with manual acknowledgement. A message is acknowledged to the broker
    only after the sink has made its observations durable and its rejects are dead-lettered, so
    nothing the broker counts as delivered is lost. With a fixed client id and a persistent
    session the broker keeps what arrives while we are away and sends again what we never
    acknowledged, so a message may come twice (the sinks are idempotent per id). Connection
    losses and sink failures are retried forever with a doubling backoff.

    Devices: with ``settings.require_registered`` every reading is checked against ``devices``
    (the registry): the topic's publisher must be a registered, active device, and each
    reading's sensor that publisher itself or a device it relays as gateway (``gateway_id``),
    active, serving the reading's space and measuring its quantity. The broker authenticates
    who may publish on which topic (an ACL per client); the adapter decides what to believe.

    Pacing: given ``pace`` (the store-and-forward buffer's ``rate_factor``), the adapter
    publishes the factor of each priority as retained advice under ``settings.advice_topic``
    whenever it changes, and with ``settings.pace`` thins the streams of devices that do not
    listen (``Pacer``); thinned readings are acknowledged and counted, never dead-lettered.

    Example::

        adapter = MqttAdapter(settings.mqtt, settings.api, spaces, sink, dead_letters, clock,
                              devices=registry_lookup, pace=buffer.rate_factor)
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
        *,
        devices: DeviceDirectory | None = None,
        pace: Callable[[Priority], float] | None = None,
    ) -> None:
        if settings.require_registered and devices is None:
            raise ConfigError(
                "mqtt.require_registered is set: the MQTT adapter needs the device registry"
            )
        self.settings, self.limits = settings, limits
        self._sink, self._dead_letters, self._clock = sink, dead_letters, clock
        self._parser = MessageParser(
            settings.topic_prefix(),
            spaces,
            limits,
            settings.max_payload_bytes,
            relayed=settings.require_registered,
        )
        self._devices = (
            None
            if devices is None or not settings.require_registered
            else CachedDirectory(devices, settings.registry_cache_s, clock)
        )
        self._pace = pace
        self._pacer = Pacer(pace) if pace is not None and settings.pace else None
        self._advised: dict[Priority, float] = {}
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
                read_in_bursts(client)
                await client.subscribe(self.settings.topic, qos=self.settings.qos)
                self.counters.connects += 1
                self._advised = {}  # a new session states the current advice again
                await self._advise(client)
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
            await self._advise(client)

    async def _handle(self, batch: list[aiomqtt.Message]) -> None:
        now = self._clock.now()
        messages = [(m.topic.value, _payload(m.payload)) for m in batch]
        results = self._parse(messages, now)
        if self._devices is not None:
            results = await self._authorise([topic for topic, _ in messages], results)
        accepted: list[Observation] = []
        rejected: list[Reject] = []
        for result in results:
            accepted.extend(result.accepted)
            rejected.extend(result.rejected)
        self.counters.messages += len(batch)
        valid = len(accepted)
        if self._pacer is not None:
            paced = self._pacer.step(accepted)
            accepted = paced.kept
            self.counters.thinned += paced.thinned
        if accepted:
            await self._sink(accepted)
        for reject in rejected:
            await self._dead_letters(ADAPTER, reject.reason, reject.payload)
        self.counters.accepted += valid
        self.counters.rejected += len(rejected)

    def _parse(self, messages: list[tuple[str, bytes]], now: datetime) -> list[MessageResult]:
        try:
            results = self._parser.parse(messages, now)
        except Exception:
            # A parser bug must not turn a batch into an endless redelivery loop: find the
            # message that trips it and dead-letter that one alone.
            log.exception("mqtt_parse_failed", messages=len(messages))
            results = [self._parse_one(topic, payload, now) for topic, payload in messages]
        return [
            MessageResult(
                r.accepted,
                tuple(Reject(f"topic {topic[:200]}: {j.reason}", j.payload) for j in r.rejected),
                r.topic,
            )
            if r.rejected
            else r
            for (topic, _), r in zip(messages, results, strict=True)
        ]

    def _parse_one(self, topic: str, payload: bytes, now: datetime) -> MessageResult:
        try:
            return self._parser.parse_one(topic, payload, now)
        except Exception as error:
            log.exception("mqtt_parse_failed", topic=topic[:200])
            text = payload[:KEPT_PAYLOAD_CHARS].decode("utf-8", "replace")
            reason = f"could not be parsed ({type(error).__name__})"
            return MessageResult((), (Reject(reason, text),))

    async def _authorise(
        self, topics: list[str], results: list[MessageResult]
    ) -> list[MessageResult]:
        """Keep the readings the registry says their publisher may report (see the class)."""
        if self._devices is None:
            return results
        wanted = {r.topic.publisher for r in results if r.accepted and r.topic is not None}
        wanted.update(o.sensor_id for r in results for o in r.accepted)
        registry = await self._devices(wanted) if wanted else {}
        checked: list[MessageResult] = []
        for name, result in zip(topics, results, strict=True):
            if not result.accepted or result.topic is None:
                checked.append(result)
                continue
            topic = result.topic
            sender = registry.get(topic.publisher)
            if sender is None or sender.status != "active":
                why = "unknown (register it first)" if sender is None else sender.status
                reason = f"topic {name[:200]}: publisher {topic.publisher!r} is {why}"
                refused = [(o, reason) for o in result.accepted]
                allowed: list[Observation] = []
            else:
                allowed, refused = authorise(sender, result.accepted, registry)
                prefix = f"topic {name[:200]}: "
                refused = [(o, prefix + why) for o, why in refused]
            if not refused:
                checked.append(result)
                continue
            extra = tuple(Reject(why, json.dumps(wire_item(o))) for o, why in refused)
            checked.append(MessageResult(tuple(allowed), result.rejected + extra, topic))
        return checked

    async def _advise(self, client: aiomqtt.Client) -> None:
        """Publish each priority's rate factor (retained) when it has changed noticeably."""
        if self._pace is None or not self.settings.advice_topic:
            return
        for priority in (Priority.LOW, Priority.NORMAL):
            factor = round(self._pace(priority), 2)
            last = self._advised.get(priority)
            if last is not None and (abs(factor - last) < 0.05 and (factor < 1.0) == (last < 1.0)):
                continue
            advice = {
                "priority": priority.name.lower(),
                "rate_factor": factor,
                "interval_factor": round(1.0 / max(factor, 0.01), 2),
            }
            topic = f"{self.settings.advice_topic}/{priority.name.lower()}"
            await client.publish(topic, json.dumps(advice), qos=1, retain=True)
            self._advised[priority] = factor
            self.counters.advice += 1
            log.info("mqtt_rate_advice", **advice)


def _payload(payload: object) -> bytes:
    # aiomqtt hands bytes for anything received; the other types only exist for publishing
    return payload if isinstance(payload, bytes) else str(payload).encode()
