"""Who works on which smart space: leases with an expiry, and each stage's checkpoint per space.

A stage whose state is per space (the crowd measures) runs on several workers, each space on one
worker at a time. A worker holds a space by a lease it renews well before ``expires_at``; when it
dies, the lease lapses and another worker claims the space. The checkpoint, written in the same
transaction as the space's live status, names the last bus sequence the stage applied to the
space: the new owner restores the state from it and skips what was applied already, so a
message redelivered after a worker's death is applied once in effect.

Expiry is judged by the workers' own clocks (UTC): keep them in sync (NTP); the lease time
(seconds) dwarfs ordinary skew.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Engine, String, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartspaces.store.tables import Base, UtcDateTime

MEMBERS = "_members"  # the lease key prefix that tells who is alive in a stage


class LeaseRow(Base):
    """One space (or a membership ``_members.<worker>``) held by one worker until it expires."""

    __tablename__ = "leases"

    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckpointRow(Base):
    """What a stage applied to a space: the last bus sequence and the state it left."""

    __tablename__ = "checkpoints"

    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text, doc="The stage's state for the space, as JSON")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeaseRepository:
    """Claim, renew and release leases; read and write checkpoints."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def hold(
        self, stage: str, keys: Iterable[str], holder: str, now: datetime, ttl_s: float
    ) -> set[str]:
        """Take or renew each key that is free, lapsed or already ours; return those now ours.

        One statement per key, each atomic: two workers racing for a key never both win."""
        until = now + timedelta(seconds=ttl_s)
        table = LeaseRow.__table__
        won: set[str] = set()
        with self._engine.begin() as connection:
            for key in keys:
                # RETURNING, not rowcount: psycopg counts an insert ON CONFLICT DO NOTHING
                # that inserted nothing as a row
                taken = connection.execute(
                    update(LeaseRow)
                    .where(
                        LeaseRow.stage == stage,
                        LeaseRow.key == key,
                        (LeaseRow.holder == holder) | (LeaseRow.expires_at < now),
                    )
                    .values(holder=holder, expires_at=until)
                    .returning(LeaseRow.key)
                ).first()
                if taken is None:
                    taken = connection.execute(
                        self._insert(table)  # type: ignore[arg-type]
                        .values(stage=stage, key=key, holder=holder, expires_at=until)
                        .on_conflict_do_nothing(index_elements=["stage", "key"])
                        .returning(table.c.key)
                    ).first()
                if taken is not None:
                    won.add(key)
        return won

    def release(self, stage: str, keys: Iterable[str], holder: str) -> None:
        """Give keys up at once (a clean stop, or a rebalance), so no one waits for expiry."""
        wanted = list(keys)
        if not wanted:
            return
        with self._engine.begin() as connection:
            connection.execute(
                delete(LeaseRow).where(
                    LeaseRow.stage == stage, LeaseRow.key.in_(wanted), LeaseRow.holder == holder
                )
            )

    def holders(self, stage: str, now: datetime) -> dict[str, str]:
        """Live (unexpired) leases of a stage: key -> holder."""
        query = select(LeaseRow.key, LeaseRow.holder).where(
            LeaseRow.stage == stage, LeaseRow.expires_at >= now
        )
        with Session(self._engine) as session:
            return {str(k): str(h) for k, h in session.execute(query)}

    def checkpoints(self, stage: str, space_ids: Iterable[str]) -> dict[str, tuple[int, Any]]:
        """The checkpoint of each space that has one: space id -> (seq, state)."""
        wanted = list(space_ids)
        if not wanted:
            return {}
        query = select(CheckpointRow).where(
            CheckpointRow.stage == stage, CheckpointRow.space_id.in_(wanted)
        )
        with Session(self._engine) as session:
            return {r.space_id: (r.seq, json.loads(r.state)) for r in session.scalars(query)}


def checkpoint_statements(
    dialect: str, stage: str, checkpoints: Sequence[tuple[str, int, Any]], now: datetime
) -> list[Any]:
    """Upserts of ``(space_id, seq, state)`` checkpoints, for a transaction of the caller's."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statements = []
    for space_id, seq, state in checkpoints:
        values = {"seq": seq, "state": json.dumps(state), "updated_at": now}
        statements.append(
            insert(CheckpointRow.__table__)  # type: ignore[arg-type]
            .values(stage=stage, space_id=space_id, **values)
            .on_conflict_do_update(index_elements=["stage", "space_id"], set_=values)
        )
    return statements
