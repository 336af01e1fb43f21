"""Carrying out a playbook for an incident: each measure proposed, activated, done or declined."""

# Pure, like the lifecycle: functions take a case and ``now`` and return a new case.

from __future__ import annotations

from datetime import datetime

from smartspaces.events import Alert
from smartspaces.respond.incidents.errors import IncidentError, UnknownMeasure
from smartspaces.respond.incidents.lifecycle import IncidentCase, TimelineEntry
from smartspaces.respond.incidents.playbooks import (
    MeasureChange,
    MeasureStatus,
    Playbook,
    TrackedMeasure,
)

MEASURE_TRANSITIONS: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    "proposed": frozenset({"activated", "declined"}),
    # an activated measure can still be called off (declined) before it is done
    "activated": frozenset({"done", "declined"}),
    "done": frozenset(),
    "declined": frozenset(),
}


def propose(
    case: IncidentCase, playbook: Playbook, alert: Alert, actor: str, now: datetime
) -> IncidentCase:
    """Propose the playbook's measures for the alert's level; measures already tracked stay as
    they are, so an escalation adds only the new ones."""
    known = {m.id for m in case.measures}
    change = MeasureChange(at=now, actor=actor, status="proposed", reason=f"alert {alert.id}")
    added = tuple(
        TrackedMeasure(playbook_id=playbook.id, spec=spec, history=(change,))
        for spec in playbook.measures_for(alert.level)
        if spec.id not in known
    )
    if not added:
        return case
    entry = TimelineEntry(
        at=now,
        actor=actor,
        action="measure",
        detail=f"proposed from {playbook.id}: {', '.join(m.id for m in added)}",
    )
    return case.with_entry(entry, measures=(*case.measures, *added))


def set_measure(
    case: IncidentCase,
    measure_id: str,
    status: MeasureStatus,
    actor: str,
    now: datetime,
    reason: str = "",
) -> IncidentCase:
    """Move one measure on (activated, done, declined), recording who, when and why."""
    current = next((m for m in case.measures if m.id == measure_id), None)
    if current is None:
        raise UnknownMeasure(f"incident {case.id} has no measure {measure_id!r}")
    allowed = MEASURE_TRANSITIONS[current.status]
    if status not in allowed:
        options = ", ".join(sorted(allowed)) or "nothing"
        raise IncidentError(
            f"measure {measure_id} is {current.status}: it cannot become {status}; "
            f"it can become {options}"
        )
    change = MeasureChange(at=now, actor=actor, status=status, reason=reason)
    updated = current.model_copy(update={"status": status, "history": (*current.history, change)})
    measures = tuple(updated if m.id == measure_id else m for m in case.measures)
    detail = f"{measure_id}: {current.status} -> {status}" + (f" ({reason})" if reason else "")
    entry = TimelineEntry(at=now, actor=actor, action="measure", detail=detail)
    return case.with_entry(entry, measures=measures)
