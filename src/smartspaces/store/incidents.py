"""Repository of incident cases and of the alerts each one handles (same database as the store).

The store knows no stage, so a case is kept as the JSON the respond stage wrote plus the columns
that lists filter on. Writes are compare-and-set on ``version``: a change computed from a stale
read is refused with ``StaleCase`` and the caller reloads and applies it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartspaces.store.errors import StoreError
from smartspaces.store.tables import IncidentAlertRow, IncidentCaseRow


class StaleCase(StoreError):
    """The case changed since it was read (another operator was quicker); reload and retry."""


class AlertTaken(StoreError):
    """An alert is already handled by another incident; ``incident_id`` says which."""

    def __init__(self, alert_id: str, incident_id: str) -> None:
        super().__init__(f"alert {alert_id} is already handled by incident {incident_id}")
        self.incident_id = incident_id


@dataclass(frozen=True)
class CaseRecord:
    """One stored case: the columns, the JSON of the whole case and its version."""

    id: str
    space_id: str
    status: str
    level: str
    opened_at: datetime
    updated_at: datetime
    version: int
    payload: str


class IncidentRepository:
    """Incident cases by id, by status and space, and by the alerts they handle."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, record: CaseRecord, alert_ids: Iterable[str]) -> None:
        """Insert a new case (version 1) and claim its alerts; raises ``AlertTaken`` if one of
        them already has an incident (then nothing is written)."""
        alerts = list(alert_ids)
        with Session(self._engine) as session, session.begin():
            _claim(session, record.id, alerts)
            session.add(_row(record))
            try:
                session.flush()
            except IntegrityError as error:  # same id: same space, instant and title
                raise StaleCase(f"incident {record.id} exists already") from error

    def save(self, record: CaseRecord, expected_version: int, new_alert_ids: Iterable[str]) -> None:
        """Replace a case if it is still at ``expected_version`` (``record.version`` must be the
        next one); raises ``StaleCase`` otherwise, ``AlertTaken`` if a new alert is taken."""
        row = IncidentCaseRow
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(row)
                .where(row.id == record.id, row.version == expected_version)
                .values(
                    status=record.status,
                    level=record.level,
                    updated_at=record.updated_at,
                    version=record.version,
                    payload=record.payload,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleCase(f"incident {record.id} changed since version {expected_version}")
            _claim(session, record.id, list(new_alert_ids))

    def get(self, incident_id: str) -> CaseRecord | None:
        with Session(self._engine) as session:
            row = session.get(IncidentCaseRow, incident_id)
            return _record(row) if row else None

    def list(
        self, status: str | None = None, space_id: str | None = None, limit: int = 100
    ) -> list[CaseRecord]:
        """The newest cases first, optionally of one status or one space."""
        query = select(IncidentCaseRow).order_by(
            IncidentCaseRow.opened_at.desc(), IncidentCaseRow.id
        )
        if status:
            query = query.where(IncidentCaseRow.status == status)
        if space_id:
            query = query.where(IncidentCaseRow.space_id == space_id)
        with Session(self._engine) as session:
            return [_record(r) for r in session.scalars(query.limit(limit))]

    def incident_of_alert(self, alert_id: str) -> str | None:
        """The id of the incident handling an alert, if any."""
        with Session(self._engine) as session:
            row = session.get(IncidentAlertRow, alert_id)
            return row.incident_id if row else None

    def acknowledged_alert_ids(self) -> set[str]:
        """The alerts whose incident has got past ``new``: someone has taken them on (what the
        alert policy needs after a restart, so it does not escalate them again)."""
        query = (
            select(IncidentAlertRow.alert_id)
            .join(IncidentCaseRow, IncidentCaseRow.id == IncidentAlertRow.incident_id)
            .where(IncidentCaseRow.status != "new")
        )
        with Session(self._engine) as session:
            return set(session.scalars(query))


def _claim(session: Session, incident_id: str, alert_ids: list[str]) -> None:
    for alert_id in alert_ids:
        owner = session.get(IncidentAlertRow, alert_id)
        if owner is not None and owner.incident_id != incident_id:
            raise AlertTaken(alert_id, owner.incident_id)
        if owner is None:
            session.add(IncidentAlertRow(alert_id=alert_id, incident_id=incident_id))
    try:
        session.flush()
    except IntegrityError as error:  # claimed by a concurrent writer between get and flush
        raise AlertTaken(",".join(alert_ids), "another incident") from error


def _row(record: CaseRecord) -> IncidentCaseRow:
    return IncidentCaseRow(
        id=record.id,
        space_id=record.space_id,
        status=record.status,
        level=record.level,
        opened_at=record.opened_at,
        updated_at=record.updated_at,
        version=record.version,
        payload=record.payload,
    )


def _record(row: IncidentCaseRow) -> CaseRecord:
    return CaseRecord(
        id=row.id,
        space_id=row.space_id,
        status=row.status,
        level=row.level,
        opened_at=_aware(row.opened_at),
        updated_at=_aware(row.updated_at),
        version=row.version,
        payload=row.payload,
    )


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
