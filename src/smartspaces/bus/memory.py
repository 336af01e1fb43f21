"""The embedded bus: in-process asyncio, journalled to SQLite, so the demo needs no service."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from smartspaces.bus.base import Delivery, subject_matches, validate_durable, validate_filter
from smartspaces.bus.errors import BusClosedError, ConsumerConflictError, JournalError
from smartspaces.bus.journal import ConsumerRecord, Journal, StoredMessage
from smartspaces.config import BusSettings
from smartspaces.events import AnyEvent, event_from_json, subject_for


class _Stream:
    """The messages, indexed by ``seq - 1`` (seqs are dense from 1)."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.events: list[AnyEvent] = []


class _Consumer:
    """One durable's position: a cursor for first deliveries, then pending, ready and acked."""

    def __init__(self, name: str, record: ConsumerRecord, stream: _Stream, ack_wait_s: float):
        self.name = name
        self._stream = stream
        self._ack_wait_s = ack_wait_s
        self.filters = record.filters
        self.floor = record.ack_floor  # every seq <= floor is acked or not ours
        self.acked = set(record.acked)  # acked seqs above the floor
        self.cursor = record.ack_floor + 1  # next seq to consider for a first delivery
        # seq -> ack deadline. ack_wait is one constant, so insertion order is deadline order
        # and expiry only looks at the front.
        self.pending: dict[int, float] = {}
        self.ready: deque[int] = deque()  # nak'ed or expired, delivered before new messages
        self.counts: dict[int, int] = {}  # deliveries so far of each unacked seq
        self.unsaved: list[int] = []  # acks not yet in the journal
        self._matches: dict[str, bool] = {}

    def wants(self, subject: str) -> bool:
        # Subjects are few (kinds x spaces), so the match is cached per subject.
        hit = self._matches.get(subject)
        if hit is None:
            hit = any(subject_matches(f, subject) for f in self.filters)
            self._matches[subject] = hit
        return hit

    def take(self, limit: int, now: float) -> list[Delivery]:
        """Up to ``limit`` deliveries: expired and nak'ed ones first, then new messages."""
        expired = []
        for seq, deadline in self.pending.items():
            if deadline > now:
                break
            expired.append(seq)
        for seq in expired:
            del self.pending[seq]
        self.ready.extend(expired)
        out: list[Delivery] = []
        while self.ready and len(out) < limit:
            seq = self.ready.popleft()
            if seq > self.floor and seq not in self.acked:
                out.append(self._deliver(seq, now))
        subjects = self._stream.subjects
        while self.cursor <= len(subjects) and len(out) < limit:
            seq = self.cursor
            self.cursor += 1
            # Acked seqs above the floor exist after a restart; they stay done.
            if seq not in self.acked and self.wants(subjects[seq - 1]):
                out.append(self._deliver(seq, now))
        return out

    def _deliver(self, seq: int, now: float) -> Delivery:
        count = self.counts.get(seq, 0) + 1
        self.counts[seq] = count
        self.pending[seq] = now + self._ack_wait_s
        return Delivery(seq, self._stream.subjects[seq - 1], self._stream.events[seq - 1], count)

    def next_deadline(self) -> float | None:
        return next(iter(self.pending.values()), None)

    def ack(self, seq: int) -> None:
        subjects = self._stream.subjects
        if seq <= self.floor or seq >= self.cursor or seq in self.acked:
            return
        if not self.wants(subjects[seq - 1]):
            return  # never ours: a delivery from another durable
        self.pending.pop(seq, None)
        self.counts.pop(seq, None)
        self.acked.add(seq)
        self.unsaved.append(seq)
        while self.floor + 1 < self.cursor:
            nxt = self.floor + 1
            if nxt in self.acked:
                self.acked.discard(nxt)
            elif self.wants(subjects[nxt - 1]):
                break
            self.floor = nxt

    def nak(self, seq: int) -> None:
        if self.pending.pop(seq, None) is not None:
            self.ready.append(seq)


class MemorySubscription:
    """A handle on one durable consumer of a ``MemoryBus`` (see ``Subscription``)."""

    def __init__(self, bus: MemoryBus, consumer: _Consumer) -> None:
        self._bus = bus
        self._consumer = consumer

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[Delivery]:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        bus = self._bus
        until = time.monotonic() + timeout_s
        while True:
            bus._check_open()
            bus._save_acks()
            now = time.monotonic()
            batch = self._consumer.take(max_messages, now)
            if batch or now >= until:
                return batch
            wake = until
            deadline = self._consumer.next_deadline()
            if deadline is not None:
                wake = min(wake, deadline)
            await bus._wait(wake - now)

    async def ack(self, delivery: Delivery) -> None:
        self._bus._check_open()
        self._consumer.ack(delivery.seq)
        self._bus._schedule_save()

    async def nak(self, delivery: Delivery) -> None:
        self._bus._check_open()
        self._consumer.nak(delivery.seq)
        self._bus._notify()


class MemoryBus:
    """The embedded ``Bus``: the stream lives in memory, every publish is journalled first.

    The whole stream is kept (in memory and in the journal) for now: there is no retention yet.
    ``journal_path=None`` keeps nothing across restarts. One process per journal file.
    """

    def __init__(self, settings: BusSettings, journal_path: Path | None) -> None:
        self._ack_wait_s = settings.ack_wait_s
        self._dedup_window = settings.dedup_window
        self._journal = Journal(journal_path)
        self._stream = _Stream()
        self._recent: dict[str, int] = {}  # event id -> seq, the dedup window
        self._recent_order: deque[str] = deque()
        self._records: dict[str, ConsumerRecord] = {}
        self._consumers: dict[str, _Consumer] = {}
        self._wakeup: asyncio.Event | None = None
        self._save_scheduled = False
        self._closed = False
        try:
            self._load(journal_path)
        except BaseException:
            self._journal.close()
            raise

    def _load(self, journal_path: Path | None) -> None:
        state = self._journal.load()
        for message in state.messages:
            try:
                event = event_from_json(message.payload)
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                raise JournalError(
                    f"bus journal {journal_path}: message {message.seq} is unreadable: {exc}"
                ) from exc
            if event.id != message.event_id or subject_for(event) != message.subject:
                raise JournalError(
                    f"bus journal {journal_path}: message {message.seq} does not match its row"
                )
            self._stream.subjects.append(message.subject)
            self._stream.events.append(event)
            self._remember(event.id, message.seq)
        self._records = state.consumers

    async def publish(self, event: AnyEvent) -> int:
        return (await self.publish_many((event,)))[0]

    async def publish_many(self, events: Sequence[AnyEvent]) -> list[int]:
        self._check_open()
        seqs: list[int] = []
        fresh: list[StoredMessage] = []
        fresh_events: list[AnyEvent] = []
        batch: dict[str, int] = {}
        next_seq = len(self._stream.events) + 1
        for event in events:
            seen = self._recent.get(event.id) or batch.get(event.id)
            if seen is not None:
                seqs.append(seen)
                continue
            subject = subject_for(event)
            payload = event.model_dump_json().encode()
            fresh.append(StoredMessage(next_seq, subject, event.id, payload))
            fresh_events.append(event)
            if self._dedup_window:
                batch[event.id] = next_seq
            seqs.append(next_seq)
            next_seq += 1
        # Journal first, then memory: if the write fails, the bus is as it was.
        self._journal.append(fresh)
        for message, event in zip(fresh, fresh_events, strict=True):
            self._stream.subjects.append(message.subject)
            self._stream.events.append(event)
            self._remember(message.event_id, message.seq)
        if fresh:
            self._notify()
        return seqs

    def _remember(self, event_id: str, seq: int) -> None:
        if not self._dedup_window:
            return
        self._recent[event_id] = seq
        self._recent_order.append(event_id)
        if len(self._recent_order) > self._dedup_window:
            del self._recent[self._recent_order.popleft()]

    async def subscribe(self, durable: str, subjects: Sequence[str]) -> MemorySubscription:
        self._check_open()
        validate_durable(durable)
        filters = tuple(sorted({validate_filter(s) for s in subjects}))
        if not filters:
            raise ValueError("subscribe needs at least one subject filter")
        consumer = self._consumers.get(durable)
        if consumer is None:
            record = self._records.get(durable)
            if record is None:
                self._journal.add_consumer(durable, filters)
                record = self._records[durable] = ConsumerRecord(filters)
            consumer = _Consumer(durable, record, self._stream, self._ack_wait_s)
            self._consumers[durable] = consumer
        if consumer.filters != filters:
            raise ConsumerConflictError(
                f"durable {durable!r} exists with filters {list(consumer.filters)}, "
                f"not {list(filters)}"
            )
        return MemorySubscription(self, consumer)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._notify()
        try:
            self._save_acks()
        finally:
            self._journal.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")

    async def _wait(self, timeout_s: float) -> None:
        """Sleep until something is published, nak'ed or closed, or ``timeout_s`` passes."""
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        wakeup = self._wakeup
        try:
            async with asyncio.timeout(max(timeout_s, 0.0)):
                await wakeup.wait()
        except TimeoutError:
            pass

    def _notify(self) -> None:
        # A fresh Event per wake-up, so waiters never miss one and nobody has to clear it.
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    def _schedule_save(self) -> None:
        # Acks made in one loop iteration (a batch) are written in one transaction.
        if not self._save_scheduled:
            self._save_scheduled = True
            asyncio.get_running_loop().call_soon(self._save_acks)

    def _save_acks(self) -> None:
        self._save_scheduled = False
        dirty = [c for c in self._consumers.values() if c.unsaved]
        if not dirty:
            return
        self._journal.save_acks((c.name, c.floor, c.unsaved) for c in dirty)
        for consumer in dirty:
            consumer.unsaved = []
