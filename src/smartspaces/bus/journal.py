"""The embedded bus's journal: messages and consumer positions in one SQLite file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from smartspaces.bus.errors import JournalError

FORMAT_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY, subject TEXT NOT NULL, event_id TEXT NOT NULL, payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS consumers (
    durable TEXT PRIMARY KEY, filters TEXT NOT NULL, ack_floor INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS acks (
    durable TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (durable, seq)
) WITHOUT ROWID;
"""


class StoredMessage(NamedTuple):
    """One message row: the payload is the event's JSON exactly as published.

    A tuple, not a dataclass, because publish builds one per event and sqlite3 takes it as is.
    """

    seq: int
    subject: str
    event_id: str
    payload: bytes


@dataclass(slots=True)
class ConsumerRecord:
    """Where a durable stands: every seq up to ``ack_floor`` is done, plus ``acked`` above it."""

    filters: tuple[str, ...]
    ack_floor: int = 0
    acked: set[int] = field(default_factory=set)


@dataclass(slots=True)
class JournalState:
    """Everything the journal holds, as loaded on open."""

    messages: list[StoredMessage] = field(default_factory=list)
    consumers: dict[str, ConsumerRecord] = field(default_factory=dict)


class Journal:
    """Append-only message log and consumer state; ``path=None`` keeps nothing (memory only).

    Writes run on the caller's thread: in WAL mode with ``synchronous=NORMAL`` a commit does not
    fsync, so it costs microseconds, less than a hop to a worker thread would. That survives a
    crash of the process; a power cut may lose the last commits (not corrupt the file).
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit, one per append or flush.
            # EXCLUSIVE locking: a second process on the same journal fails at open instead of
            # interleaving sequence numbers; it also spares WAL its shared-memory index.
            self._db = sqlite3.connect(path, isolation_level=None, timeout=0.2)
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint every 64 MiB of log instead of 4 MiB: fewer, larger fsyncs in a burst.
            self._db.execute("PRAGMA wal_autocheckpoint=16384")
            with self._transaction("BEGIN IMMEDIATE") as db:  # takes the lock, and keeps it
                for statement in _SCHEMA.split(";"):
                    db.execute(statement)
                self._check_version(db)
        except JournalError:
            self.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            self.close()
            hint = " (is another process using it?)" if "locked" in str(exc) else ""
            raise JournalError(f"cannot open bus journal {path}: {exc}{hint}") from exc

    def _check_version(self, db: sqlite3.Connection) -> None:
        row = db.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
        if row is None:
            db.execute("INSERT INTO meta VALUES ('format_version', ?)", (str(FORMAT_VERSION),))
        elif row[0] != str(FORMAT_VERSION):
            raise JournalError(
                f"bus journal {self._path} has format {row[0]}, this version reads {FORMAT_VERSION}"
            )

    def load(self) -> JournalState:
        """Read every message and consumer; raise ``JournalError`` on anything inconsistent."""
        state = JournalState()
        if self._db is None:
            return state
        try:
            rows = self._db.execute(
                "SELECT seq, subject, event_id, payload FROM messages ORDER BY seq"
            )
            for expected, (seq, subject, event_id, payload) in enumerate(rows, start=1):
                # Sequence numbers are dense from 1: a gap means rows were lost or edited.
                if seq != expected:
                    raise JournalError(f"bus journal {self._path}: message {expected} is missing")
                state.messages.append(StoredMessage(seq, subject, event_id, bytes(payload)))
            for durable, filters, floor in self._db.execute(
                "SELECT durable, filters, ack_floor FROM consumers"
            ):
                state.consumers[durable] = ConsumerRecord(tuple(json.loads(filters)), floor)
            for durable, seq in self._db.execute("SELECT durable, seq FROM acks"):
                state.consumers[durable].acked.add(seq)
        except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
            raise JournalError(f"cannot read bus journal {self._path}: {exc!r}") from exc
        return state

    def append(self, messages: Sequence[StoredMessage]) -> None:
        """Store ``messages`` in one transaction: all of them or, on error, none."""
        if self._db is None or not messages:
            return
        self._write(
            "INSERT INTO messages (seq, subject, event_id, payload) VALUES (?, ?, ?, ?)",
            messages,
        )

    def add_consumer(self, durable: str, filters: Sequence[str]) -> None:
        """Record a new durable consumer at the start of the stream."""
        if self._db is None:
            return
        self._write(
            "INSERT INTO consumers (durable, filters, ack_floor) VALUES (?, ?, 0)",
            [(durable, json.dumps(list(filters)))],
        )

    def save_acks(self, positions: Iterable[tuple[str, int, Sequence[int]]]) -> None:
        """For each ``(durable, ack_floor, new acks)``: move the floor, keep the sparse acks."""
        if self._db is None:
            return
        with self._transaction() as db:
            for durable, floor, acked in positions:
                db.execute("UPDATE consumers SET ack_floor = ? WHERE durable = ?", (floor, durable))
                db.execute("DELETE FROM acks WHERE durable = ? AND seq <= ?", (durable, floor))
                db.executemany(
                    "INSERT OR IGNORE INTO acks (durable, seq) VALUES (?, ?)",
                    [(durable, seq) for seq in acked if seq > floor],
                )

    def _write(self, sql: str, params: Sequence[tuple[object, ...]]) -> None:
        with self._transaction() as db:
            db.executemany(sql, params)

    @contextmanager
    def _transaction(self, begin: str = "BEGIN") -> Iterator[sqlite3.Connection]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        db = self._db
        if db is None:
            raise JournalError(f"bus journal {self._path} is closed")
        try:
            db.execute(begin)
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise JournalError(f"bus journal {self._path}: write failed: {exc}") from exc

    def close(self) -> None:
        """Release the file (and its lock); safe to call twice."""
        if self._db is not None:
            self._db.close()
            self._db = None
