"""A durable consumer of the Kafka bus: one consumer-group member, acks kept per message.

Kafka hands each partition of the durable's topics to one member of its consumer group, so the
members of a durable split the work by space (the key). Within its partitions a member keeps
what it handed out until acked: a nak or an expired ``ack_wait_s`` hands the same record out
again from memory (Kafka is not asked twice), and the committed offset is the lowest offset not
yet acked (see ``kafka_offsets``). A record that is no event of ours is dead-lettered by the bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smartspaces.bus.base import Delivery, subject_matches
from smartspaces.bus.errors import BusError
from smartspaces.bus.kafka_clients import (
    ConsumerRebalanceListener,
    ConsumerStoppedError,
    KafkaError,
    Record,
    TopicPartition,
    record_of,
    stop,
)
from smartspaces.bus.kafka_offsets import PartitionOffsets, decode_seq, encode_seq
from smartspaces.bus.kafka_records import read_event
from smartspaces.events import AnyEvent

if TYPE_CHECKING:
    from smartspaces.bus.kafka import KafkaBus

log = logging.getLogger(__name__)

_Key = tuple[Any, int]  # (TopicPartition, offset)
_MIN_POLL_S = 0.01  # even a fetch that must not wait gives the client a moment to answer


@dataclass(slots=True)
class _Held:
    """A record handed out and not acked yet."""

    subject: str
    event: AnyEvent
    count: int


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, subscription: KafkaSubscription) -> None:
        self._subscription = subscription

    async def on_partitions_revoked(self, revoked: Sequence[Any]) -> None:
        await self._subscription._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[Any]) -> None:
        await self._subscription._assigned(assigned)


class KafkaSubscription:
    """A handle on one durable of a ``KafkaBus`` (see ``Subscription``)."""

    def __init__(self, bus: KafkaBus, group: str, filters: tuple[str, ...], client: Any) -> None:
        self._bus = bus
        self._group = group
        self._filters = filters
        self._client = client  # a started consumer in ``group``, or None: no topic to read
        self._ack_wait_s = bus.settings.ack_wait_s
        self._parts: dict[Any, PartitionOffsets] = {}
        self._held: dict[_Key, _Held] = {}
        self._deadlines: dict[_Key, float] = {}  # ack_wait is constant: insertion = time order
        self._ready: deque[_Key] = deque()  # nak'ed or expired: handed out before new records
        self._dead: dict[_Key, tuple[Record, str]] = {}  # to dead-letter (retried if it fails)
        self._dirty: set[Any] = set()
        self._committer: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        # Set while the partitions are known: from the end of an assignment (its handovers
        # read) to the start of the next rebalance. Records are taken only then.
        self.settled = asyncio.Event()
        self._matches: dict[str, bool] = {}
        self.dead_lettered = 0

    def listener(self) -> Any:
        return _Rebalance(self)

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[Delivery]:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        bus = self._bus
        until = time.monotonic() + timeout_s
        try:
            while True:
                bus._check_open()
                self._wakeup.clear()  # before looking: a nak from now on ends the wait below
                await self._dead_letter()
                now = time.monotonic()
                out = self._redeliver(max_messages, now)
                if out:
                    return out
                wake = min(until, next(iter(self._deadlines.values()), until))
                records = await self._poll(max_messages, max(wake - now, 0.0))
                bus._check_open()
                out = await self._admit(records)
                if out or time.monotonic() >= until:
                    return out
        except (KafkaError, ConsumerStoppedError) as exc:
            bus._check_open()
            raise BusError(f"fetch for group {self._group!r} failed: {exc!r}") from exc

    async def ack(self, delivery: Delivery) -> None:
        self._bus._check_open()
        key = self._key(delivery)
        if self._held.pop(key, None) is None:
            return  # acked already, or handed out before a rebalance took the partition
        self._deadlines.pop(key, None)
        self._finish(key)

    async def nak(self, delivery: Delivery) -> None:
        self._bus._check_open()
        key = self._key(delivery)
        if self._deadlines.pop(key, None) is not None:
            self._ready.append(key)
            self._wakeup.set()

    def _key(self, delivery: Delivery) -> _Key:
        partition, offset = decode_seq(delivery.seq)
        return TopicPartition(self._bus.topic(delivery.event.kind), partition), offset

    def _redeliver(self, limit: int, now: float) -> list[Delivery]:
        for key, deadline in list(self._deadlines.items()):
            if deadline > now:
                break
            del self._deadlines[key]
            self._ready.append(key)
        out: list[Delivery] = []
        while self._ready and len(out) < limit:
            key = self._ready.popleft()
            held = self._held.get(key)
            if held is None:
                continue
            held.count += 1
            self._deadlines[key] = now + self._ack_wait_s
            seq = encode_seq(key[0].partition, key[1])
            out.append(Delivery(seq, held.subject, held.event, held.count))
        return out

    async def _poll(self, limit: int, wait_s: float) -> list[Record]:
        """New records, waiting up to ``wait_s`` for one; [] early on a nak or a close."""
        if self._client is None or not self.settled.is_set():
            await self._wait_for(self.settled, wait_s)
            if self._client is None or not self.settled.is_set():
                return []
        # getmany may also wait for a group join beyond its timeout: bounded here, and
        # cancelling it loses nothing (records are taken from its buffer without a pause).
        fetching = asyncio.ensure_future(
            self._client.getmany(timeout_ms=int(wait_s * 1000), max_records=limit)
        )
        woken = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait(
                (fetching, woken), timeout=max(wait_s, _MIN_POLL_S),
                return_when=asyncio.FIRST_COMPLETED,
            )  # fmt: skip
        finally:
            woken.cancel()
            if not fetching.done():
                fetching.cancel()
                await asyncio.wait((fetching,))
        if fetching.cancelled():
            return []
        batch: dict[Any, list[Any]] = fetching.result()
        return [record_of(raw) for raws in batch.values() for raw in raws]

    async def _wait_for(self, event: asyncio.Event, wait_s: float) -> None:
        """Until ``event`` is set, a nak or a close, or ``wait_s`` has passed."""
        waits = (asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._wakeup.wait()))
        try:
            await asyncio.wait(waits, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _admit(self, records: list[Record]) -> list[Delivery]:
        out: list[Delivery] = []
        deadline = time.monotonic() + self._ack_wait_s
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            part = self._parts.get(tp)
            if part is None or not part.admit(record.offset):
                continue  # the partition went in a rebalance, or the record was done before
            key = (tp, record.offset)
            subject, found = read_event(record, self._bus.kind_of(record.topic), self._wants)
            if isinstance(found, str):
                log.error("bus: %s[%d]@%d is no event of ours: %s", *key[0], key[1], found)
                self._dead[key] = (record, found)
            elif found is None:
                part.finish(record.offset)  # a space or kind this durable did not ask for
            else:
                self._held[key] = _Held(subject, found, 1)
                self._deadlines[key] = deadline
                out.append(Delivery(encode_seq(record.partition, record.offset), subject, found, 1))
        await self._dead_letter()
        return out

    def _wants(self, subject: str) -> bool:
        hit = self._matches.get(subject)
        if hit is None:
            hit = self._matches[subject] = any(subject_matches(f, subject) for f in self._filters)
        return hit

    async def _dead_letter(self) -> None:
        """Send what waits for the dead-letter topic; what could not go is tried next fetch."""
        for key, (record, reason) in list(self._dead.items()):
            try:
                await self._bus.dead_letter(record, reason, self._group)
            except KafkaError as exc:
                log.warning("bus: cannot dead-letter %s[%d]@%d yet: %r", *key[0], key[1], exc)
                return
            if self._dead.pop(key, None) is None:
                continue  # its partition went in a rebalance meanwhile: its next owner sees it
            self.dead_lettered += 1
            self._finish(key)

    def _finish(self, key: _Key) -> None:
        part = self._parts.get(key[0])
        if part is not None and part.finish(key[1]):
            self._dirty.add(key[0])
            if self._committer is None or self._committer.done():
                self._committer = asyncio.get_running_loop().create_task(self._commit())

    async def _commit(self) -> None:
        """Commit the floors of the partitions acked since, one commit at a time."""
        while self._dirty and self._client is not None:
            tps, self._dirty = self._dirty, set()
            await self._commit_parts(tps)

    async def _commit_parts(self, tps: set[Any]) -> None:
        offsets = {}
        for tp in tps:
            part = self._parts.get(tp)
            if part is not None and (floor := part.to_commit()) is not None:
                offsets[tp] = floor
        if not offsets:
            return
        try:
            await self._client.commit(offsets)
        except KafkaError as exc:
            # The partition went to another member (a rebalance): what was acked since the
            # last commit is delivered again there, as at-least-once allows.
            log.info("bus: commit for group %r not taken: %r", self._group, exc)
            return
        for tp, floor in offsets.items():
            if (part := self._parts.get(tp)) is not None:
                part.committed = floor

    async def _save(self, tps: Sequence[Any]) -> None:
        """Leave the partitions to their next owner: the handovers first, then the commit."""
        records = self._bus.records
        try:
            for tp in tps:
                if (part := self._parts.get(tp)) is not None:
                    await records.put_handover(self._group, tp, part.handover())
        except KafkaError as exc:
            log.warning("bus: handover for group %r lost, acks redelivered: %r", self._group, exc)
        await self._commit_parts(set(tps))

    async def _revoked(self, tps: Sequence[Any]) -> None:
        self.settled.clear()
        await self._save(tps)
        for tp in tps:
            self._parts.pop(tp, None)
        gone = set(tps)
        for table in (self._held, self._deadlines, self._dead):
            for key in [key for key in table if key[0] in gone]:
                del table[key]
        self._ready = deque(key for key in self._ready if key[0] not in gone)

    async def _assigned(self, tps: Sequence[Any]) -> None:
        records = self._bus.records
        try:
            await records.refresh()
        except KafkaError as exc:
            log.warning("bus: handovers unread for group %r, redelivering: %r", self._group, exc)
        for tp in tps:
            self._parts[tp] = PartitionOffsets(records.handover(self._group, tp))
        self.settled.set()

    def _wake(self) -> None:
        self._wakeup.set()

    async def _close(self) -> None:
        """Commit what was acked, leave a handover, and leave the group."""
        if self._client is None:
            return
        try:
            async with asyncio.timeout(self._bus.settings.request_timeout_s):
                if self._committer is not None:
                    await asyncio.wait((self._committer,))
                await self._save(list(self._parts))
        except TimeoutError:
            log.warning("bus: acks of group %r not committed before close", self._group)
        finally:
            await stop(self._client)
