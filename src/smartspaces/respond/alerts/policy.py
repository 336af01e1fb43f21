"""From risk levels to alerts: raise, update as the level moves, cancel when back to normal.

The CAP 1.2 vocabulary is used from the start (severity, urgency, certainty, msgType with
references) so the alert can be exported to CAP without translation. Pure: ``step(risk, now)``
returns the alert to publish, if any; ``tick(now)`` returns what time alone calls for (an alert
held back by suppression whose level still stands, an escalation of an unacknowledged alert);
``observe(change)`` learns from incidents which alerts someone has taken on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from smartspaces.events import (
    Alert,
    AlertSeverity,
    AlertUrgency,
    IncidentStateChanged,
    IncidentStatus,
    Level,
    RiskLevel,
    SmartSpace,
)
from smartspaces.respond.alerts.settings import AlertPolicySettings

SOURCE = "alerts.policy"
ALERT_TYPE = "crowd.density"
OFF = AlertPolicySettings(suppress_after_cancel_s=0, max_escalations=0)
"""No suppression, no escalation: the bare policy."""

_SEVERITY: dict[Level, AlertSeverity] = {
    Level.AMBER: "Moderate",
    Level.RED: "Severe",
    Level.CRITICAL: "Extreme",
    Level.NORMAL: "Minor",
}
_URGENCY: dict[Level, AlertUrgency] = {
    Level.AMBER: "Expected",
    Level.RED: "Immediate",
    Level.CRITICAL: "Immediate",
    Level.NORMAL: "Past",
}
# CAP urgency from least to most pressing; an escalation moves one step up (Immediate stays).
_URGENCY_LADDER: tuple[AlertUrgency, ...] = ("Unknown", "Past", "Future", "Expected", "Immediate")
_INSTRUCTION = {
    Level.AMBER: "Watch the space; prepare to meter inflow at the access streets.",
    Level.RED: "Stop inflow at the access streets, open every exit, send officers to the space.",
    Level.CRITICAL: "Crush risk: stop all inflow, open every exit, move the crowd out now; "
    "alert emergency services.",
    Level.NORMAL: "No action needed.",
}
MsgType = Literal["Alert", "Update", "Cancel"]


@dataclass(frozen=True)
class _Open:
    first_id: str
    level: Level
    last_id: str
    sent_at: datetime
    urgency: AlertUrgency
    ids: frozenset[str] = field(default_factory=frozenset)
    acknowledged: bool = False
    escalations: int = 0


@dataclass(frozen=True)
class _Quiet:
    """A space just cancelled: alerts up to ``level`` are held back until ``until``."""

    level: Level
    until: datetime
    pending: RiskLevel | None = None


class AlertPolicy:
    """One open alert per space at most; level changes update it, a return to normal cancels it.

    ``settings`` None is the bare policy (no suppression, no escalation)."""

    def __init__(
        self, spaces: Mapping[str, SmartSpace], settings: AlertPolicySettings | None = None
    ) -> None:
        self._names = {space_id: space.name for space_id, space in spaces.items()}
        self._settings = settings or OFF
        self._open: dict[str, _Open] = {}
        self._quiet: dict[str, _Quiet] = {}

    def restore(self, alerts: Iterable[Alert], acknowledged: Iterable[str] = ()) -> None:
        """Reopen the alerts an earlier run left open (its latest message per space);
        ``acknowledged``: ids of alerts whose incident got past new (they are not escalated)."""
        taken = set(acknowledged)
        latest: dict[str, Alert] = {}
        for alert in sorted(alerts, key=lambda a: a.observed_at):
            latest[alert.space_id] = alert
        for space_id, alert in latest.items():
            if alert.msg_type != "Cancel":
                first = alert.references[0] if alert.references else alert.id
                ids = frozenset({first, alert.id})
                self._open[space_id] = _Open(
                    first,
                    alert.level,
                    alert.id,
                    alert.received_at,
                    alert.urgency,
                    ids,
                    bool(ids & taken),
                )

    def observe(self, change: IncidentStateChanged) -> None:
        """An incident got past new: the alerts it handles are acknowledged (not escalated)."""
        if change.to_status == IncidentStatus.NEW:
            return
        handled = set(change.derived_from)
        for space_id, current in self._open.items():
            if current.ids & handled:
                self._open[space_id] = replace(current, acknowledged=True)

    def step(self, risk: RiskLevel, now: datetime) -> Alert | None:
        """The alert this risk change calls for, or None."""
        current = self._open.get(risk.space_id)
        if current is None:
            return self._raise(risk, now)
        if current.level == risk.level:
            return None
        msg_type: MsgType = "Cancel" if risk.level == Level.NORMAL else "Update"
        urgency = _URGENCY[risk.level]
        if msg_type == "Update" and _more_urgent(current.urgency, urgency):
            urgency = current.urgency  # an escalation is not undone by a level change
        alert = self._alert(risk, now, msg_type, (current.first_id,), urgency)
        if msg_type == "Cancel":
            del self._open[risk.space_id]
            if self._settings.suppress_after_cancel_s > 0:
                until = now + timedelta(seconds=self._settings.suppress_after_cancel_s)
                self._quiet[risk.space_id] = _Quiet(current.level, until)
        else:
            self._open[risk.space_id] = replace(
                current,
                level=risk.level,
                last_id=alert.id,
                sent_at=now,
                urgency=urgency,
                ids=current.ids | {alert.id},
            )
        return alert

    def tick(self, now: datetime) -> list[Alert]:
        """What the passing of time calls for: held-back alerts whose level still stands once
        their window ends, and escalations of alerts nobody acknowledged in time."""
        found: list[Alert] = []
        for space_id, quiet in list(self._quiet.items()):
            if now >= quiet.until:
                del self._quiet[space_id]
                if quiet.pending is not None:
                    found.extend(a for a in [self._raise(quiet.pending, now)] if a)
        wait = timedelta(seconds=self._settings.escalate_after_s)
        for space_id, current in list(self._open.items()):
            due = now - current.sent_at >= wait
            if due and not current.acknowledged:
                if current.escalations < self._settings.max_escalations:
                    found.append(self._escalate(space_id, current, now))
        return found

    def _raise(self, risk: RiskLevel, now: datetime) -> Alert | None:
        """A new alert for a space with none open, unless it is normal or held back."""
        quiet = self._quiet.get(risk.space_id)
        if quiet is not None and now < quiet.until:
            if risk.level.rank <= quiet.level.rank:
                # flapping: remember the level, alert it at the window's end if it still stands
                pending = risk if risk.level != Level.NORMAL else None
                self._quiet[risk.space_id] = replace(quiet, pending=pending)
                return None
            del self._quiet[risk.space_id]  # worse than what was cancelled: alert at once
        if risk.level == Level.NORMAL:
            return None
        alert = self._alert(risk, now, "Alert", (), _URGENCY[risk.level])
        ids = frozenset({alert.id})
        self._open[risk.space_id] = _Open(alert.id, risk.level, alert.id, now, alert.urgency, ids)
        return alert

    def _escalate(self, space_id: str, current: _Open, now: datetime) -> Alert:
        ladder = _URGENCY_LADDER
        urgency = ladder[min(ladder.index(current.urgency) + 1, len(ladder) - 1)]
        minutes = round((now - current.sent_at).total_seconds() / 60)
        name = self._names.get(space_id, space_id)
        level = current.level
        alert = Alert(
            source=SOURCE,
            space_id=space_id,
            observed_at=now,
            received_at=now,
            derived_from=(current.last_id,),
            alert_type=ALERT_TYPE,
            level=level,
            msg_type="Update",
            references=(current.first_id,),
            severity=_SEVERITY[level],
            urgency=urgency,
            certainty="Observed",
            headline=f"NOT ACKNOWLEDGED for {minutes} min: {level.value.upper()} crowd density "
            f"in {name}"[:300],
            instruction=_INSTRUCTION[level],
        )
        self._open[space_id] = replace(
            current,
            last_id=alert.id,
            sent_at=now,
            urgency=urgency,
            ids=current.ids | {alert.id},
            escalations=current.escalations + 1,
        )
        return alert

    def _alert(
        self,
        risk: RiskLevel,
        now: datetime,
        msg_type: MsgType,
        references: tuple[str, ...],
        urgency: AlertUrgency,
    ) -> Alert:
        name = self._names.get(risk.space_id, risk.space_id)
        if risk.level == Level.NORMAL:
            headline = f"All clear: crowd density back to normal in {name}"
        else:
            headline = f"{risk.level.value.upper()} crowd density in {name}"
        return Alert(
            source=SOURCE,
            space_id=risk.space_id,
            observed_at=risk.observed_at,
            received_at=now,
            location=risk.location,
            derived_from=(risk.id,),
            alert_type=ALERT_TYPE,
            level=risk.level,
            msg_type=msg_type,
            references=references,
            severity=_SEVERITY[risk.level],
            urgency=urgency,
            certainty="Observed",
            headline=headline,
            description=" ".join(risk.reasons),
            instruction=_INSTRUCTION[risk.level],
        )


def _more_urgent(a: AlertUrgency, b: AlertUrgency) -> bool:
    return _URGENCY_LADDER.index(a) > _URGENCY_LADDER.index(b)
