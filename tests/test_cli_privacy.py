"""`smartspaces audit ...` and `smartspaces retention ...` through typer's runner, on SQLite and
on the real PostgreSQL server: tampering shows with the record ids, and the exit code says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from smartspaces.cli_privacy import privacy
from smartspaces.store import Store
from smartspaces.store.audit import records
from tests.conftest import T0, counts, drop_schema, postgres_url, private_schema

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """The store the commands open (from the environment), and a handle on it for the test."""
    monkeypatch.setenv("COLUMNS", "240")  # rich tables one line per row
    monkeypatch.delenv("SMARTSPACES_CONFIG", raising=False)
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        schema = private_schema()
        url = postgres_url(schema)
    monkeypatch.setenv("SMARTSPACES__STORE__URL", url)
    opened = Store(url)
    opened.migrate()
    yield opened
    opened.close()
    if schema is not None:
        drop_schema(schema)


def run(*args: str) -> Result:
    return CliRunner().invoke(privacy, list(args))


def fill(store: Store, n: int = 12) -> list[str]:
    return [
        store.audit(
            f"operator-{i % 3}",
            "incident.status",
            f"inc-{i}",
            {"i": i},
            T0 + i * timedelta(minutes=1),
        )
        for i in range(1, n + 1)
    ]


def sql(store: Store, *statements: str) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_an_untouched_log_verifies_and_prints_its_head(store: Store) -> None:
    hashes = fill(store)
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "12 records checked (ids 1..12)" in result.output and "chain intact" in result.output
    assert f"head: 12:{hashes[-1]}\n" in result.output
    assert run("audit", "verify", "--witness", f"4:{hashes[3]}").exit_code == 0


def test_tampering_is_listed_with_the_record_ids_and_fails(store: Store) -> None:
    fill(store)
    sql(
        store,
        """UPDATE audit SET details = '{"i": 0}' WHERE id = 4""",
        "DELETE FROM audit WHERE id = 7",
        "UPDATE audit SET id = -1 WHERE id = 9",
        "UPDATE audit SET id = 9 WHERE id = 10",
        "UPDATE audit SET id = 10 WHERE id = -1",
        "DELETE FROM audit WHERE id = 12",
    )
    result = run("audit", "verify")
    assert result.exit_code == 1
    rows = [line for line in result.output.splitlines() if "│" in line]
    found = [tuple(cell.strip() for cell in line.split("│")[1:3]) for line in rows]
    assert found == [
        ("edited", "4"),
        ("deleted", "8"),
        ("reordered", "9"),
        ("reordered", "10"),
        ("reordered", "11"),
        ("truncated", "11"),
    ]
    assert "record 4 was edited" in result.output
    assert "records between id 6 and id 8 were deleted" in result.output
    assert "the end of the log is missing: it stops at record 11" in result.output
    assert "6 problem(s)" in result.output


def test_a_bad_witness_is_refused_and_a_stale_one_fails(store: Store) -> None:
    hashes = fill(store, 3)
    assert run("audit", "verify", "--witness", "3").exit_code == 2
    sql(store, "DELETE FROM audit WHERE id = 1")
    result = run("audit", "verify", "--witness", f"3:{hashes[2]}")
    assert result.exit_code == 1 and "witness" in result.output


def test_show_filters_and_is_itself_audited(store: Store) -> None:
    fill(store, 6)
    result = run("audit", "show", "--actor", "operator-1", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "inc-4" in result.output and "inc-1" in result.output and "inc-2" not in result.output
    assert "2 record(s)" in result.output
    read = records(store)[0]
    assert (read.action, read.target) == ("audit.read", "audit") and read.actor.startswith("cli:")
    assert '"actor": "operator-1"' in read.details
    since = (T0 + timedelta(minutes=5)).isoformat()
    assert (
        "2 record(s)"
        in run("audit", "show", "--since", since, "--action", "incident.status").output
    )
    assert run("audit", "show", "--since", "yesterday").exit_code == 2


def test_a_lost_anchor_is_reported_and_reanchored_on_purpose(store: Store) -> None:
    fill(store, 3)
    sql(store, "DELETE FROM audit_anchor")
    result = run("audit", "verify")
    assert result.exit_code == 1 and "anchor: missing" in result.output
    assert run("audit", "reanchor").exit_code == 2  # a reason is required
    assert run("audit", "reanchor", "--reason", "restored from backup").exit_code == 0
    assert run("audit", "reanchor", "--reason", "again").exit_code == 1
    assert run("audit", "verify").exit_code == 0


def test_retention_run_dry_then_real(store: Store) -> None:
    now = datetime.now(UTC)
    store.append_events(
        [
            counts("entries_count", 1, now - timedelta(days=8)),
            counts("entries_count", 2, now - timedelta(days=1)),
        ]
    )
    dry = run("retention", "run", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would be deleted" in dry.output and store.count("observation") == 2
    real = run("retention", "run")
    assert real.exit_code == 0, real.output
    assert "1 record(s) deleted" in real.output and store.count("observation") == 1
    assert records(store)[0].action == "retention.applied"
    assert run("audit", "verify").exit_code == 0


def test_retention_run_fails_when_a_tampered_record_holds_pruning_back(store: Store) -> None:
    for i in range(3):
        store.audit("operator-1", "seed", f"t{i}", {}, datetime.now(UTC) - timedelta(days=800 - i))
    sql(store, "UPDATE audit SET target = 'x' WHERE id = 2")
    result = run("retention", "run")
    assert result.exit_code == 1 and "held back" in result.output
    assert "audit record 2 does not verify" in result.output
