"""The store-and-forward sink: SQLite on disk between an adapter and its downstream sink."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from smartspaces.edge.buffer.policy import BufferSettings, Priority, admit, priority_of, rate_factor
from smartspaces.edge.ports import ObservationSink
from smartspaces.events import Observation

log = structlog.get_logger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " priority INTEGER NOT NULL, size INTEGER NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS pending_by_priority ON pending (priority, seq)",
)


@dataclass(frozen=True)
class Backlog:
    """What waits on disk: the input of ``rate_factor``."""

    count: int
    bytes: int
    bytes_by_priority: dict[Priority, int]


@dataclass
class BufferCounters:
    """What the buffer has done since it opened; nothing leaves it uncounted."""

    passed: int = 0
    buffered: int = 0
    forwarded: int = 0
    duplicates: int = 0
    evicted: int = 0
    dropped: int = 0
    failures: int = 0


class StoreAndForward:
    """An ObservationSink in front of ``downstream`` that never loses what it accepted.

    While the backlog is empty, observations go straight downstream. When the downstream
    raises (or takes over ``settings.timeout_s``), they are written to the SQLite file at
    ``path`` (committed before the call returns, so the caller may acknowledge its sender) and
    so is everything after them until ``forward`` (or ``run``) has delivered the backlog,
    oldest first: order per device is kept across an outage. The backlog survives a restart.
    Bounded by ``settings.max_bytes`` with the overflow policy of ``policy``. Ids seen in the
    last ``dedup_window`` observations are not passed on again, so a message that a broker
    redelivers is forwarded once.

    Example::

        buffer = StoreAndForward(bus_sink, data_dir / "edge-buffer.sqlite3", BufferSettings())
        task = asyncio.create_task(buffer.run())  # forwards the backlog when it can
        adapter = MqttAdapter(..., sink=buffer, ...)
    """

    def __init__(
        self,
        downstream: ObservationSink,
        path: Path,
        settings: BufferSettings,
        classify: Callable[[Observation], Priority] = priority_of,
    ) -> None:
        self.settings, self._downstream, self._classify = settings, downstream, classify
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection used by one worker thread at a time (calls hold self._lock).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # "durable when the call returns"
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._bytes = dict.fromkeys(Priority, 0)
        self._count = 0
        for priority, count, size in self._db.execute(
            "SELECT priority, count(*), coalesce(sum(size), 0) FROM pending GROUP BY priority"
        ):
            self._bytes[Priority(priority)] = size
            self._count += count
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.counters = BufferCounters()

    async def __call__(self, observations: Sequence[Observation]) -> None:
        """Pass on or buffer ``observations``; durable downstream or on disk once it returns."""
        async with self._lock:
            fresh = self._unseen(observations)
            if not fresh:
                return
            if self._count == 0:
                try:
                    async with asyncio.timeout(self.settings.timeout_s):
                        await self._downstream(fresh)
                    self.counters.passed += len(fresh)
                    return
                except Exception as error:  # any failure: the downstream is away, keep it here
                    self.counters.failures += 1
                    log.warning("buffer_downstream_failed", error=repr(error), held=len(fresh))
            await asyncio.to_thread(self._append, fresh)
            self._wake.set()

    def backlog(self) -> Backlog:
        return Backlog(self._count, sum(self._bytes.values()), dict(self._bytes))

    def rate_factor(self, priority: Priority) -> float:
        """How much of its normal rate a stream of ``priority`` should report at now."""
        return rate_factor(self.backlog().bytes, self.settings.max_bytes, priority)

    async def forward(self) -> int:
        """Deliver the backlog, oldest first, until it is empty or the downstream fails.

        Returns how many were delivered; raises what the downstream raised if it failed before
        the backlog was empty (what was delivered before stays delivered, the rest waits).
        """
        sent = 0
        while True:
            async with self._lock:
                rows = await asyncio.to_thread(self._oldest, self.settings.batch)
                if not rows:
                    return sent
                batch = [Observation.model_validate_json(body) for _, body in rows]
                async with asyncio.timeout(self.settings.timeout_s):
                    await self._downstream(batch)
                await asyncio.to_thread(self._delete_through, rows[-1][0])
                self.counters.forwarded += len(batch)
                sent += len(batch)

    async def run(self) -> None:
        """Forward whenever there is a backlog, retrying with a doubling wait; until cancelled."""
        attempt = 0
        while True:
            if self._count == 0:
                self._wake.clear()
                await self._wake.wait()
            try:
                sent = await self.forward()
                attempt = 0
                if sent:
                    log.info("buffer_forwarded", observations=sent)
            except Exception as error:
                self.counters.failures += 1
                delay = min(
                    self.settings.retry_max_s, self.settings.retry_min_s * 2 ** min(attempt, 32)
                )
                attempt += 1
                log.warning("buffer_forward_failed", error=repr(error), retry_s=delay)
                await asyncio.sleep(delay)

    def close(self) -> None:
        self._db.close()

    def _unseen(self, observations: Sequence[Observation]) -> list[Observation]:
        window = self.settings.dedup_window
        if window == 0:
            return list(observations)
        fresh = []
        recent = self._recent
        for observation in observations:
            if observation.id in recent:
                self.counters.duplicates += 1
                continue
            recent[observation.id] = None
            fresh.append(observation)
        while len(recent) > window:
            recent.popitem(last=False)
        return fresh

    def _append(self, observations: Sequence[Observation]) -> None:
        rows: list[tuple[int, int, str]] = []
        used = sum(self._bytes.values())
        evictable = dict(self._bytes)  # only rows already on disk can be evicted
        evict = dict.fromkeys(Priority, 0)
        for observation in observations:
            body = observation.model_dump_json()
            priority = self._classify(observation)
            size = len(body)
            decision = admit(used, evictable, size, priority, self.settings.max_bytes)
            if not decision.keep:
                self.counters.dropped += 1
                log.warning("buffer_full_dropped", id=observation.id, priority=priority.name)
                continue
            for victim, amount in decision.evict.items():
                evict[victim] += amount
                evictable[victim] -= amount
                used -= amount
            used += size
            rows.append((int(priority), size, body))
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for victim, amount in evict.items():
                if amount > 0:
                    self._evict(victim, amount)
            self._db.executemany(
                "INSERT INTO pending (priority, size, body) VALUES (?, ?, ?)", rows
            )
        for level, size, _ in rows:
            self._bytes[Priority(level)] += size
        self._count += len(rows)
        self.counters.buffered += len(rows)

    def _evict(self, priority: Priority, amount: int) -> None:
        freed, last = 0, None
        cursor = self._db.execute(
            "SELECT seq, size FROM pending WHERE priority = ? ORDER BY seq", (int(priority),)
        )
        count = 0
        for seq, size in cursor:
            freed += size
            last = seq
            count += 1
            if freed >= amount:
                break
        cursor.close()
        if last is None:
            return
        self._db.execute(
            "DELETE FROM pending WHERE priority = ? AND seq <= ?", (int(priority), last)
        )
        self._bytes[priority] -= freed
        self._count -= count
        self.counters.evicted += count
        log.warning("buffer_full_evicted", priority=priority.name, observations=count)

    def _oldest(self, limit: int) -> list[tuple[int, str]]:
        return list(
            self._db.execute("SELECT seq, body FROM pending ORDER BY seq LIMIT ?", (limit,))
        )

    def _delete_through(self, seq: int) -> None:
        sizes = self._db.execute(
            "SELECT priority, count(*), sum(size) FROM pending WHERE seq <= ? GROUP BY priority",
            (seq,),
        ).fetchall()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM pending WHERE seq <= ?", (seq,))
        for priority, count, size in sizes:
            self._bytes[Priority(priority)] -= size
            self._count -= count
