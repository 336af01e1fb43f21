"""The audit log: append-only, hash-chained, anchored, and verifiable record by record.

Each record's hash is SHA-256 over the previous record's hash, its time, actor, action, target
and details (JSON), so changing, removing or reordering a stored record breaks the chain there.
A chain whose last records were removed still looks whole, so the head (its hash and the number
of records ever appended) is also kept in ``audit_anchor``, updated in the same transaction as
each append. When retention prunes the oldest records it keeps, in the anchor, the hash of the
last record it removed (the checkpoint): what is left still verifies from there.

Appends are serialised on the anchor row: a PostgreSQL row lock (``SELECT ... FOR UPDATE``),
SQLite's write lock, so two writers can never fork the chain.

Limits (docs/privacy.md): the hash is not keyed and the anchor lives in the same database, so
whoever can write to the database can rewrite the chain *and* the anchor consistently. A head
noted elsewhere (``verify --witness``) is what exposes that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartspaces.store.errors import StoreError
from smartspaces.store.tables import AuditRow, Base

if TYPE_CHECKING:
    from smartspaces.store.database import Store

GENESIS = "0" * 64
"""The previous hash of the very first record."""

_ANCHOR_ID = 1  # one chain per store
_LIMITS = {"actor": 128, "action": 64, "target": 256}  # the column sizes, same on every backend


class AuditError(StoreError):
    """The audit log cannot be written safely (its anchor is missing, a value is malformed)."""


class AuditAnchorRow(Base):
    """The head of the audit chain and the checkpoint of what retention pruned (one row)."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64), doc="Hash of the newest record")
    appended: Mapped[int] = mapped_column(Integer, doc="Records ever appended")
    pruned: Mapped[int] = mapped_column(Integer, doc="Oldest records removed by retention")
    checkpoint_hash: Mapped[str] = mapped_column(
        String(64), doc="Hash of the last record pruned (GENESIS if none)"
    )
    checkpoint_id: Mapped[int] = mapped_column(Integer, doc="Its id (0 if none)")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One stored audit record as read back."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: str  # JSON, as stored (and hashed)
    prev_hash: str
    hash: str


def record_hash(
    prev_hash: str, at: datetime, actor: str, action: str, target: str, text: str
) -> str:
    """The hash of one record: its fields joined by the unit separator, after the previous hash."""
    fields = [prev_hash, _utc(at).isoformat(), actor, action, target, text]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def append(
    engine: Engine,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any],
    at: datetime,
) -> str:
    """Append one record after the anchored head; returns its hash.

    Raises ``AuditError`` for a naive time, a value longer than its column, or a missing anchor
    (then nothing is written: an unanchored chain could hide a truncated tail)."""
    if at.tzinfo is None:
        raise AuditError("an audit record needs an aware time (UTC)")
    for name, value in (("actor", actor), ("action", action), ("target", target)):
        if not value or len(value) > _LIMITS[name]:
            raise AuditError(f"audit {name} must be 1 to {_LIMITS[name]} characters")
    at = _utc(at)
    text = json.dumps(dict(details), sort_keys=True, default=str)
    with Session(engine) as session, session.begin():
        anchor = lock_anchor(session)
        digest = record_hash(anchor.head_hash, at, actor, action, target, text)
        session.add(
            AuditRow(
                at=at,
                actor=actor,
                action=action,
                target=target,
                details=text,
                prev_hash=anchor.head_hash,
                hash=digest,
            )
        )
        anchor.head_hash = digest
        anchor.appended += 1
    return digest


def lock_anchor(session: Session) -> AuditAnchorRow:
    """The anchor row, locked against other writers until the session's transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        # A write as the first statement makes the transaction take SQLite's write lock (waiting
        # out busy_timeout) before anything is read, so the head read below is the latest one.
        session.execute(
            update(AuditAnchorRow)
            .where(AuditAnchorRow.id == _ANCHOR_ID)
            .values(appended=AuditAnchorRow.appended)
        )
    anchor = session.scalars(
        select(AuditAnchorRow)
        .where(AuditAnchorRow.id == _ANCHOR_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if anchor is None:
        raise AuditError(
            "the audit anchor is missing: nothing is appended until `smartspaces audit reanchor`"
        )
    return anchor


def anchor(store: Store) -> AuditAnchorRow | None:
    """The anchor as stored now (None if it was removed)."""
    with Session(store.engine, expire_on_commit=False) as session:
        return session.get(AuditAnchorRow, _ANCHOR_ID)


def reanchor(store: Store, actor: str, reason: str, at: datetime) -> str:
    """Re-create a missing anchor on the chain's last stored record, and record that it was done
    (with who and why) as the first record after it. Refused if an anchor exists.

    Records removed from the tail before this cannot be detected any more: that is why it is a
    deliberate, audited act of an administrator and never automatic."""
    with Session(store.engine) as session, session.begin():
        if session.get(AuditAnchorRow, _ANCHOR_ID) is not None:
            raise AuditError("the audit anchor exists: nothing to re-create")
        last = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).first()
        first = session.scalars(select(AuditRow).order_by(AuditRow.id).limit(1)).first()
        stored = session.scalar(select(func.count()).select_from(AuditRow)) or 0
        session.add(
            AuditAnchorRow(
                id=_ANCHOR_ID,
                head_hash=last.hash if last else GENESIS,
                appended=stored,
                pruned=0,
                checkpoint_hash=first.prev_hash if first else GENESIS,
                checkpoint_id=first.id - 1 if first else 0,
            )
        )
    details = {"reason": reason, "records": stored}
    return append(store.engine, actor, "audit.reanchored", "audit", details, at)


def records(
    store: Store,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """Stored records matching every filter given, newest first, at most ``limit``."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditRow.at >= _utc(since))  # SQLite compares times as text
    if actor is not None:
        query = query.where(AuditRow.actor == actor)
    if action is not None:
        query = query.where(AuditRow.action == action)
    if target is not None:
        query = query.where(AuditRow.target == target)
    with Session(store.engine) as session:
        return [to_record(row) for row in session.scalars(query)]


def to_record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=_utc(row.at),
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def row_hash(row: AuditRow) -> str:
    """What the row's hash should be, recomputed from its stored fields."""
    return record_hash(row.prev_hash, row.at, row.actor, row.action, row.target, row.details)


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; they were stored as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
