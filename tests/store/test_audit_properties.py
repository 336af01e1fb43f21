"""Property: whatever a log holds, one tampering with it is reported, at the record where it is."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from smartspaces.store import Store
from smartspaces.store.audit_verify import verify
from tests.conftest import T0

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=40)
entries = st.lists(
    st.tuples(names, names, st.dictionaries(names, st.integers() | names, max_size=3)),
    min_size=2,
    max_size=12,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty store file that each example copies (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("audit") / "template.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.close()  # the last connection to close folds the write-ahead log into the file
    return path


def stored(template: Path, log: list[tuple[str, str, dict[str, Any]]]) -> Store:
    copy = Path(tempfile.mkdtemp(dir=template.parent)) / "store.sqlite3"
    shutil.copyfile(template, copy)
    store = Store(f"sqlite:///{copy}")
    for minute, (actor, target, details) in enumerate(log):
        store.audit(actor, "incident.note", target, details, T0 + timedelta(minutes=minute))
    return store


def sql(store: Store, statement: str, **values: int) -> None:
    with store.engine.begin() as connection:
        connection.execute(text(statement), values)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(log=entries, data=st.data())
def test_one_tampering_is_reported_where_it_is(
    template: Path, log: list[Any], data: st.DataObject
) -> None:
    store = stored(template, log)
    n = len(log)
    assert verify(store).ok
    operation = data.draw(st.sampled_from(["edit", "delete", "swap", "truncate"]))
    if operation == "edit":
        i = data.draw(st.integers(1, n))
        sql(store, "UPDATE audit SET action = 'incident.other' WHERE id = :i", i=i)
        expected: list[tuple[str, int | None]] = [("edited", i)]
    elif operation == "delete":
        i = data.draw(st.integers(1, n - 1))  # the last one would be a truncation
        sql(store, "DELETE FROM audit WHERE id = :i", i=i)
        expected = [("deleted", i + 1)]
    elif operation == "swap":
        i = data.draw(st.integers(1, n - 1))
        sql(store, "UPDATE audit SET id = -1 WHERE id = :i", i=i)
        sql(store, "UPDATE audit SET id = :i WHERE id = :j", i=i, j=i + 1)
        sql(store, "UPDATE audit SET id = :j WHERE id = -1", j=i + 1)
        expected = [("reordered", k) for k in range(i, min(i + 3, n + 1))]
    else:
        k = data.draw(st.integers(1, n))
        sql(store, "DELETE FROM audit WHERE id > :last", last=n - k)
        expected = [("truncated", n - k if n > k else None)]
    report = verify(store)
    store.close()
    assert [(p.kind, p.record_id) for p in report.problems] == expected
