"""Agency and space checks on alerts and incidents, sharing, and the audit of sensitive reads.

The rules are ``policy``'s; this is the I/O around them (owners, shares, the audit trail).
Synchronous (the store is); the API calls it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smartspaces.clock import Clock
from smartspaces.events import Alert, AnyEvent, Incident, IncidentStateChanged
from smartspaces.security.errors import Forbidden
from smartspaces.security.policy import Access, access, may_own, require_access, require_space
from smartspaces.security.roles import Principal
from smartspaces.store import Store
from smartspaces.store.grants import GrantRepository

Audience = tuple[frozenset[str], Mapping[str, str]]
"""An item's owning agencies and its shares (agency -> access)."""
MAX_SHARED = 1000
"""Most shared alerts an agency outside the control rooms lists at once."""


@dataclass(frozen=True)
class IncidentRef:
    """What the checks need of an incident: its id, the alert it was opened from, its space."""

    id: str
    opening_alert_id: str
    space_id: str


class AccessService:
    """Checks a principal's access to alerts and incidents and records what it reads."""

    def __init__(
        self, store: Store, grants: GrantRepository, alert_agencies: Iterable[str], clock: Clock
    ) -> None:
        self._store, self._grants, self._clock = store, grants, clock
        self.alert_owners = frozenset(alert_agencies)

    # -- alerts -------------------------------------------------------------------------------
    def check_alert(self, principal: Principal, alert: Alert, needed: Access) -> None:
        require_space(principal, alert.space_id)
        shares = self._grants.shares_of("alert", [alert.id]).get(alert.id, {})
        require_access(principal, needed, self.alert_owners, shares, f"alert {alert.id}")

    def visible_alerts(
        self, principal: Principal, limit: int, space_id: str | None
    ) -> list[AnyEvent]:
        """The newest alerts the principal may read, of one space or of all its spaces."""
        if space_id is not None:
            require_space(principal, space_id)
        if access(principal, self.alert_owners, {}) is not None:
            spaces: list[str | None] = [space_id]
            if space_id is None and principal.spaces is not None:
                spaces = [*sorted(principal.spaces)]
            found = [a for s in spaces for a in self._store.alerts(limit, s)]
        else:
            shared = self._grants.shared_with("alert", principal.agency or "")
            found = [e for i in sorted(shared)[:MAX_SHARED] if (e := self._store.event(i))]
        kept = [
            a
            for a in found
            if isinstance(a, Alert)
            and principal.may_see_space(a.space_id)
            and space_id in (None, a.space_id)
        ]
        kept.sort(key=lambda a: (-a.observed_at.timestamp(), a.id))
        return list(kept[:limit])

    def check_event(self, principal: Principal, event: AnyEvent) -> None:
        """Read access to any stored event: an alert or incident by its agency rules, any
        other by its space."""
        if isinstance(event, Alert):
            self.check_alert(principal, event, "read")
        elif isinstance(event, Incident) and event.derived_from:
            self.check_incident(
                principal, IncidentRef(event.id, event.derived_from[0], event.space_id), "read"
            )
        elif isinstance(event, IncidentStateChanged) and len(event.derived_from) > 1:
            ref = IncidentRef(event.incident_id, event.derived_from[1], event.space_id)
            self.check_incident(principal, ref, "read")
        else:
            require_space(principal, event.space_id)

    # -- incidents ----------------------------------------------------------------------------
    def incident_access(
        self, principal: Principal, refs: Sequence[IncidentRef]
    ) -> list[Access | None]:
        """The principal's access to each incident (None: it may not even see it)."""
        owners = self._grants.owners(r.opening_alert_id for r in refs)
        shares = self._grants.shares_of("incident", (r.id for r in refs))
        return [
            access(principal, _owners(owners, r), shares.get(r.id, {}))
            if principal.may_see_space(r.space_id)
            else None
            for r in refs
        ]

    def check_incident(self, principal: Principal, ref: IncidentRef, needed: Access) -> None:
        require_space(principal, ref.space_id)
        owners = _owners(self._grants.owners([ref.opening_alert_id]), ref)
        shares = self._grants.shares_of("incident", [ref.id]).get(ref.id, {})
        require_access(principal, needed, owners, shares, f"incident {ref.id}")

    def claim_incident(self, principal: Principal, alert_id: str) -> None:
        """Before opening an incident from ``alert_id``: its owner will be the caller's agency
        (unless an incident handles that alert already; then opening fails anyway)."""
        if self._store.incidents.incident_of_alert(alert_id) is None:
            self._grants.claim(alert_id, _agency(principal))

    def settle_incident(self, principal: Principal, alert_id: str, incident_id: str) -> None:
        self._grants.settle(alert_id, _agency(principal), incident_id)

    # -- sharing ------------------------------------------------------------------------------
    def share(
        self,
        principal: Principal,
        kind: str,
        subject_id: str,
        owners: frozenset[str],
        agency: str,
        level: Access | None,
    ) -> None:
        """Share ``subject_id`` with ``agency`` (``level`` None withdraws the share). Only an
        owner (or an administrator) shares; the change is audited."""
        if not may_own(principal, owners):
            raise Forbidden(f"only the owning agency shares {kind} {subject_id}")
        if agency in owners:
            raise Forbidden(f"agency {agency} owns {kind} {subject_id} already")
        now = self._clock.now()
        if level is None:
            changed = self._grants.unshare(kind, subject_id, agency)
        else:
            self._grants.share(kind, subject_id, agency, level, principal.name, now)
            changed = True
        if changed:
            details = {"with_agency": agency, "access": level or "withdrawn"}
            self.audit(principal, f"{kind}.shared", subject_id, details)

    def incident_owners(self, ref: IncidentRef) -> frozenset[str]:
        return _owners(self._grants.owners([ref.opening_alert_id]), ref)

    def shares(self, kind: str, subject_id: str) -> dict[str, str]:
        return self._grants.shares_of(kind, [subject_id]).get(subject_id, {})

    # -- the live stream ----------------------------------------------------------------------
    def stream_audience(self, events: Sequence[AnyEvent]) -> dict[str, Audience]:
        """For each alert and incident event, its owners and shares (other kinds are seen by
        whoever may see their space)."""
        opening: dict[str, str] = {}  # event id -> the alert its incident was opened from
        subjects: dict[str, tuple[str, str]] = {}  # event id -> (kind, subject id)
        for event in events:
            if isinstance(event, Alert):
                subjects[event.id] = ("alert", event.id)
            elif isinstance(event, Incident) and event.derived_from:
                opening[event.id] = event.derived_from[0]
                subjects[event.id] = ("incident", event.id)
            elif isinstance(event, IncidentStateChanged) and len(event.derived_from) > 1:
                opening[event.id] = event.derived_from[1]
                subjects[event.id] = ("incident", event.incident_id)
        if not subjects:
            return {}
        owners = self._grants.owners(opening.values())
        alert_shares = self._grants.shares_of(
            "alert", (i for k, i in subjects.values() if k == "alert")
        )
        incident_shares = self._grants.shares_of(
            "incident", (i for k, i in subjects.values() if k == "incident")
        )
        audience: dict[str, Audience] = {}
        for event_id, (kind, subject) in subjects.items():
            if kind == "alert":
                audience[event_id] = (self.alert_owners, alert_shares.get(subject, {}))
            else:
                owner = owners.get(opening[event_id])
                audience[event_id] = (
                    frozenset({owner}) if owner else frozenset(),
                    incident_shares.get(subject, {}),
                )
        return audience

    # -- audit --------------------------------------------------------------------------------
    def audit(
        self, principal: Principal, action: str, target: str, details: dict[str, Any]
    ) -> None:
        """Append a record of what the principal read or changed to the audit trail."""
        self._store.audit(
            principal.name,
            action,
            target[:256],
            {**details, **principal.audit_details()},
            self._clock.now(),
        )


def _owners(owners: dict[str, str], ref: IncidentRef) -> frozenset[str]:
    owner = owners.get(ref.opening_alert_id)
    return frozenset({owner}) if owner else frozenset()


def _agency(principal: Principal) -> str:
    if principal.agency is None:
        raise Forbidden(f"{principal.name} belongs to no agency: it cannot own an incident")
    return principal.agency
