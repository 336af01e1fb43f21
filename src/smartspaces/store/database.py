"""The store: events, spaces, live space status, dead letters and audit, on SQLite or PostgreSQL.

Writes are idempotent (an event id already stored is skipped), so the at-least-once bus can
redeliver freely. Methods are synchronous; async callers run them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, and_, create_engine, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from smartspaces.events import AnyEvent, SmartSpace, event_from_json
from smartspaces.store.accounts import AccountRepository
from smartspaces.store.audit import append as append_audit
from smartspaces.store.deliveries import DeliveryRepository
from smartspaces.store.devices import DeviceRepository
from smartspaces.store.errors import StoreError
from smartspaces.store.incidents import IncidentRepository
from smartspaces.store.leases import LeaseRepository, checkpoint_statements
from smartspaces.store.rows import row_values
from smartspaces.store.spatial import SpatialRepository
from smartspaces.store.tables import (
    EVENT_TABLES,
    AlertRow,
    Base,
    DeadLetterRow,
    SpaceRow,
    SpaceStatusRow,
)

MAX_DEAD_LETTER_CHARS = 65_536
"""A dead letter keeps at most this much of the rejected input (the size is kept too)."""

_ID_PREFIX_KIND = {
    "obs": "observation",
    "det": "detection",
    "sit": "situation",
    "risk": "risk_level",
    "alert": "alert",
    "inc": "incident",
    "incst": "incident_state_changed",
}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while the pipeline writes; NORMAL sync is durable across app crashes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


_MIGRATION_LOCK = 0x5353_4D49_4752  # "SSMIGR": the advisory lock that serialises migrations


class Store:
    """Repository over one database; construct once in the composition root."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.devices = DeviceRepository(self.engine)
        self.accounts = AccountRepository(self.engine)
        self.deliveries = DeliveryRepository(self.engine)
        self.spatial = SpatialRepository(self.engine)
        self.incidents = IncidentRepository(self.engine)
        self.leases = LeaseRepository(self.engine)
        self._insert = (
            postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        )

    # -- schema -----------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to call at every start)."""
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                # workers starting together: one migrates, the others wait, then find it done
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def drop_all(self) -> None:
        """Remove every table (tests and the demo's fresh start only)."""
        with self.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")

    def close(self) -> None:
        self.engine.dispose()

    # -- writes -----------------------------------------------------------------------------
    def put_spaces(self, spaces: Iterable[SmartSpace]) -> None:
        """Insert or replace the smart spaces."""
        with Session(self.engine) as session, session.begin():
            for space in spaces:
                session.merge(
                    SpaceRow(
                        id=space.id,
                        name=space.name,
                        space_type=space.space_type,
                        area_m2=space.area_m2,
                        payload=space.model_dump_json(),
                    )
                )
        self.spatial.refresh()

    def append_events(self, events: Sequence[AnyEvent]) -> int:
        """Store events, skipping ids already stored; returns how many were new."""
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for item in events:
            by_kind.setdefault(item.kind, []).append(row_values(item))
        added = 0
        with self.engine.begin() as connection:
            for kind, rows in by_kind.items():
                table: Table = EVENT_TABLES[kind].__table__  # type: ignore[attr-defined]
                statement = self._insert(table).on_conflict_do_nothing(
                    index_elements=self._conflict_keys(table)
                )
                if self.engine.dialect.name == "sqlite":
                    # sqlite3's executemany sums the rows really inserted: cheaper than RETURNING
                    added += connection.execute(statement, rows).rowcount
                else:  # an executemany's rowcount is not reliable on PostgreSQL
                    result = connection.execute(statement.returning(table.c.id), rows)
                    added += len(result.all())
        return added

    def _conflict_keys(self, table: Table) -> list[str]:
        # The primary key: (id, observed_at) for observations on PostgreSQL, whose partitioned
        # table's key must hold the partition key (an id always carries the same observed_at,
        # so it skips exactly the same duplicates); SQLite's tables are all keyed by id.
        if self.engine.dialect.name == "postgresql":
            return [column.name for column in table.primary_key]
        return ["id"]

    def update_status(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert the live status of spaces (keys as in ``SpaceStatusRow``)."""
        self.save_progress(rows)

    def save_progress(
        self,
        rows: Sequence[dict[str, Any]],
        stage: str | None = None,
        checkpoints: Sequence[tuple[str, int, Any]] = (),
        now: datetime | None = None,
    ) -> None:
        """Upsert spaces' live status and, in the same transaction, ``stage``'s checkpoints
        ``(space_id, last bus seq applied, state)``: a worker that takes a space over finds
        the status and the checkpoint of one and the same moment."""
        if not rows and not checkpoints:
            return
        table: Table = SpaceStatusRow.__table__  # type: ignore[assignment]
        statements: list[Any] = []
        for row in rows:
            statement = self._insert(table).values(**row)
            set_ = {c: getattr(statement.excluded, c) for c in row if c != "space_id"}
            statements.append(
                statement.on_conflict_do_update(index_elements=["space_id"], set_=set_)
            )
        if checkpoints:
            if stage is None or now is None:
                raise ValueError("checkpoints need their stage and the time")
            statements += checkpoint_statements(self.engine.dialect.name, stage, checkpoints, now)
        with self.engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)

    def add_dead_letter(self, adapter: str, reason: str, payload: str, at: datetime) -> None:
        """Keep rejected input with the reason it was rejected."""
        with Session(self.engine) as session, session.begin():
            session.add(
                DeadLetterRow(
                    received_at=at,
                    adapter=adapter,
                    reason=reason[:4000],
                    payload=payload[:MAX_DEAD_LETTER_CHARS],
                    payload_bytes=len(payload.encode("utf-8", "replace")),
                )
            )

    def audit(
        self, actor: str, action: str, target: str, details: dict[str, Any], at: datetime
    ) -> str:
        """Append one audit record chained to the previous one; returns its hash.

        Appends are serialised, so concurrent writers never fork the chain; ``store.audit``
        has the details (and ``audit_verify.verify`` checks the chain)."""
        return append_audit(self.engine, actor, action, target, details, at)

    # -- reads ------------------------------------------------------------------------------
    def spaces(self) -> list[SmartSpace]:
        with Session(self.engine) as session:
            rows = session.scalars(select(SpaceRow).order_by(SpaceRow.id))
            return [SmartSpace.model_validate_json(r.payload) for r in rows]

    def space(self, space_id: str) -> SmartSpace | None:
        with Session(self.engine) as session:
            row = session.get(SpaceRow, space_id)
            return SmartSpace.model_validate_json(row.payload) if row else None

    def status(self) -> dict[str, dict[str, Any]]:
        """The live status of every space that has one, by space id."""
        with Session(self.engine) as session:
            rows = session.scalars(select(SpaceStatusRow))
            return {
                r.space_id: {
                    "updated_at": _aware(r.updated_at),
                    "occupancy_persons": r.occupancy_persons,
                    "density_p_m2": r.density_p_m2,
                    "level_of_service": r.level_of_service,
                    "risk_level": r.risk_level,
                    "risk_score": r.risk_score,
                }
                for r in rows
            }

    def alerts(self, limit: int = 100, space_id: str | None = None) -> list[AnyEvent]:
        """The newest alerts first."""
        query = select(AlertRow.payload).order_by(AlertRow.observed_at.desc(), AlertRow.id)
        if space_id:
            query = query.where(AlertRow.space_id == space_id)
        with Session(self.engine) as session:
            return [event_from_json(p) for p in session.scalars(query.limit(limit))]

    def recent(self, kind: str, limit: int = 100, space_id: str | None = None) -> list[AnyEvent]:
        """The newest stored events of ``kind`` (e.g. ``situation``) first."""
        row_type: Any = EVENT_TABLES[kind]
        query = select(row_type.payload).order_by(row_type.observed_at.desc(), row_type.id)
        if space_id:
            query = query.where(row_type.space_id == space_id)
        with Session(self.engine) as session:
            return [event_from_json(p) for p in session.scalars(query.limit(limit))]

    def latest_per_space(self, kind: str, key: str | None = None) -> list[AnyEvent]:
        """The newest stored event of ``kind`` for each space (and each value of the column
        ``key``, e.g. ``detection_type``): the state a restarted pipeline resumes from."""
        row_type: Any = EVENT_TABLES[kind]
        columns = [row_type.space_id] + ([getattr(row_type, key)] if key else [])
        newest = (
            select(*columns, func.max(row_type.observed_at).label("newest"))
            .group_by(*columns)
            .subquery()
        )
        matches = [row_type.space_id == newest.c.space_id, row_type.observed_at == newest.c.newest]
        if key:
            matches.append(getattr(row_type, key) == newest.c[key])
        query = select(row_type.payload).join(newest, and_(*matches)).order_by(row_type.id)
        with Session(self.engine) as session:
            return [event_from_json(p) for p in session.scalars(query)]

    def event(self, event_id: str) -> AnyEvent | None:
        """One stored event by id, whatever its kind."""
        kind = _ID_PREFIX_KIND.get(event_id.split("-", 1)[0])
        if kind is None:
            return None
        row_type = EVENT_TABLES[kind]
        with Session(self.engine) as session:
            payload = session.scalar(select(row_type.payload).where(row_type.id == event_id))
        return event_from_json(payload) if payload else None

    def provenance(self, event_id: str, max_events: int = 10_000) -> list[AnyEvent]:
        """The event and every stored event it was derived from, breadth first."""
        seen: set[str] = set()
        queue: list[str] = [event_id]
        found: list[AnyEvent] = []
        while queue and len(found) < max_events:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            item = self.event(current)
            if item is None:
                continue
            found.append(item)
            queue.extend(item.derived_from)
        return found

    def count(self, kind: str) -> int:
        """How many events of a kind are stored (``dead_letter`` counts rejects)."""
        row_type: Any = DeadLetterRow if kind == "dead_letter" else EVENT_TABLES.get(kind)
        if row_type is None:
            raise StoreError(f"unknown event kind: {kind}")
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(row_type)) or 0)

    def dead_letters(
        self, limit: int = 100, adapter: str | None = None, pending_only: bool = False
    ) -> list[DeadLetterRow]:
        """The newest dead letters first, optionally of one adapter or not yet replayed."""
        query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(limit)
        if adapter:
            query = query.where(DeadLetterRow.adapter == adapter)
        if pending_only:
            query = query.where(DeadLetterRow.replayed_at.is_(None))
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def mark_replayed(self, letter_id: int, at: datetime) -> None:
        """Record that a dead letter was replayed successfully (it is kept, for the record)."""
        with Session(self.engine) as session, session.begin():
            row = session.get(DeadLetterRow, letter_id)
            if row is not None:
                row.replayed_at = at


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
