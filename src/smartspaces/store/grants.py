"""Who owns an incident and with whom alerts and incidents are shared (same database).

An incident belongs to the agency that opened it. Its owner is written against the alert it is
opened from *before* the incident exists (``claim``) and confirmed with the incident's id after
(``settle``): whoever looks the owner up through the opening alert never finds a gap, not even
the live stream that carries the incident's first event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from smartspaces.store.accounts import IncidentOwnerRow, ShareRow


class GrantRepository:
    """Incident owners by opening alert; shares by subject and by agency."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, alert_id: str, agency: str) -> None:
        """Name the agency about to open an incident from ``alert_id``; a claim whose incident
        exists already is left alone (the incident keeps its owner)."""
        with Session(self._engine) as session, session.begin():
            row = session.get(IncidentOwnerRow, alert_id)
            if row is None:
                session.add(IncidentOwnerRow(alert_id=alert_id, agency=agency, incident_id=None))
            elif row.incident_id is None:
                row.agency = agency

    def settle(self, alert_id: str, agency: str, incident_id: str) -> None:
        """Record the owner of the incident just opened from ``alert_id``."""
        with Session(self._engine) as session, session.begin():
            session.merge(
                IncidentOwnerRow(alert_id=alert_id, agency=agency, incident_id=incident_id)
            )

    def owners(self, alert_ids: Iterable[str]) -> dict[str, str]:
        """The owning agency of the incidents opened from these alerts, by alert id."""
        wanted = set(alert_ids)
        if not wanted:
            return {}
        query = select(IncidentOwnerRow.alert_id, IncidentOwnerRow.agency).where(
            IncidentOwnerRow.alert_id.in_(wanted)
        )
        with Session(self._engine) as session:
            return {str(a): str(b) for a, b in session.execute(query)}

    def share(
        self, kind: str, subject_id: str, agency: str, access: str, by: str, at: datetime
    ) -> None:
        """Share (or change the access of a share) with ``agency``."""
        with Session(self._engine) as session, session.begin():
            session.merge(
                ShareRow(
                    subject_kind=kind,
                    subject_id=subject_id,
                    agency=agency,
                    access=access,
                    granted_by=by,
                    granted_at=at,
                )
            )

    def unshare(self, kind: str, subject_id: str, agency: str) -> bool:
        """Withdraw a share; False if there was none."""
        query = delete(ShareRow).where(
            ShareRow.subject_kind == kind,
            ShareRow.subject_id == subject_id,
            ShareRow.agency == agency,
        )
        with Session(self._engine) as session, session.begin():
            return bool(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def shares_of(self, kind: str, subject_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """For each subject, the agencies it is shared with and their access."""
        wanted = set(subject_ids)
        if not wanted:
            return {}
        query = select(ShareRow.subject_id, ShareRow.agency, ShareRow.access).where(
            ShareRow.subject_kind == kind, ShareRow.subject_id.in_(wanted)
        )
        found: dict[str, dict[str, str]] = {}
        with Session(self._engine) as session:
            for subject_id, agency, access in session.execute(query):
                found.setdefault(subject_id, {})[agency] = access
        return found

    def shared_with(self, kind: str, agency: str) -> dict[str, str]:
        """The subjects of ``kind`` shared with ``agency`` and its access to each."""
        query = select(ShareRow.subject_id, ShareRow.access).where(
            ShareRow.subject_kind == kind, ShareRow.agency == agency
        )
        with Session(self._engine) as session:
            return {str(a): str(b) for a, b in session.execute(query)}

    def owned_by(self, agency: str) -> set[str]:
        """The ids of the incidents ``agency`` opened."""
        query = select(IncidentOwnerRow.incident_id).where(
            IncidentOwnerRow.agency == agency, IncidentOwnerRow.incident_id.is_not(None)
        )
        with Session(self._engine) as session:
            return {i for i in session.scalars(query) if i}
