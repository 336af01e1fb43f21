"""The audit log on SQLite and on the real PostgreSQL server: tampering done with plain SQL behind
the store's back (edit, delete, reorder, truncate) is reported with the ids of the records."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from smartspaces.store import Store, migrations
from smartspaces.store.audit import (
    GENESIS,
    AuditAnchorRow,
    AuditError,
    reanchor,
    record_hash,
    records,
)
from smartspaces.store.audit_verify import AuditReport, Witness, verify
from smartspaces.store.tables import AuditRow
from tests.conftest import T0, drop_schema, postgres_url, private_schema

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    return make_store(request.param)


def fill(store: Store, n: int = 12) -> list[str]:
    """``n`` records, ids 1..n, one minute apart; returns their hashes."""
    return [
        store.audit(f"operator-{i % 3}", "incident.status", f"inc-{i}", {"i": i}, at(i))
        for i in range(1, n + 1)
    ]


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def sql(store: Store, *statements: str, **values: int) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), values)


def swap_ids(store: Store, a: int, b: int) -> None:
    """Reorder two stored records by exchanging their ids."""
    sql(
        store,
        "UPDATE audit SET id = -1 WHERE id = :a",
        "UPDATE audit SET id = :a WHERE id = :b",
        "UPDATE audit SET id = :b WHERE id = -1",
        a=a,
        b=b,
    )


def found(report: AuditReport) -> list[tuple[str, int | None]]:
    return [(p.kind, p.record_id) for p in report.problems]


def test_an_untouched_log_verifies_clean(store: Store) -> None:
    hashes = fill(store)
    report = verify(store)
    assert report.ok and report.problems == () and report.checked == 12
    assert (report.first_id, report.last_id, report.appended) == (1, 12, 12)
    assert report.head == Witness(12, hashes[-1])
    assert verify(store, Witness(5, hashes[4])).ok  # an earlier head is still in place


def test_the_empty_log_verifies_clean(store: Store) -> None:
    report = verify(store)
    assert report.ok and report.checked == 0 and report.head == Witness(0, GENESIS)


def test_each_record_links_to_the_one_before(store: Store) -> None:
    hashes = fill(store, 3)
    with Session(store.engine) as session:
        rows = list(session.scalars(select(AuditRow).order_by(AuditRow.id)))
    assert [r.prev_hash for r in rows] == [GENESIS, *hashes[:2]]
    assert [r.hash for r in rows] == hashes
    # the hash covers the previous hash, time, actor, action, target and details
    first = rows[0]
    assert first.hash == record_hash(
        GENESIS, at(1), "operator-1", "incident.status", "inc-1", '{"i": 1}'
    )


def test_an_edited_record_is_reported_by_its_id(store: Store) -> None:
    fill(store)
    sql(store, """UPDATE audit SET details = '{"i": 99}' WHERE id = 4""")
    report = verify(store)
    assert found(report) == [("edited", 4)]
    assert "record 4 was edited" in report.problems[0].message


def test_a_record_rewritten_with_a_new_hash_breaks_the_next_link(store: Store) -> None:
    fill(store)
    with Session(store.engine) as session, session.begin():
        row = session.get_one(AuditRow, 5)
        row.actor = "someone-else"
        row.hash = record_hash(
            row.prev_hash, row.at, row.actor, row.action, row.target, row.details
        )
    report = verify(store)
    assert found(report) == [("edited", 6)]
    assert "between records 5 and 6" in report.problems[0].message


def test_a_deleted_record_is_reported_with_the_gap(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id = 6")
    report = verify(store)
    assert found(report) == [("deleted", 7)]
    assert "broken after record 5" in report.problems[0].message
    assert "between id 5 and id 7" in report.problems[0].message


def test_deleted_first_records_are_reported(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id IN (1, 2)")
    assert found(verify(store)) == [("deleted", 3)]


def test_reordered_records_are_reported(store: Store) -> None:
    fill(store)
    swap_ids(store, 9, 10)
    report = verify(store)
    assert found(report) == [("reordered", 9), ("reordered", 10), ("reordered", 11)]
    assert "record 9 is out of order: it follows record 8 but links to record 10" in (
        report.problems[0].message
    )


def test_a_truncated_tail_is_caught_by_the_anchor(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit WHERE id > 10")
    report = verify(store)
    assert found(report) == [("truncated", 10)]
    assert "2 record(s) fewer than anchored" in report.problems[0].message


def test_a_wiped_log_is_caught_by_the_anchor(store: Store) -> None:
    fill(store)
    sql(store, "DELETE FROM audit")
    assert found(verify(store)) == [("truncated", None)]


def test_edit_delete_and_reorder_together_are_each_reported(store: Store) -> None:
    fill(store)
    sql(
        store,
        """UPDATE audit SET target = 'inc-x' WHERE id = 3""",
        "DELETE FROM audit WHERE id = 6",
    )
    swap_ids(store, 9, 10)
    assert found(verify(store)) == [
        ("edited", 3),
        ("deleted", 7),
        ("reordered", 9),
        ("reordered", 10),
        ("reordered", 11),
    ]


def test_a_missing_anchor_stops_appends_until_an_administrator_reanchors(store: Store) -> None:
    fill(store, 4)
    sql(store, "DELETE FROM audit_anchor")
    assert found(verify(store)) == [("anchor", None)]
    with pytest.raises(AuditError, match="anchor is missing"):
        store.audit("operator-1", "incident.status", "inc-9", {}, at(9))
    reanchor(store, "cli:admin", "anchor lost in a restore", at(10))
    with pytest.raises(AuditError, match="exists"):
        reanchor(store, "cli:admin", "again", at(11))
    store.audit("operator-1", "incident.status", "inc-9", {}, at(12))
    report = verify(store)
    assert report.ok and report.checked == report.appended == 6
    (latest, reanchored, *_) = records(store)
    assert (reanchored.action, reanchored.actor) == ("audit.reanchored", "cli:admin")
    assert '"reason": "anchor lost in a restore"' in reanchored.details and latest.id == 6


def test_a_chain_rewritten_with_its_anchor_is_only_caught_by_a_witness(store: Store) -> None:
    hashes = fill(store, 6)
    noted = Witness(6, hashes[-1])  # kept outside the database
    # rewrite record 3 and everything after it, and the anchor, consistently
    with Session(store.engine) as session, session.begin():
        previous = hashes[1]
        for row in session.scalars(select(AuditRow).where(AuditRow.id >= 3).order_by(AuditRow.id)):
            row.details = '{"i": 0}'
            row.prev_hash = previous
            row.hash = previous = record_hash(
                row.prev_hash, row.at, row.actor, row.action, row.target, row.details
            )
        session.get_one(AuditAnchorRow, 1).head_hash = previous
    assert verify(store).ok  # the documented limit of an unkeyed chain in one database
    report = verify(store, noted)
    assert found(report) == [("witness", None)]
    assert "not in the chain" in report.problems[0].message


def test_a_witness_must_be_where_it_was(store: Store) -> None:
    hashes = fill(store, 6)
    sql(store, "DELETE FROM audit WHERE id = 2")
    report = verify(store, Witness(6, hashes[-1]))
    assert found(report) == [("deleted", 3), ("witness", None)]
    assert "number 5 in the chain, not 6" in report.problems[-1].message


def test_witness_parsing() -> None:
    digest = "ab" * 32
    assert Witness.parse(f" 12:{digest.upper()} ") == Witness(12, digest)
    assert str(Witness(12, digest)) == f"12:{digest}"
    for bad in ("12", f"x:{digest}", "3:abc", f"-1:{digest}"):
        with pytest.raises(ValueError, match="POSITION:HASH"):
            Witness.parse(bad)


def test_bad_records_are_refused(store: Store) -> None:
    with pytest.raises(AuditError, match="aware"):
        store.audit("operator-1", "a", "t", {}, datetime(2026, 1, 1))
    with pytest.raises(AuditError, match="actor"):
        store.audit("x" * 129, "a", "t", {}, T0)
    with pytest.raises(AuditError, match="action"):
        store.audit("operator-1", "", "t", {}, T0)
    assert verify(store).checked == 0


def test_times_in_other_offsets_are_kept_in_utc(store: Store) -> None:
    madrid = datetime(2026, 3, 15, 12, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Madrid"))
    store.audit("operator-1", "a", "t", {"when": madrid}, madrid)
    (record,) = records(store)
    assert record.at == datetime(2026, 3, 15, 12, 30, tzinfo=UTC) and record.at.tzinfo == UTC
    assert verify(store).ok


def test_records_are_listed_newest_first_and_filtered(store: Store) -> None:
    fill(store, 9)
    assert [r.id for r in records(store, limit=3)] == [9, 8, 7]
    assert [r.id for r in records(store, actor="operator-0")] == [9, 6, 3]
    assert [r.id for r in records(store, since=at(8))] == [9, 8]
    assert [r.id for r in records(store, target="inc-4", action="incident.status")] == [4]
    assert records(store, action="nothing") == []


def test_concurrent_appends_never_fork_the_chain(store: Store) -> None:
    threads, each = 8, 25
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        start.wait()
        try:
            for i in range(each):
                store.audit(f"operator-{n}", "incident.note", f"inc-{n}", {"i": i}, at(i))
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    report = verify(store)
    assert report.ok and report.checked == report.appended == threads * each
    with Session(store.engine) as session:
        links = list(session.scalars(select(AuditRow.prev_hash)))
    assert len(set(links)) == len(links)  # no two records follow the same one: no fork


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_anchors_a_log_written_before_it(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        store, schema = Store(f"sqlite:///{tmp_path / 'old.sqlite3'}"), None
    else:
        schema = private_schema()
        store = Store(postgres_url(schema))
    try:
        config = Config()
        config.set_main_option("script_location", str(Path(migrations.__file__).parent))
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            before = ScriptDirectory.from_config(config).get_revision("0010").down_revision
            command.upgrade(config, str(before))  # the schema before the anchor
        previous = GENESIS
        with store.engine.begin() as connection:
            for i in range(1, 4):  # as the store wrote records then
                digest = record_hash(previous, at(i), "operator-1", "a", f"t{i}", "{}")
                connection.execute(
                    text(
                        "INSERT INTO audit (at, actor, action, target, details, prev_hash, hash) "
                        "VALUES (:at, 'operator-1', 'a', :target, '{}', :prev, :hash)"
                    ),
                    {"at": at(i), "target": f"t{i}", "prev": previous, "hash": digest},
                )
                previous = digest
        store.migrate()
        report = verify(store)
        assert report.ok and report.appended == 3 and report.head == Witness(3, previous)
        store.audit("operator-1", "a", "t4", {}, at(4))
        assert verify(store).ok
    finally:
        store.close()
        if schema is not None:
            drop_schema(schema)
