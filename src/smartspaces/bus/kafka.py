"""The Kafka bus: for sites whose city platforms talk Kafka (the S4ALLCITIES twins do).

A topic per event kind, ``<prefix>.<kind>``; the key is the event's ``space_id`` (one space's
events stay in order on one partition, and a durable's members split the work by space); the
value is the event's JSON exactly as the other engines carry it, with its id in the
``ss-event-id`` header. A durable is the consumer group ``<group_prefix><durable>``: an ack is
committed (the lowest offset not yet acked) soon after it is made, at-least-once.

Where Kafka differs from the ``Bus`` contract, and what this bus does about it:

- ``seq`` is ``offset << 16 | partition``: unique within a kind and growing on one subject
  (one space is one partition), but sparse, and not ordered across spaces.
- Kafka drops no repeated message. The bus does, per kind, for the last ``dedup_window`` ids
  it published or read back from the ends of the partitions before its first publish
  (``kafka_dedup``); two processes publishing the same id at the same moment may both store it.
- Kafka commits one offset per partition. Acks above the lowest unacked offset are kept in
  memory, and handed over on ``<prefix>.consumers`` when a member closes or gives up a
  partition (``kafka_offsets``, ``kafka_state``); after a crash they are delivered again.
- A nak or an expired ack deadline hands the record out again from the member's memory. After a
  restart or a rebalance the unacked come again from the committed offset, counted from 1; a
  member that died keeps its partitions until ``session_timeout_s`` has passed.
- Members of one durable share its work by partition, not message by message. ``subscribe``
  returns once the group has (re)balanced and handed the new member its partitions: a second
  or more, as the broker waits for the group's members to join.
- A record on our topics that is no event of ours (no key, not JSON, not an event, kind or key
  not matching its topic) is logged and copied to ``<prefix>.dead_letter`` with the reason in
  ``dlq-*`` headers, then counted as done; the original stays on its topic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from smartspaces.bus import kafka_clients as clients
from smartspaces.bus.base import validate_durable, validate_filter
from smartspaces.bus.errors import BusClosedError, BusError, ConsumerConflictError
from smartspaces.bus.kafka_clients import EVENT_ID_HEADER, KafkaError, NewTopic, Record
from smartspaces.bus.kafka_dedup import RecentIds, read_back
from smartspaces.bus.kafka_offsets import encode_seq
from smartspaces.bus.kafka_state import ConsumerRecords
from smartspaces.bus.kafka_subscription import KafkaSubscription
from smartspaces.config import KafkaSettings
from smartspaces.events import EVENT_KINDS, AnyEvent

log = logging.getLogger(__name__)

_TOPIC_EXISTS = 36  # Kafka error code TOPIC_ALREADY_EXISTS


def _reaches(subject_filter: str, kind: str) -> bool:
    """Whether ``subject_filter`` may match a subject ``ss.<kind>.<space>``."""
    tokens = subject_filter.split(".")
    for i, wanted in enumerate(("ss", kind)):
        if tokens[i] == ">":
            return True
        if tokens[i] not in ("*", wanted) or i + 1 == len(tokens):
            return False
    return True  # the space part is checked on each record


class KafkaBus:
    """The Kafka ``Bus``. ``KafkaBus(settings)`` connects on first use; ``connect`` at once."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._prefix = settings.topic_prefix
        self._dead_letter_topic = f"{self._prefix}.dead_letter"
        self._producer: Any = None
        self._reader: Any = None
        self._records: ConsumerRecords | None = None
        self._recent = RecentIds(settings.dedup_window)
        self._read_back = False
        self._lock = asyncio.Lock()
        self._subscriptions: list[KafkaSubscription] = []
        self._closed = False

    @classmethod
    async def connect(cls, settings: KafkaSettings) -> KafkaBus:
        """Reach the brokers and create the topics; ``BusError`` if that fails."""
        bus = cls(settings)
        await bus.start()
        return bus

    def topic(self, kind: str) -> str:
        return f"{self._prefix}.{kind}"

    def kind_of(self, topic: str) -> str:
        return topic[len(self._prefix) + 1 :]

    @property
    def records(self) -> ConsumerRecords:
        if self._records is None:
            raise BusError("the Kafka bus is not started")
        return self._records

    async def start(self) -> None:
        """Create the topics (those there are kept) and start the clients; idempotent."""
        async with self._lock:
            self._check_open()
            if self._records is not None:
                return
            s = self.settings
            producer = reader = None
            try:
                await self._create_topics()
                producer, reader = clients.producer(s), clients.consumer(s, None)
                await producer.start()
                await reader.start()
            except (KafkaError, OSError) as exc:
                await _stop(producer, reader)
                servers = ", ".join(s.bootstrap_servers)
                raise BusError(f"cannot reach Kafka at {servers}: {exc!r}") from exc
            self._producer, self._reader = producer, reader
            self._records = ConsumerRecords(f"{self._prefix}.consumers", reader, producer)

    async def _create_topics(self) -> None:
        s = self.settings
        size = {"max.message.bytes": str(s.max_message_bytes)}
        topics = [
            *(NewTopic(self.topic(k), s.partitions, s.replication_factor, topic_configs=size)
              for k in EVENT_KINDS),
            NewTopic(self._dead_letter_topic, 1, s.replication_factor, topic_configs=size),
            NewTopic(f"{self._prefix}.consumers", 1, s.replication_factor,
                     topic_configs={"cleanup.policy": "compact"}),
        ]  # fmt: skip
        admin = clients.admin_client(s)
        await admin.start()
        try:
            response = await admin.create_topics(topics)
        finally:
            await admin.close()
        for topic, code, message in response.topic_errors:
            if code not in (0, _TOPIC_EXISTS):
                raise BusError(f"cannot create topic {topic}: error {code} {message}")

    async def publish(self, event: AnyEvent) -> int:
        return (await self.publish_many((event,)))[0]

    async def publish_many(self, events: Sequence[AnyEvent]) -> list[int]:
        self._check_open()
        if not events:
            return []
        values = [event.model_dump_json().encode() for event in events]
        limit = self.settings.max_message_bytes
        for event, value in zip(events, values, strict=True):  # refused before anything is sent
            if len(value) > limit:
                raise BusError(f"event {event.id} is over the {limit} bytes a message may have")
        await self.start()
        if not self._read_back:
            await self._load_recent()
        seqs: list[int | None] = [None] * len(events)
        give_up_at = time.monotonic() + self.settings.publish_retry_s
        while True:
            error = await self._send(events, values, seqs)
            if error is None:
                return [seq for seq in seqs if seq is not None]
            self._check_open()
            if not getattr(error, "retriable", False) or time.monotonic() >= give_up_at:
                stored = sum(seq is not None for seq in seqs)
                raise BusError(
                    f"publish failed after {stored} of {len(events)}: {error!r}"
                ) from error
            await asyncio.sleep(0.2)

    async def _send(
        self, events: Sequence[AnyEvent], values: list[bytes], seqs: list[int | None]
    ) -> Exception | None:
        """Send the events without a seq yet, then await them all; fill seqs, return an error."""
        sent: list[tuple[int, asyncio.Future[Any]]] = []
        first: dict[str, int] = {}  # event id -> index of its first copy in this batch
        error: Exception | None = None
        try:
            for i, event in enumerate(events):
                if seqs[i] is not None:
                    continue
                if (known := self._recent.get(event.kind, event.id)) is not None:
                    seqs[i] = known
                    continue
                if event.id in first and self.settings.dedup_window:
                    continue
                first[event.id] = i
                future = await self._producer.send(
                    self.topic(event.kind), values[i], key=event.space_id.encode(),
                    headers=[(EVENT_ID_HEADER, event.id.encode())],
                )  # fmt: skip
                sent.append((i, future))
        except KafkaError as exc:
            error = exc
        for i, future in sent:
            try:
                metadata = await future
            except KafkaError as exc:
                error = error or exc
                continue
            seq = seqs[i] = encode_seq(metadata.partition, metadata.offset)
            self._recent.remember(events[i].kind, events[i].id, seq)
        for i, event in enumerate(events):
            if seqs[i] is None and (j := first.get(event.id, i)) != i:
                seqs[i] = seqs[j]
        return error

    async def _load_recent(self) -> None:
        async with self._lock:
            if self._read_back:
                return
            reader = clients.consumer(self.settings, None)
            try:
                await reader.start()
                topics = [self.topic(kind) for kind in EVENT_KINDS]
                found = await read_back(reader, topics, self.settings.dedup_window)
                for kind, topic in zip(EVENT_KINDS, topics, strict=True):
                    self._recent.remember_all(kind, found[topic])
            except KafkaError as exc:
                raise BusError(f"cannot read back recent event ids: {exc!r}") from exc
            finally:
                await _stop(reader)
            self._read_back = True

    async def dead_letter(self, record: Record, reason: str, group: str) -> None:
        """Copy a record that is no event of ours to ``<prefix>.dead_letter``, with why."""
        headers = [
            ("dlq-reason", reason.encode()), ("dlq-topic", record.topic.encode()),
            ("dlq-partition", str(record.partition).encode()),
            ("dlq-offset", str(record.offset).encode()), ("dlq-group", group.encode()),
        ]  # fmt: skip
        await self._producer.send_and_wait(
            self._dead_letter_topic, record.value, key=record.key, headers=headers
        )

    async def subscribe(self, durable: str, subjects: Sequence[str]) -> KafkaSubscription:
        self._check_open()
        validate_durable(durable)
        filters = tuple(sorted({validate_filter(s) for s in subjects}))
        if not filters:
            raise ValueError("subscribe needs at least one subject filter")
        await self.start()
        group = self.settings.group_prefix + durable
        try:
            await self.records.refresh()
            found = self.records.filters(group)
            if found is None:
                await self.records.register(group, filters)
        except KafkaError as exc:
            raise BusError(f"cannot open durable {durable!r}: {exc!r}") from exc
        if found not in (None, filters):
            raise ConsumerConflictError(
                f"durable {durable!r} exists with filters {list(found or ())}, not {list(filters)}"
            )
        topics = [self.topic(k) for k in EVENT_KINDS if any(_reaches(f, k) for f in filters)]
        client = clients.consumer(self.settings, group) if topics else None
        subscription = KafkaSubscription(self, group, filters, client)
        if client is not None:
            # Subscribed before it starts, the client's start waits for the group to assign
            # its partitions: the durable is open once this returns.
            client.subscribe(topics, listener=subscription.listener())
            try:
                async with asyncio.timeout(self.settings.request_timeout_s):
                    await client.start()
                    await subscription.settled.wait()
            except (KafkaError, TimeoutError) as exc:
                await _stop(client)
                raise BusError(f"cannot join the group of durable {durable!r}: {exc!r}") from exc
        self._subscriptions.append(subscription)
        return subscription

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscription in self._subscriptions:
            subscription._wake()
        await asyncio.sleep(0)  # waiting fetches see the close before their clients stop
        for subscription in self._subscriptions:
            try:
                await subscription._close()
            except (KafkaError, OSError) as exc:
                log.warning("bus: closing a Kafka consumer: %r", exc)
        await _stop(self._reader, self._producer)

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")


async def _stop(*clients_: Any) -> None:
    """Stop clients that may not have started; a failure to stop is only logged."""
    for client in clients_:
        if client is not None:
            await clients.stop(client)
