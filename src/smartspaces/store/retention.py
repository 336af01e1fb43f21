"""Retention: when each kind of data expires (a pure decision) and its deletion (bounded I/O).

``cutoffs`` turns the settings and ``now`` into one cut-off time per kind; ``apply_retention``
deletes what is older, oldest first, ``batch_rows`` rows per transaction and at most
``max_batches`` per kind and run (the rest goes at the next run), so a large backlog never holds
a lock for long. Audit records are pruned only as a prefix of the chain, and only records that
verify: the hash of the last one removed becomes the anchor's checkpoint, so what is left still
verifies, and a tampered record is never deleted with the evidence. Every run that deletes
something is itself audited. The bus journal has its own retention (``bus``), not this one.

Observations on PostgreSQL are partitioned by time (``store.partitions``): each run first readies
the partitions ahead of the clock, then drops every partition entirely older than the cut-off,
which costs next to nothing however many rows it holds. Their cut-off falls back to a partition
bound: a partition only partly expired is kept whole until all of it has, so observations stay
at most one partition width (``observations_partition_hours``, a day) past their period. Deleting
its expired rows one by one instead would, with hourly runs, empty every partition row by row
before it ever lapsed, and the drop would have nothing left to save; the width is the knob for
sites that need a tighter bound. Rows outside any partition (in the default one) and partitions
with other bounds still go row by row, to the same cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, delete, func, select
from sqlalchemy.orm import Session

from smartspaces.config.retention import RetentionSettings
from smartspaces.store.audit import AuditAnchorRow, AuditError, append, lock_anchor, row_hash
from smartspaces.store.deliveries import DeliveryAttemptRow
from smartspaces.store.partitions import PartitionBusy, cell, drop, is_partitioned, maintain
from smartspaces.store.partitions import partitions as list_partitions
from smartspaces.store.tables import (
    AlertRow,
    AuditRow,
    DeadLetterRow,
    DetectionRow,
    IncidentAlertRow,
    IncidentCaseRow,
    IncidentChangeRow,
    IncidentRow,
    ObservationRow,
    RiskLevelRow,
    SituationRow,
)

if TYPE_CHECKING:
    from smartspaces.store.database import Store

RETENTION_ACTOR = "system:retention"

KINDS: dict[str, str] = {
    "observations": "observations_days",
    "detections": "detections_days",
    "situations": "situations_days",
    "risk_levels": "risk_levels_days",
    "alerts": "alerts_days",
    "delivery_attempts": "alerts_days",
    "incidents": "incidents_days",
    "incident_changes": "incidents_days",
    "incident_cases": "incidents_days",
    "dead_letters": "dead_letters_days",
    "audit": "audit_days",
}
"""Each kind of data kept, and the setting that says for how many days."""

_TABLES: dict[str, tuple[Any, Any]] = {  # kind -> (row type, the time it expires by)
    "observations": (ObservationRow, ObservationRow.observed_at),
    "detections": (DetectionRow, DetectionRow.observed_at),
    "situations": (SituationRow, SituationRow.observed_at),
    "risk_levels": (RiskLevelRow, RiskLevelRow.observed_at),
    "alerts": (AlertRow, AlertRow.observed_at),
    "delivery_attempts": (DeliveryAttemptRow, DeliveryAttemptRow.at),
    "incidents": (IncidentRow, IncidentRow.observed_at),
    "incident_changes": (IncidentChangeRow, IncidentChangeRow.observed_at),
    "incident_cases": (IncidentCaseRow, IncidentCaseRow.updated_at),
    "dead_letters": (DeadLetterRow, DeadLetterRow.received_at),
}


@dataclass(frozen=True, slots=True)
class KindResult:
    """What one run did to one kind of data."""

    kind: str
    days: int
    cutoff: datetime  # records older than this had expired
    deleted: int  # or, in a dry run, how many would be
    more: bool = False  # the run's batches ran out: the rest goes at the next run
    partitions: int = 0  # whole partitions dropped (their rows are counted in ``deleted``)


@dataclass(frozen=True)
class RetentionReport:
    """One run of retention over every kind."""

    now: datetime
    dry_run: bool
    kinds: tuple[KindResult, ...]
    held_back: str | None = None  # why audit pruning stopped before its cut-off

    @property
    def counts(self) -> dict[str, int]:
        return {k.kind: k.deleted for k in self.kinds}

    @property
    def deleted(self) -> int:
        return sum(k.deleted for k in self.kinds)


def cutoffs(settings: RetentionSettings, now: datetime) -> dict[str, datetime]:
    """For each kind, the time before which its records have expired (pure)."""
    if now.tzinfo is None:
        raise ValueError("retention needs an aware time (UTC)")
    now = now.astimezone(UTC)  # stored times are UTC; SQLite compares them as text
    return {kind: now - timedelta(days=getattr(settings, field)) for kind, field in KINDS.items()}


class RetentionTimer:
    """When retention is due on a clock: at the first look, then every ``interval_s`` (pure)."""

    def __init__(self, settings: RetentionSettings) -> None:
        self.settings = settings
        self._next: datetime | None = None

    def due(self, now: datetime) -> bool:
        """Whether to run now; a True answer books the next run."""
        if not self.settings.enabled or (self._next is not None and now < self._next):
            return False
        self._next = now + timedelta(seconds=self.settings.interval_s)
        return True


def apply_retention(
    store: Store, settings: RetentionSettings, now: datetime, dry_run: bool = False
) -> RetentionReport:
    """Delete every expired record (or, with ``dry_run``, count them) and return the counts."""
    limits = cutoffs(settings, now)
    results: list[KindResult] = []
    for kind, (row_type, column) in _TABLES.items():
        days = getattr(settings, KINDS[kind])
        expired = column < limits[kind]
        extra = [IncidentCaseRow.status == "closed"] if kind == "incident_cases" else []
        if kind == "observations" and _by_partitions(store):
            results.append(_observations(store, settings, limits[kind], now, dry_run))
            continue
        if dry_run:
            found = _count(store.engine, row_type, [expired, *extra])
            results.append(KindResult(kind, days, limits[kind], found))
            continue
        deleted, more = _delete_rows(store.engine, settings, kind, expired, extra)
        results.append(KindResult(kind, days, limits[kind], deleted, more))
    audit, held_back = _audit(store.engine, settings, limits["audit"], dry_run)
    results.append(audit)
    report = RetentionReport(now, dry_run, tuple(results), held_back)
    if not dry_run and report.deleted:
        details: dict[str, Any] = {
            "deleted": {k: n for k, n in report.counts.items() if n},
            "cutoffs": {k: v.isoformat() for k, v in limits.items()},
            "held_back": held_back,
        }
        try:
            append(store.engine, RETENTION_ACTOR, "retention.applied", "store", details, now)
        except AuditError:  # no anchor: ``held_back`` already says so, and the deletions stand
            pass
    return report


def _by_partitions(store: Store) -> bool:
    if store.engine.dialect.name != "postgresql":
        return False
    with store.engine.connect() as connection:
        return is_partitioned(connection)


def _observations(
    store: Store, settings: RetentionSettings, cutoff: datetime, now: datetime, dry_run: bool
) -> KindResult:
    """Observations on partitioned PostgreSQL: ready the partitions ahead, drop the lapsed ones
    whole, delete the rest of what is older than the cut-off (fallen back to a bound) by rows."""
    width = timedelta(hours=settings.observations_partition_hours)
    whole = settings.observations_drop_partitions
    limit = cell(cutoff, width).lower if whole else cutoff
    expired = ObservationRow.observed_at < limit
    days = settings.observations_days
    dropped, deleted, busy = 0, 0, False
    try:
        if not dry_run:
            maintain(store.engine, width, settings.observations_partitions_ahead, limit, now)
        with store.engine.begin() as connection:
            found = list_partitions(connection) if whole else []
        lapsed = [p for p in found if p.bounds is not None and p.bounds.upper <= limit]
        if dry_run:
            found_rows = _count(store.engine, ObservationRow, [expired])
            return KindResult("observations", days, limit, found_rows, partitions=len(lapsed))
        for partition in lapsed:  # oldest first: a busy table leaves the newest for next run
            deleted += drop(store.engine, partition)
            dropped += 1
    except PartitionBusy:
        busy = True  # the rest waits for the next run, rather than going row by row
    rows, more = (
        (0, True) if busy else _delete_rows(store.engine, settings, "observations", expired, [])
    )
    return KindResult("observations", days, limit, deleted + rows, more, dropped)


def _delete_rows(
    engine: Engine,
    settings: RetentionSettings,
    kind: str,
    expired: ColumnElement[bool],
    extra: list[ColumnElement[bool]],
) -> tuple[int, bool]:
    """Delete in batches, at most ``max_batches``; returns the count and whether more is left."""
    row_type, column = _TABLES[kind]
    deleted = 0
    for _ in range(settings.max_batches):
        if kind == "incident_cases":
            done = _delete_cases(engine, [expired, *extra], settings.batch_rows)
        else:
            done = _delete_batch(engine, row_type, column, expired, settings.batch_rows)
        deleted += done
        if done < settings.batch_rows:
            return deleted, False
    return deleted, True


def _count(engine: Engine, row_type: Any, conditions: list[ColumnElement[bool]]) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(select(func.count()).select_from(row_type).where(*conditions)) or 0
        )


def _delete_batch(
    engine: Engine, row_type: Any, column: Any, expired: ColumnElement[bool], batch: int
) -> int:
    # the oldest first, by a subquery: one statement, no list of ids through the driver
    oldest = select(row_type.id).where(expired).order_by(column).limit(batch)
    with engine.begin() as connection:
        return int(connection.execute(delete(row_type).where(row_type.id.in_(oldest))).rowcount)


def _delete_cases(engine: Engine, conditions: list[ColumnElement[bool]], batch: int) -> int:
    # a closed case goes together with its claim on alerts; an open one is never deleted
    query = select(IncidentCaseRow.id).where(*conditions).order_by(IncidentCaseRow.id).limit(batch)
    with Session(engine) as session, session.begin():
        ids = list(session.scalars(query))
        if ids:
            session.execute(delete(IncidentAlertRow).where(IncidentAlertRow.incident_id.in_(ids)))
            session.execute(delete(IncidentCaseRow).where(IncidentCaseRow.id.in_(ids)))
    return len(ids)


def _audit(
    engine: Engine, settings: RetentionSettings, cutoff: datetime, dry_run: bool
) -> tuple[KindResult, str | None]:
    # a dry run reads as far as a real run's batches would reach, and changes nothing
    deleted, more, held_back = 0, True, None
    batch = settings.batch_rows * (settings.max_batches if dry_run else 1)
    for _ in range(1 if dry_run else settings.max_batches):
        try:
            done, held_back = _prune_audit(engine, cutoff, batch, dry_run)
        except AuditError as error:
            done, held_back = 0, str(error)
        deleted += done
        if held_back or done < batch:
            more = False
            break
    return KindResult("audit", settings.audit_days, cutoff, deleted, more), held_back


def _prune_audit(
    engine: Engine, cutoff: datetime, batch: int, dry_run: bool
) -> tuple[int, str | None]:
    """Remove up to ``batch`` of the oldest records older than ``cutoff`` that verify, moving the
    anchor's checkpoint past them (one transaction, holding the anchor like an append)."""
    with Session(engine) as session, session.begin():
        anchor = session.get(AuditAnchorRow, 1) if dry_run else lock_anchor(session)
        if anchor is None:
            raise AuditError("the audit anchor is missing: no audit record is pruned")
        query = select(AuditRow).where(AuditRow.id > anchor.checkpoint_id).order_by(AuditRow.id)
        expected, last, pruned, held_back = anchor.checkpoint_hash, None, 0, None
        rows = session.scalars(query.limit(batch)).yield_per(1000)
        for row in rows:
            if _aware(row.at) >= cutoff:
                break
            if row.prev_hash != expected or row_hash(row) != row.hash:
                held_back = (
                    f"audit record {row.id} does not verify: pruning stops before it so the "
                    "evidence is kept (run `smartspaces audit verify`)"
                )
                break
            expected, last, pruned = row.hash, row.id, pruned + 1
        rows.close()
        if last is not None and not dry_run:
            session.execute(
                delete(AuditRow).where(AuditRow.id > anchor.checkpoint_id, AuditRow.id <= last)
            )
            anchor.checkpoint_hash, anchor.checkpoint_id = expected, last
            anchor.pruned += pruned
    return pruned, held_back


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
