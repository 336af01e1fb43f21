"""Observations partitioned by time on the real PostgreSQL server: readings land in their
partition (or, out of range, in the default one, never lost), duplicates are still skipped,
retention drops whole lapsed partitions, migration 0012 converts a filled table both ways; and
the pure bounds arithmetic under hypothesis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, text

from smartspaces.config import RetentionSettings
from smartspaces.store import Store
from smartspaces.store.history import occupancy_series
from smartspaces.store.partitions import (
    EPOCH,
    Bounds,
    cell,
    cells,
    gaps,
    include_object,
    maintain,
)
from smartspaces.store.retention import apply_retention
from smartspaces.store.rows import row_values
from smartspaces.store.tables import Base, ObservationRow
from tests.conftest import T0, counts, drop_schema, postgres_url, private_schema

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MIGRATIONS = Path(__file__).parents[2] / "src/smartspaces/store/migrations"

widths = st.integers(min_value=1, max_value=24 * 31).map(lambda h: timedelta(hours=h))
moments = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)


# -- the pure arithmetic ----------------------------------------------------------------------
@given(moments, widths, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_every_time_falls_in_exactly_one_aligned_partition(
    at: datetime, width: timedelta, offset_min: int
) -> None:
    found = cell(at, width)
    assert at in found and found.upper - found.lower == width
    assert (found.lower - EPOCH) % width == timedelta(0)  # on the grid, whatever the time
    assert at not in cell(found.lower - width, width) and at not in cell(found.upper, width)
    local = at.astimezone(timezone(timedelta(minutes=offset_min)))
    assert cell(local, width) == found  # the grid is UTC's, whatever offset the time carries


@given(moments, st.integers(min_value=0, max_value=24 * 60), widths, st.data())
def test_partitions_over_a_span_are_contiguous_and_each_time_has_one(
    start: datetime, span_h: int, width: timedelta, data: st.DataObject
) -> None:
    end = start + timedelta(hours=span_h, seconds=1)
    found = cells(start, end, width)
    assert found[0].lower <= start and found[-1].upper >= end
    assert all(a.upper == b.lower for a, b in zip(found, found[1:], strict=False))
    assert len({b.name for b in found}) == len(found)  # one table name per partition
    at = data.draw(
        st.datetimes(
            min_value=start.replace(tzinfo=None),
            max_value=end.replace(tzinfo=None),
            timezones=st.just(UTC),
        )
    )
    assert sum(at in b for b in found) == 1


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 48)), max_size=8), widths, st.data())
def test_gaps_fill_exactly_what_existing_partitions_leave(
    spans: list[tuple[int, int]], width: timedelta, data: st.DataObject
) -> None:
    # existing partitions of any (whole-hour) bounds that do not overlap, as a changed width
    # or migration 0012's daily partitions leave them
    existing: list[Bounds] = []
    for start_h, length_h in spans:
        candidate = Bounds(T0 + start_h * HOUR, T0 + (start_h + length_h) * HOUR)
        if not any(candidate.overlaps(b) for b in existing):
            existing.append(candidate)
    wanted = cell(T0 + data.draw(st.integers(0, 250)) * HOUR, width)
    found = gaps(wanted, existing)
    assert all(
        g.lower < g.upper and g.lower >= wanted.lower and g.upper <= wanted.upper for g in found
    )
    assert not any(g.overlaps(b) for g in found for b in existing)
    assert all(a.upper <= b.lower for a, b in zip(found, found[1:], strict=False))
    covered = sum(
        (
            min(b.upper, wanted.upper) - max(b.lower, wanted.lower)
            for b in existing
            if b.overlaps(wanted)
        ),
        timedelta(0),
    )
    assert sum((g.upper - g.lower for g in found), timedelta(0)) + covered == width


def test_partition_names_follow_the_lower_bound() -> None:
    assert cell(T0, DAY) == Bounds(
        datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC)
    )
    assert cell(T0, DAY).name == "observations_p2026031500"
    assert cell(T0, 6 * HOUR).name == "observations_p2026031506"
    with pytest.raises(ValueError, match="aware"):
        cell(datetime(2026, 3, 15), DAY)


# -- on the real PostgreSQL server -----------------------------------------------------------
pg = pytest.mark.postgres


@pytest.fixture
def store(make_store: Callable[[str], Store]) -> Store:
    return make_store("postgres")


def placement(store: Store) -> dict[str, int]:
    """How many observations each partition holds (from the rows' own table oid)."""
    query = "select tableoid::regclass::text, count(*) from observations group by 1"
    with store.engine.connect() as connection:
        return {name: int(n) for name, n in connection.execute(text(query))}


def tables(store: Store) -> set[str]:
    """The partitions of observations, as the PostgreSQL catalog lists them."""
    query = (
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = to_regclass('observations')"
    )
    with store.engine.connect() as connection:
        return set(connection.execute(text(query)).scalars())


def ready(store: Store, now: datetime, keep_from: datetime | None = None) -> None:
    maintain(store.engine, DAY, 3, keep_from or now - 7 * DAY, now)


@pg
def test_readings_across_days_land_in_their_partitions(store: Store) -> None:
    early = [counts("entries_count", 1, T0)]  # before its partition exists: waits in the default
    assert store.append_events(early) == 1
    assert placement(store) == {"observations_default": 1}
    ready(store, T0)
    assert {"observations_p2026031500", "observations_p2026031800"} <= tables(store)
    batch = [counts("entries_count", i, T0 + i * 7 * HOUR) for i in range(1, 12)]  # 3 days
    assert store.append_events(batch) == 11
    assert placement(store) == {
        "observations_p2026031500": 2,  # the early one was moved out of the default partition
        "observations_p2026031600": 4,
        "observations_p2026031700": 3,
        "observations_p2026031800": 3,
    }
    # reads that go by id or by time see every partition
    assert store.event(early[0].id) == early[0]
    assert store.event(batch[-1].id) == batch[-1]
    assert store.count("observation") == 12
    assert [e.id for e in store.recent("observation", limit=2)] == [batch[-1].id, batch[-2].id]
    series = occupancy_series(store.engine, "plaza", T0 - HOUR, T0 + 4 * DAY)
    assert series[-1].occupancy_persons == 1 + sum(range(1, 12))  # every reading counted


@pg
def test_a_reading_far_in_the_past_or_future_is_kept(store: Store) -> None:
    ready(store, T0)
    late, early = (
        counts("entries_count", 5, T0 - 400 * DAY),
        counts("exits_count", 2, T0 + 400 * DAY),
    )
    assert store.append_events([late, early]) == 2
    assert placement(store) == {"observations_default": 2}
    ready(store, T0 + DAY)  # upkeep leaves what is outside its window where it is
    assert placement(store) == {"observations_default": 2}
    assert store.event(late.id) == late and store.event(early.id) == early
    ready(store, T0 + 399 * DAY)  # the clock comes near the early one: it gets its partition
    assert placement(store) == {"observations_default": 1, "observations_p2027041900": 1}
    assert store.event(early.id) == early


@pg
def test_duplicates_are_skipped_and_counted_right_wherever_they_live(store: Store) -> None:
    ready(store, T0)
    batch = [counts("entries_count", i, T0 + i * 6 * HOUR) for i in range(10)]
    far = counts("entries_count", 9, T0 + 300 * DAY)  # in the default partition
    assert store.append_events([*batch, far]) == 11
    assert store.append_events([*batch[3:7], far]) == 0  # all of them stored already
    fresh = counts("entries_count", 99, T0 + HOUR)
    assert store.append_events([batch[0], fresh, fresh, far]) == 1  # one new, twice in a batch
    assert store.count("observation") == 12
    ready(store, T0 + 299 * DAY)  # the far one moves into a partition of its own
    assert store.append_events([far]) == 0 and store.count("observation") == 12


@pg
def test_retention_drops_lapsed_partitions_whole_and_keeps_the_rest(store: Store) -> None:
    settings = RetentionSettings()  # 7 days, daily partitions
    ready(store, T0)
    for day in range(10):
        store.append_events(
            [
                counts("entries_count", i, T0 + day * DAY + i * 10 * timedelta(minutes=1))
                for i in range(5)
            ]
        )
        ready(store, T0 + day * DAY)
    stale = counts("entries_count", 1, T0 - 400 * DAY)  # late, in the default partition
    store.append_events([stale])
    assert len(placement(store)) == 11 and store.count("observation") == 51
    now = T0 + 9 * DAY + 12 * HOUR  # 2026-03-24 23:30: the cut-off is 2026-03-17 23:30
    made = tables(store)  # these ten days and three ahead, the default, and 0012's (real) today
    dry = apply_retention(store, settings, now, dry_run=True)
    assert store.count("observation") == 51 and tables(store) == made  # nothing changed
    report = apply_retention(store, settings, now)
    (observations,) = [k for k in report.kinds if k.kind == "observations"]
    # the partitions of the 15th and 16th lapsed whole; the 17th is only partly past its
    # period and is kept whole until all of it is; the late reading goes row by row
    assert observations.cutoff == datetime(2026, 3, 17, tzinfo=UTC)
    assert (observations.partitions, observations.deleted, observations.more) == (2, 11, False)
    assert (dry.kinds[0].partitions, dry.counts) == (2, report.counts)
    left = tables(store)
    assert not {"observations_p2026031500", "observations_p2026031600"} & left
    assert {f"observations_p202603{d}00" for d in range(17, 28)} <= left  # and 3 days ahead
    assert store.count("observation") == 40 and store.event(stale.id) is None
    assert "observations_default" in left and placement(store).get("observations_default") is None
    again = apply_retention(store, settings, now + 10 * timedelta(minutes=1))
    assert again.counts["observations"] == 0 and again.kinds[0].partitions == 0
    lapse = apply_retention(store, settings, datetime(2026, 3, 25, tzinfo=UTC))  # 17th lapses
    assert (lapse.kinds[0].partitions, lapse.counts["observations"]) == (1, 5)


@pg
def test_without_dropping_rows_go_one_by_one_to_the_second(store: Store) -> None:
    settings = RetentionSettings(observations_drop_partitions=False)
    ready(store, T0)
    store.append_events([counts("entries_count", i, T0 + i * HOUR) for i in range(6)])
    report = apply_retention(store, settings, T0 + 7 * DAY + 2 * HOUR + timedelta(seconds=1))
    assert report.counts["observations"] == 3 and report.kinds[0].partitions == 0
    assert "observations_p2026031500" in tables(store)  # kept, with what is not yet expired
    assert placement(store) == {"observations_p2026031500": 3}


@pg
def test_the_migrations_match_the_models_but_for_the_partitions(store: Store) -> None:
    ready(store, T0)
    options = {"include_object": include_object}
    with store.engine.connect() as connection:
        assert (
            compare_metadata(MigrationContext.configure(connection, opts=options), Base.metadata)
            == []
        )
        unfiltered = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    # without the filter, only the partitions differ (no model has them), and PostGIS's own
    # objects where the extension is installed
    postgis = {"spatial_ref_sys", "geom", "ix_spaces_geom"}

    def named(diff: tuple[Any, ...]) -> str:
        item = diff[-1] if diff[0] in ("remove_column",) else diff[1]
        return str(item.name)

    unfiltered = [d for d in unfiltered if named(d) not in postgis]
    assert {d[1].name for d in unfiltered if d[0] == "remove_table"} == tables(store)
    assert {d[0] for d in unfiltered} == {"remove_table", "remove_index"}


# -- migration 0012 -------------------------------------------------------------------------
@pytest.fixture
def bare() -> Iterator[Store]:
    """A store in a schema of its own with no migration run yet."""
    schema = private_schema()
    store = Store(postgres_url(schema))
    yield store
    store.close()
    drop_schema(schema)


def migrate(store: Store, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def shape(store: Store) -> tuple[str, list[str]]:
    """The table's kind (``r`` plain, ``p`` partitioned) and its primary key's columns."""
    with store.engine.connect() as connection:
        kind = connection.execute(
            text("select relkind from pg_class where oid = to_regclass('observations')")
        ).scalar_one()
        key = connection.execute(
            text(
                "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid"
                " and a.attnum = any(i.indkey) where i.indrelid = to_regclass('observations')"
                " and i.indisprimary order by array_position(i.indkey, a.attnum)"
            )
        ).scalars()
        return str(kind), list(key)


def rows(store: Store) -> set[tuple[str, datetime, str]]:
    with store.engine.connect() as connection:
        found = connection.execute(text("select id, observed_at, payload from observations"))
        return {(i, at, p) for i, at, p in found}


@pg
def test_migration_0012_converts_a_filled_table_and_back_losing_nothing(bare: Store) -> None:
    migrate(bare, "0011")
    readings = [counts("entries_count", i, T0 + i * 5 * HOUR) for i in range(20)]
    readings.append(counts("exits_count", 3, T0 - 1000 * DAY))  # any age at all
    with bare.engine.begin() as connection:  # as the store wrote them before 0012
        connection.execute(insert(ObservationRow.__table__), [row_values(r) for r in readings])
    before = rows(bare)
    assert shape(bare) == ("r", ["id"]) and len(before) == 21

    migrate(bare, "0012")
    assert shape(bare) == ("p", ["id", "observed_at"])
    assert rows(bare) == before
    found = placement(bare)
    assert "observations_default" not in found  # every day that had rows got its partition
    assert found["observations_p2026031500"] == 3 and found["observations_p2023061900"] == 1
    assert sum(found.values()) == 21
    assert bare.append_events(readings[:5]) == 0  # the idempotent insert works on the new key
    newer = counts("entries_count", 7, T0 + 30 * DAY)
    assert bare.append_events([newer]) == 1 and bare.event(newer.id) == newer

    migrate(bare, "0011", down=True)
    after = before | {(newer.id, newer.observed_at, newer.model_dump_json())}
    assert shape(bare) == ("r", ["id"]) and rows(bare) == after
    with bare.engine.connect() as connection:  # no partition left behind
        leftover = connection.execute(
            text(
                "select count(*) from pg_class where relkind = 'r' and relnamespace ="
                " current_schema()::regnamespace and relname like 'observations%'"
            )
        ).scalar_one()
    assert leftover == 1  # the plain table alone: no partition, no default, left behind
    migrate(bare, "head")  # and up again
    assert shape(bare) == ("p", ["id", "observed_at"]) and rows(bare) == after
