"""Read models for the operators' replay: what the store knew about the spaces and the alerts
at an earlier time.

Plain functions over an ``Engine`` (the store's ``store.engine``), synchronous like the store;
async callers run them in a worker thread. They only read, and only rows observed at or before
the time asked (event time, as the pipeline decided on it), so a replay shows what operators
could have seen then, not what was learnt later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smartspaces.events import Alert, RiskLevel, event_from_json
from smartspaces.store.tables import (
    AlertRow,
    IncidentAlertRow,
    IncidentChangeRow,
    IncidentRow,
    RiskLevelRow,
)

RISK_ROWS_PER_SPACE = 50
"""Newest risk rows read per space to find the space's own (an asset's risk shares the space)."""


@dataclass(frozen=True, slots=True)
class RiskThen:
    """A space's own risk level as last decided at or before the time asked."""

    level: str
    score: float
    at: datetime


def space_risks_at(engine: Engine, space_ids: Iterable[str], at: datetime) -> dict[str, RiskThen]:
    """Each space's newest own risk level (not an asset's) at or before ``at``; spaces with
    none are left out (they were normal)."""
    found: dict[str, RiskThen] = {}
    with Session(engine) as session:
        for space_id in space_ids:
            query = (
                select(RiskLevelRow.payload)
                .where(RiskLevelRow.space_id == space_id, RiskLevelRow.observed_at <= at)
                .order_by(RiskLevelRow.observed_at.desc(), RiskLevelRow.id)
                .limit(RISK_ROWS_PER_SPACE)
            )
            for payload in session.scalars(query):
                risk = event_from_json(payload)
                if isinstance(risk, RiskLevel) and risk.asset_id is None:
                    found[space_id] = RiskThen(risk.level.value, risk.score, risk.observed_at)
                    break
    return found


def alerts_between(
    engine: Engine, since: datetime, until: datetime, space_ids: Sequence[str], limit: int
) -> list[Alert]:
    """Alerts of ``space_ids`` observed from ``since`` to ``until``, newest first."""
    query = (
        select(AlertRow.payload)
        .where(
            AlertRow.observed_at >= since,
            AlertRow.observed_at <= until,
            AlertRow.space_id.in_(space_ids),
        )
        .order_by(AlertRow.observed_at.desc(), AlertRow.id)
        .limit(limit)
    )
    with Session(engine) as session:
        found = [event_from_json(p) for p in session.scalars(query)]
    return [a for a in found if isinstance(a, Alert)]


def incident_status_at(engine: Engine, alert_ids: Sequence[str], at: datetime) -> dict[str, str]:
    """The status at ``at`` of the incident handling each alert, for alerts whose incident was
    open by then (alert id -> status; an alert without one is left out)."""
    if not alert_ids:
        return {}
    with Session(engine) as session:
        query = select(IncidentAlertRow.alert_id, IncidentAlertRow.incident_id).where(
            IncidentAlertRow.alert_id.in_(alert_ids)
        )
        handled: dict[str, str] = {row[0]: row[1] for row in session.execute(query)}
        incidents = sorted(set(handled.values()))
        opened = set(
            session.scalars(
                select(IncidentRow.id).where(
                    IncidentRow.id.in_(incidents), IncidentRow.observed_at <= at
                )
            )
        )
        status: dict[str, tuple[datetime, str]] = {}
        changes = select(
            IncidentChangeRow.incident_id,
            IncidentChangeRow.observed_at,
            IncidentChangeRow.to_status,
        ).where(IncidentChangeRow.incident_id.in_(incidents), IncidentChangeRow.observed_at <= at)
        for incident_id, observed_at, to_status in session.execute(changes):
            when = _aware(observed_at)
            if incident_id not in status or when >= status[incident_id][0]:
                status[incident_id] = (when, to_status)
    then = dict.fromkeys(opened, "new") | {i: s for i, (_, s) in status.items()}
    return {a: then[i] for a, i in handled.items() if i in then}


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
