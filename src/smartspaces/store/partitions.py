"""Time partitions of the observations table on PostgreSQL: their bounds (pure) and upkeep.

Observations are range-partitioned on ``observed_at``, one partition per
``observations_partition_hours`` (a day by default) on a grid counted in UTC from the Unix epoch,
each named after its lower bound (``observations_p2026031500``), plus one DEFAULT partition.
A reading is never refused for its time: one that no partition covers (very late, or far ahead
of the clock) lands in the default partition. ``maintain`` (run by retention, see
``store.retention``) readies the partitions ahead of the clock and moves readings that waited in
the default partition into a partition of their own once they are within the kept period;
``drop`` removes one partition whole, which is what makes retention cheap.

New partitions only ever fill the gaps between existing ones, so changing the width (or the
daily partitions migration 0012 made) never makes two overlap. SQLite has no partitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from smartspaces.store.errors import StoreError
from smartspaces.store.tables import ObservationRow

PARENT = "observations"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOCK_TIMEOUT = "5s"
"""How long partition DDL waits for the table; past it the work is left to the next run, so a
long read never makes every insert queue up behind a waiting DROP or CREATE."""

_COLUMNS = ", ".join(c.name for c in ObservationRow.__table__.columns)
_BOUND = re.compile(r"FROM \((?:'([^']+)'|MINVALUE)\) TO \((?:'([^']+)'|MAXVALUE)\)")
_PARTITION = re.compile(rf"^{PARENT}_(p\d{{10}}|default)$")
_IN = "observed_at >= :lo and observed_at < :hi"
_LOWEST = datetime.min.replace(tzinfo=UTC)
_HIGHEST = datetime.max.replace(tzinfo=UTC)


class PartitionBusy(StoreError):
    """The table was busy past ``LOCK_TIMEOUT``: the partition work waits for the next run."""


@dataclass(frozen=True, order=True, slots=True)
class Bounds:
    """The half-open time range ``[lower, upper)`` of one partition."""

    lower: datetime
    upper: datetime

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.lower <= at < self.upper

    def overlaps(self, other: Bounds) -> bool:
        return self.lower < other.upper and other.lower < self.upper

    @property
    def name(self) -> str:
        """The partition's table name, after its lower bound (unique: partitions never overlap)."""
        at = self.lower.astimezone(UTC)
        return f"{PARENT}_p{at.year:04d}{at.month:02d}{at.day:02d}{at.hour:02d}"


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition as the catalog has it; ``bounds`` is None for the default partition."""

    table: str  # the name to use in SQL, schema-qualified where the search path needs it
    bounds: Bounds | None


# -- pure -----------------------------------------------------------------------------------
def cell(at: datetime, width: timedelta) -> Bounds:
    """The grid partition that holds ``at``: exactly one for any aware time (pure)."""
    if at.tzinfo is None:
        raise ValueError("partition bounds need an aware time (UTC)")
    lower = EPOCH + ((at - EPOCH) // width) * width
    return Bounds(lower, lower + width)


def cells(start: datetime, end: datetime, width: timedelta) -> list[Bounds]:
    """The contiguous grid partitions that cover ``[start, end)``, oldest first (pure)."""
    found: list[Bounds] = []
    current = cell(start, width)
    while current.lower < end:
        found.append(current)
        current = Bounds(current.upper, current.upper + width)
    return found


def gaps(wanted: Bounds, existing: Iterable[Bounds]) -> list[Bounds]:
    """The parts of ``wanted`` that no existing partition covers, oldest first (pure)."""
    found: list[Bounds] = []
    start = wanted.lower
    for bounds in sorted(b for b in existing if b.overlaps(wanted)):
        if bounds.lower > start:
            found.append(Bounds(start, bounds.lower))
        start = max(start, bounds.upper)
    if start < wanted.upper:
        found.append(Bounds(start, wanted.upper))
    return found


def include_object(
    item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's ``include_object`` hook: autogenerate and ``compare_metadata`` leave out what
    no model describes on purpose: the partitions and their indexes, which the store makes and
    drops itself, and PostGIS's own (its ``spatial_ref_sys`` table; the spaces' ``geom`` column
    and its index, made by migration 0007 only where the extension exists)."""
    if not reflected or compare_to is not None:
        return True
    table = item.table.name if type_ in ("index", "column") else name
    if _PARTITION.match(str(table)) or (type_ == "table" and name == "spatial_ref_sys"):
        return False
    return not (table == "spaces" and "geom" in str(name))


# -- the catalog and the DDL (PostgreSQL only) -----------------------------------------------
def is_partitioned(connection: Connection) -> bool:
    """Whether ``observations`` is a partitioned table here (false on SQLite)."""
    if connection.dialect.name != "postgresql":
        return False
    query = "select exists (select 1 from pg_partitioned_table where partrelid = to_regclass(:t))"
    return bool(connection.execute(text(query), {"t": PARENT}).scalar())


def partitions(connection: Connection) -> list[Partition]:
    """The partitions of ``observations``, oldest first, the default partition last."""
    # bounds are printed in the session's time zone and date style: pin both to read them back
    connection.exec_driver_sql("set local timezone = 'UTC'")
    connection.exec_driver_sql("set local datestyle = 'ISO, YMD'")
    rows = connection.execute(
        text(
            "select c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid) from pg_inherits i"
            " join pg_class c on c.oid = i.inhrelid where i.inhparent = to_regclass(:t)"
        ),
        {"t": PARENT},
    )
    found = [Partition(table, _bounds(bound)) for table, bound in rows]
    return sorted(found, key=lambda p: (p.bounds is None, p.bounds or Bounds(_LOWEST, _LOWEST)))


def maintain(
    engine: Engine, width: timedelta, ahead: int, keep_from: datetime, now: datetime
) -> list[Bounds]:
    """Ready the partition holding ``now`` and ``ahead`` more, and give readings waiting in the
    default partition between ``keep_from`` and that horizon partitions of their own; returns
    the bounds created. Idempotent, and safe beside another worker doing the same."""
    horizon = cell(now, width).upper + ahead * width
    with engine.begin() as connection:
        found = partitions(connection)
        default = next((p.table for p in found if p.bounds is None), None)
        wanted = set(cells(now, horizon, width))
        if default is not None:  # only the cells that have readings waiting, not every one
            waiting = connection.execute(
                text(
                    f"select distinct floor(extract(epoch from observed_at) / :w) from {default}"  # noqa: S608
                    f" where {_IN}"
                ),
                {"w": int(width.total_seconds()), "lo": keep_from, "hi": horizon},
            )
            wanted |= {cell(EPOCH + int(k) * width, width) for (k,) in waiting}
    existing = [p.bounds for p in found if p.bounds is not None]
    created: list[Bounds] = []
    for wanted_cell in sorted(wanted):
        for gap in gaps(wanted_cell, existing):
            if _create(engine, gap):
                created.append(gap)
    return created


def drop(engine: Engine, partition: Partition) -> int:
    """Drop one partition whole; returns how many rows went with it (0 if it was gone)."""
    with _ddl(engine) as connection:
        exists = connection.execute(text("select to_regclass(:t)"), {"t": partition.table})
        if exists.scalar() is None:
            return 0  # another worker dropped it first
        count = connection.exec_driver_sql(f"select count(*) from {partition.table}")  # noqa: S608
        rows = int(count.scalar() or 0)
        connection.exec_driver_sql(f"drop table {partition.table}")
    return rows


def _create(engine: Engine, gap: Bounds) -> bool:
    # Readings in the default partition that belong to the new one move with it, in the same
    # transaction: PostgreSQL refuses a partition whose rows still sit in the default one.
    with _ddl(engine) as connection:
        found = partitions(connection)
        if any(p.bounds is not None and p.bounds.overlaps(gap) for p in found):
            return False  # made meanwhile by another worker
        default = next((p.table for p in found if p.bounds is None), None)
        span = {"lo": gap.lower, "hi": gap.upper}
        probe = f"select exists (select 1 from {default} where {_IN})"  # noqa: S608
        moving = default is not None and bool(connection.execute(text(probe), span).scalar())
        if moving:
            connection.exec_driver_sql(f"create temp table _moving (like {PARENT}) on commit drop")
            connection.execute(
                text(
                    f"with gone as (delete from {default} where {_IN} returning {_COLUMNS})"  # noqa: S608
                    f" insert into _moving ({_COLUMNS}) select {_COLUMNS} from gone"
                ),
                span,
            )
        # DDL takes no bind parameters; the bounds are times we formatted, never input
        connection.exec_driver_sql(
            f"create table {gap.name} partition of {PARENT} for values"
            f" from ('{gap.lower.isoformat()}') to ('{gap.upper.isoformat()}')"
        )
        if moving:
            connection.exec_driver_sql(
                f"insert into {PARENT} ({_COLUMNS}) select {_COLUMNS} from _moving"  # noqa: S608
            )
    return True


@contextmanager
def _ddl(engine: Engine) -> Iterator[Connection]:
    # One transaction of partition DDL at a time per schema, waiting at most LOCK_TIMEOUT.
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"set local lock_timeout = '{LOCK_TIMEOUT}'")
            connection.exec_driver_sql(
                "select pg_advisory_xact_lock(hashtext(current_schema() || '.observations'))"
            )
            yield connection
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
            raise PartitionBusy("observations: the table stayed busy; next run") from error
        raise


def _bounds(expression: str) -> Bounds | None:
    if expression.strip().upper() == "DEFAULT":
        return None
    match = _BOUND.search(expression)
    if match is None:
        raise StoreError(f"observations partition with bounds not by time: {expression}")
    lower, upper = match.groups()
    return Bounds(
        datetime.fromisoformat(lower) if lower else _LOWEST,
        datetime.fromisoformat(upper) if upper else _HIGHEST,
    )
