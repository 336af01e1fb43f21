"""The incident lifecycle as a pure state machine, with units, notes, alerts and a timeline."""

# Every function takes a case and ``now`` and returns a new case (cases are immutable); a status
# change also returns the ``IncidentStateChanged`` event to publish and audit.

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smartspaces.events import (
    Alert,
    Identifier,
    Incident,
    IncidentStateChanged,
    IncidentStatus,
)
from smartspaces.respond.incidents.errors import IllegalTransition, IncidentError, UnknownUnit
from smartspaces.respond.incidents.playbooks import TrackedMeasure

SOURCE = "incidents"
S = IncidentStatus
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED}),
    # a false alarm or a situation that calms down is resolved without anyone sent
    S.ACKNOWLEDGED: frozenset({S.DISPATCHED, S.RESOLVED}),
    # units recalled before they arrive, because the situation resolved itself
    S.DISPATCHED: frozenset({S.ON_SCENE, S.RESOLVED}),
    S.ON_SCENE: frozenset({S.RESOLVED}),
    # reopened when it flares up again before the case is closed
    S.RESOLVED: frozenset({S.CLOSED, S.ACKNOWLEDGED}),
    S.CLOSED: frozenset(),
}
"""Which status may follow which; anything else is an ``IllegalTransition``."""

TimelineAction = Literal[
    "opened", "status", "unit_assigned", "unit_released", "note", "alert_linked", "measure"
]


class TimelineEntry(BaseModel):
    """One thing that happened to an incident, by whom and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    actor: Identifier
    action: TimelineAction
    detail: str = Field(default="", max_length=4000)


class UnitAssignment(BaseModel):
    """A unit (patrol, ambulance, steward team) sent to an incident, until released."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit_id: Identifier
    assigned_at: AwareDatetime
    assigned_by: Identifier
    released_at: AwareDatetime | None = None


class IncidentCase(BaseModel):
    """An incident and everything done about it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident: Incident
    status: IncidentStatus = IncidentStatus.NEW
    alert_ids: tuple[str, ...] = ()
    units: tuple[UnitAssignment, ...] = ()
    notes: tuple[TimelineEntry, ...] = ()
    measures: tuple[TrackedMeasure, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    acknowledged_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None

    @property
    def id(self) -> str:
        return self.incident.id

    @property
    def opened_at(self) -> datetime:
        return self.incident.observed_at

    @property
    def active_units(self) -> tuple[str, ...]:
        return tuple(u.unit_id for u in self.units if u.released_at is None)

    def time_to_acknowledge_s(self) -> float | None:
        """Seconds from opening to the first acknowledgement (None until acknowledged)."""
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.opened_at).total_seconds()

    def time_to_resolve_s(self) -> float | None:
        """Seconds from opening to resolution (None until resolved)."""
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()

    def with_entry(self, entry: TimelineEntry, **changes: object) -> IncidentCase:
        """A copy with ``changes`` applied and ``entry`` appended to the timeline."""
        return self.model_copy(update={**changes, "timeline": (*self.timeline, entry)})


def open_from_alert(alert: Alert, actor: str, now: datetime) -> IncidentCase:
    """A new incident for an alert, in the alert's space and at its level."""
    incident = Incident(
        source=SOURCE,
        space_id=alert.space_id,
        observed_at=now,
        received_at=now,
        location=alert.location,
        derived_from=(alert.id,),
        title=alert.headline,
        level=alert.level,
    )
    entry = TimelineEntry(at=now, actor=actor, action="opened", detail=f"from alert {alert.id}")
    return IncidentCase(incident=incident, alert_ids=(alert.id,), timeline=(entry,))


def transition(
    case: IncidentCase, to: IncidentStatus, actor: str, now: datetime, note: str = ""
) -> tuple[IncidentCase, IncidentStateChanged]:
    """Move the case to ``to``; raises ``IllegalTransition`` when the lifecycle forbids it."""
    allowed = TRANSITIONS[case.status]
    if to not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "nothing (it is closed)"
        raise IllegalTransition(
            f"incident {case.id} is {case.status.value}: it cannot become {to.value}; "
            f"it can become {options}",
            allowed=(s.value for s in allowed),
        )
    event = IncidentStateChanged(
        source=SOURCE,
        space_id=case.incident.space_id,
        observed_at=now,
        received_at=now,
        derived_from=(case.id,),
        incident_id=case.id,
        from_status=case.status,
        to_status=to,
        actor=actor,
        note=note,
    )
    detail = f"{case.status.value} -> {to.value}" + (f": {note}" if note else "")
    changes: dict[str, object] = {"status": to}
    if to == S.ACKNOWLEDGED and case.acknowledged_at is None:
        changes["acknowledged_at"] = now
    if to == S.RESOLVED:
        changes["resolved_at"] = now
    if to == S.CLOSED:  # a closed case holds no unit any more
        changes["units"] = _release_all(case.units, now)
    entry = TimelineEntry(at=now, actor=actor, action="status", detail=detail)
    return case.with_entry(entry, **changes), event


def assign_unit(case: IncidentCase, unit_id: str, actor: str, now: datetime) -> IncidentCase:
    """Send a unit to the incident (an error if it is already there or the case is closed)."""
    _open(case)
    if unit_id in case.active_units:
        raise IncidentError(f"unit {unit_id} is already assigned to incident {case.id}")
    unit = UnitAssignment(unit_id=unit_id, assigned_at=now, assigned_by=actor)
    entry = TimelineEntry(at=now, actor=actor, action="unit_assigned", detail=unit_id)
    return case.with_entry(entry, units=(*case.units, unit))


def release_unit(case: IncidentCase, unit_id: str, actor: str, now: datetime) -> IncidentCase:
    """Stand a unit down from the incident."""
    if unit_id not in case.active_units:
        raise UnknownUnit(f"unit {unit_id} is not assigned to incident {case.id}")
    units = tuple(
        u.model_copy(update={"released_at": now})
        if u.unit_id == unit_id and u.released_at is None
        else u
        for u in case.units
    )
    entry = TimelineEntry(at=now, actor=actor, action="unit_released", detail=unit_id)
    return case.with_entry(entry, units=units)


def add_note(case: IncidentCase, text: str, actor: str, now: datetime) -> IncidentCase:
    """Add an operator's note (kept in the notes and on the timeline)."""
    entry = TimelineEntry(at=now, actor=actor, action="note", detail=text)
    return case.with_entry(entry, notes=(*case.notes, entry))


def link_alert(case: IncidentCase, alert: Alert, actor: str, now: datetime) -> IncidentCase:
    """Attach another alert (an update, or a neighbouring space's) to the incident."""
    _open(case)
    if alert.id in case.alert_ids:
        return case  # linking twice is a retry, not news
    entry = TimelineEntry(at=now, actor=actor, action="alert_linked", detail=alert.id)
    return case.with_entry(entry, alert_ids=(*case.alert_ids, alert.id))


def _open(case: IncidentCase) -> None:
    if case.status == S.CLOSED:
        raise IncidentError(f"incident {case.id} is closed")


def _release_all(units: tuple[UnitAssignment, ...], now: datetime) -> tuple[UnitAssignment, ...]:
    return tuple(u if u.released_at else u.model_copy(update={"released_at": now}) for u in units)
