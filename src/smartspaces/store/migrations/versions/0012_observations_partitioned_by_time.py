"""observations range-partitioned by observed_at on PostgreSQL (a no-op on SQLite)

The table is rebuilt as a partitioned one and every row copied across (checked by count before
the old table goes), in the migration's one transaction: a failure leaves the old table as it
was. Partitions are made per UTC day for each day that has rows and for today and the next two
(by the server's clock), plus a DEFAULT partition, so no reading is ever refused for its time;
later partitions are made by the store's upkeep (``smartspaces.store.partitions``), with the
width and lead from the retention settings. The key becomes (id, observed_at): a partitioned
table's keys must hold the partition key; an id always carries the same time.

The names and shapes here are frozen as of this revision, not imported, so that later changes to
the code never change what this migration does.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alembic import op
from sqlalchemy import text

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {  # as 0001 made them
    "ix_observations_observed_at": "observed_at",
    "ix_observations_sensor_time": "sensor_id, observed_at",
    "ix_observations_space_id": "space_id",
}
_DAY = timedelta(days=1)


def _postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _count(table: str) -> int:
    return int(op.get_bind().execute(text(f"select count(*) from {table}")).scalar() or 0)  # noqa: S608


def _swap_in(old: str, key: str) -> None:
    """Rename the filled table ``old`` to observations, then give it its key and indexes."""
    op.execute(f"alter table {old} rename to observations")
    op.execute(f"alter table observations add constraint observations_pkey primary key ({key})")
    for name, columns in _INDEXES.items():
        op.execute(f"create index {name} on observations ({columns})")


def upgrade() -> None:
    if not _postgresql():
        return  # SQLite keeps one table: no partitions there
    bind = op.get_bind()
    # the old table's key and indexes go first: their names are the new table's
    op.execute("alter table observations drop constraint observations_pkey")
    for name in _INDEXES:
        op.execute(f"drop index {name}")
    op.execute(
        "create table observations_partitioned (like observations including defaults)"
        " partition by range (observed_at)"
    )
    op.execute("create table observations_default partition of observations_partitioned default")
    found = bind.execute(
        text("select distinct date_trunc('day', observed_at, 'UTC') from observations")
    ).scalars()
    today = bind.execute(text("select date_trunc('day', now(), 'UTC')")).scalar_one()
    days = {d.astimezone(UTC) for d in found} | {today.astimezone(UTC) + n * _DAY for n in range(3)}
    for day in sorted(days):
        bind.exec_driver_sql(_partition(day))
    op.execute("insert into observations_partitioned select * from observations")
    before, after = _count("observations"), _count("observations_partitioned")
    if before != after:  # cannot happen short of a bug; never drop rows on the strength of hope
        raise RuntimeError(f"observations: {after} rows copied of {before}; nothing changed")
    op.execute("drop table observations")
    _swap_in("observations_partitioned", "id, observed_at")


def downgrade() -> None:
    if not _postgresql():
        return
    op.execute("create table observations_unpartitioned (like observations including defaults)")
    op.execute("insert into observations_unpartitioned select * from observations")
    before, after = _count("observations"), _count("observations_unpartitioned")
    if before != after:
        raise RuntimeError(f"observations: {after} rows copied of {before}; nothing changed")
    op.execute("drop table observations")  # its partitions go with it
    _swap_in("observations_unpartitioned", "id")


def _partition(day: datetime) -> str:
    name = f"observations_p{day:%Y%m%d}00"
    return (
        f"create table {name} partition of observations_partitioned for values"
        f" from ('{day.isoformat()}') to ('{(day + _DAY).isoformat()}')"
    )
