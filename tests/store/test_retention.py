"""Retention on SQLite and on the real PostgreSQL server: as the clock moves on, each kind of data
goes when its period is over (not a second earlier), the rest stays, and the audit chain still
verifies after its oldest records are pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, table, text

from smartspaces.clock import SimulatedClock
from smartspaces.config import RetentionSettings
from smartspaces.events import (
    Alert,
    AnyEvent,
    Detection,
    Incident,
    IncidentStateChanged,
    IncidentStatus,
    Level,
    RiskLevel,
    Situation,
)
from smartspaces.store import Store
from smartspaces.store.audit import records
from smartspaces.store.audit_verify import Witness, verify
from smartspaces.store.deliveries import AttemptRecord
from smartspaces.store.incidents import CaseRecord
from smartspaces.store.retention import KINDS, RETENTION_ACTOR, apply_retention
from tests.conftest import T0, counts

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
GENERATIONS = (T0, T0 + DAY)  # every kind of data is written at both times
TABLES = {"audit": "audit"} | {kind: kind for kind in KINDS}


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, make_store: Callable[[str], Store]) -> Store:
    return make_store(request.param)


def events(at: datetime) -> list[AnyEvent]:
    """One event of every kind, observed at ``at``."""
    common = {"source": "test", "space_id": "plaza", "observed_at": at, "received_at": at}
    incident = Incident(**common, title="Crowd at the square", level=Level.AMBER)
    return [
        counts("entries_count", 12, at),
        Detection(**common, detector="d", detection_type="crowd", level=Level.AMBER),
        Situation(**common, situation_type="crowd.crush", level=Level.AMBER, started_at=at),
        RiskLevel(**common, level=Level.AMBER, score=0.5),
        Alert(
            **common,
            alert_type="crowd.density",
            level=Level.AMBER,
            severity="Moderate",
            urgency="Expected",
            certainty="Likely",
            headline="Dense crowd",
        ),
        incident,
        IncidentStateChanged(
            **common,
            incident_id=incident.id,
            from_status=IncidentStatus.NEW,
            to_status=IncidentStatus.ACKNOWLEDGED,
            actor="operator-1",
        ),
    ]


def case(case_id: str, status: str, at: datetime) -> CaseRecord:
    return CaseRecord(case_id, "plaza", status, "amber", at, at, 1, "{}")


def seed(store: Store, at: datetime, tag: str) -> None:
    """A record of every kind at ``at``, and an open incident case that must never go."""
    store.append_events(events(at))
    store.deliveries.record(
        [
            AttemptRecord(
                f"d-{tag}", f"alert-{tag}", "webhook", "https://x", 1, at, 200, "", 3.0, True
            )
        ]
    )
    store.add_dead_letter("http", "value: not a number", "{}", at)
    store.incidents.add(case(f"inc-closed-{tag}", "closed", at), [f"alert-closed-{tag}"])
    store.incidents.add(case(f"inc-open-{tag}", "on_scene", at), [f"alert-open-{tag}"])
    store.audit("operator-1", "seed", tag, {"n": 1}, at)


def stored(store: Store) -> dict[str, int]:
    """How many rows each kind has (seeded audit records only; open cases left out)."""
    found = {}
    with store.engine.connect() as connection:
        for kind, name in TABLES.items():
            query = select(func.count()).select_from(table(name))
            if kind == "audit":
                query = query.where(text("action = 'seed'"))
            elif kind == "incident_cases":
                query = query.where(text("status = 'closed'"))
            found[kind] = int(connection.scalar(query) or 0)
    return found


def expected(settings: RetentionSettings, now: datetime, partitioned: bool) -> dict[str, int]:
    # a record exactly at the cut-off is kept: only older ones have expired; observations on
    # PostgreSQL go by whole (daily) partitions, so their cut-off falls back to midnight UTC
    found = {}
    for kind, field in KINDS.items():
        cutoff = now - timedelta(days=getattr(settings, field))
        if kind == "observations" and partitioned:
            cutoff = cutoff.replace(hour=0, minute=0, second=0, microsecond=0)
        found[kind] = sum(g >= cutoff for g in GENERATIONS)
    return found


def test_expired_data_goes_kind_by_kind_as_the_clock_moves_on(store: Store) -> None:
    settings = RetentionSettings()
    for tag, at in zip(("old", "new"), GENERATIONS, strict=True):
        seed(store, at, tag)
    clock = SimulatedClock(GENERATIONS[-1])
    assert stored(store) == dict.fromkeys(KINDS, 2)
    periods = sorted({timedelta(days=getattr(settings, field)) for field in KINDS.values()})
    assert [p.days for p in periods] == [7, 30, 365, 730]
    # each period's end, and each day's end after it (when a daily partition lapses whole)
    ends = {g + p for g in GENERATIONS for p in periods}
    ends |= {e.replace(hour=0, minute=0) + DAY for e in ends}
    moments = sorted({e + d for e in ends for d in (-SECOND, 0 * SECOND, SECOND)})
    partitioned = store.engine.dialect.name == "postgresql"
    for moment in moments:
        clock.set(moment)
        before = stored(store)
        report = apply_retention(store, settings, clock.now())
        after = stored(store)
        assert after == expected(settings, clock.now(), partitioned), moment
        deleted = {k: n for k, n in report.counts.items() if k != "audit"}
        assert deleted == {k: before[k] - after[k] for k in deleted}, moment
        assert store.incidents.get("inc-open-old") is not None  # an open case never expires
        assert verify(store).ok, moment
    # at the end only open cases, and the audit records of the runs themselves, are left
    assert after == dict.fromkeys(KINDS, 0)
    assert {r.actor for r in records(store, limit=10_000)} == {RETENTION_ACTOR}
    assert store.incidents.incident_of_alert("alert-closed-old") is None
    assert store.incidents.incident_of_alert("alert-open-old") == "inc-open-old"


def test_each_run_that_deletes_is_audited_with_its_counts(store: Store) -> None:
    seed(store, T0, "old")
    settings = RetentionSettings()
    now = T0 + 8 * DAY
    apply_retention(store, settings, now)
    (run, *_) = records(store)
    assert (run.actor, run.action, run.at) == (RETENTION_ACTOR, "retention.applied", now)
    assert '"deleted": {"observations": 1}' in run.details
    apply_retention(store, settings, now + SECOND)  # nothing more to delete: no record
    assert records(store)[0].id == run.id


def test_a_dry_run_counts_and_changes_nothing(store: Store) -> None:
    for tag, at in zip(("old", "new"), GENERATIONS, strict=True):
        seed(store, at, tag)
    settings = RetentionSettings(audit_days=400)
    now = T0 + 366 * DAY
    before = stored(store)
    dry = apply_retention(store, settings, now, dry_run=True)
    assert stored(store) == before and dry.dry_run
    real = apply_retention(store, settings, now)
    assert dry.counts == real.counts and real.deleted == dry.deleted > 0


def test_large_backlogs_go_in_bounded_batches(store: Store) -> None:
    store.append_events([counts("entries_count", i, T0 + i * SECOND) for i in range(10)])
    settings = RetentionSettings(batch_rows=3, max_batches=2)
    now = T0 + 30 * DAY
    first = apply_retention(store, settings, now)
    assert (first.counts["observations"], first.kinds[0].more) == (6, True)
    assert store.count("observation") == 4
    second = apply_retention(store, settings, now)
    assert (second.counts["observations"], second.kinds[0].more) == (4, False)
    assert store.count("observation") == 0


def test_pruning_the_audit_log_keeps_it_verifiable(store: Store) -> None:
    hashes = [store.audit("operator-1", "seed", f"t{i}", {}, T0 + i * DAY) for i in range(10)]
    settings = RetentionSettings(batch_rows=2, max_batches=50)
    report = apply_retention(store, settings, T0 + (730 + 4) * DAY + SECOND)
    assert report.counts["audit"] == 5  # days 0..4 were older than two years
    result = verify(store)
    assert result.ok and result.pruned == 5 and result.first_id == 6
    assert result.checked == 6  # five seeded records left, and the run's own
    assert verify(store, Witness(5, hashes[4])).notes == (
        "the witness is the checkpoint of the pruned records: it matches",
    )
    assert "pruned by retention" in verify(store, Witness(2, hashes[1])).notes[0]
    assert verify(store, Witness(8, hashes[7])).ok
    # the pruned prefix cannot be put back unnoticed, nor the first kept record removed
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit WHERE id = 6"))
    assert [(p.kind, p.record_id) for p in verify(store).problems] == [("deleted", 7)]


def test_a_tampered_audit_record_is_kept_as_evidence(store: Store) -> None:
    for i in range(5):
        store.audit("operator-1", "seed", f"t{i}", {}, T0 + i * SECOND)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE audit SET actor = 'nobody' WHERE id = 3"))
    report = apply_retention(store, RetentionSettings(), T0 + 800 * DAY)
    assert report.counts["audit"] == 2
    assert report.held_back is not None and "audit record 3 does not verify" in report.held_back
    assert [(p.kind, p.record_id) for p in verify(store).problems] == [("edited", 3)]


def test_without_an_anchor_the_audit_log_is_not_pruned_but_the_rest_is(store: Store) -> None:
    seed(store, T0, "old")
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_anchor"))
    report = apply_retention(store, RetentionSettings(), T0 + 800 * DAY)
    assert report.counts["audit"] == 0 and "anchor is missing" in (report.held_back or "")
    assert report.counts["observations"] == 1 and stored(store)["audit"] == 1
