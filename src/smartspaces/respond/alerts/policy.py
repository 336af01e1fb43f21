"""From risk levels to alerts: raise, update as the level moves, cancel when back to normal.

The CAP 1.2 vocabulary is used from the start (severity, urgency, certainty, msgType with
references) so the alert can be exported to CAP without translation. Pure:
``step(risk, now)`` returns the alert to publish, if any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from smartspaces.events import Alert, AlertSeverity, AlertUrgency, Level, RiskLevel, SmartSpace

SOURCE = "alerts.policy"
ALERT_TYPE = "crowd.density"

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
_INSTRUCTION = {
    Level.AMBER: "Watch the space; prepare to meter inflow at the access streets.",
    Level.RED: "Stop inflow at the access streets, open every exit, send officers to the space.",
    Level.CRITICAL: "Crush risk: stop all inflow, open every exit, move the crowd out now; "
    "alert emergency services.",
    Level.NORMAL: "No action needed.",
}


@dataclass(frozen=True)
class _Open:
    first_id: str
    level: Level


class AlertPolicy:
    """One open alert per space at most; level changes update it, a return to normal cancels it."""

    def __init__(self, spaces: Mapping[str, SmartSpace]) -> None:
        self._names = {space_id: space.name for space_id, space in spaces.items()}
        self._open: dict[str, _Open] = {}

    def restore(self, alerts: Iterable[Alert]) -> None:
        """Reopen the alerts an earlier run left open (its latest message per space)."""
        latest: dict[str, Alert] = {}
        for alert in sorted(alerts, key=lambda a: a.observed_at):
            latest[alert.space_id] = alert
        for space_id, alert in latest.items():
            if alert.msg_type != "Cancel":
                first = alert.references[0] if alert.references else alert.id
                self._open[space_id] = _Open(first_id=first, level=alert.level)

    def step(self, risk: RiskLevel, now: datetime) -> Alert | None:
        """The alert this risk change calls for, or None."""
        current = self._open.get(risk.space_id)
        if current is None and risk.level == Level.NORMAL:
            return None
        if current is not None and current.level == risk.level:
            return None
        name = self._names.get(risk.space_id, risk.space_id)
        msg_type: Literal["Alert", "Update", "Cancel"]
        references: tuple[str, ...]
        if current is None:
            msg_type, references = "Alert", ()
        elif risk.level == Level.NORMAL:
            msg_type, references = "Cancel", (current.first_id,)
        else:
            msg_type, references = "Update", (current.first_id,)
        if risk.level == Level.NORMAL:
            headline = f"All clear: crowd density back to normal in {name}"
        else:
            headline = f"{risk.level.value.upper()} crowd density in {name}"
        alert = Alert(
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
            urgency=_URGENCY[risk.level],
            certainty="Observed",
            headline=headline,
            description=" ".join(risk.reasons),
            instruction=_INSTRUCTION[risk.level],
        )
        if risk.level == Level.NORMAL:
            del self._open[risk.space_id]
        else:
            first = current.first_id if current else alert.id
            self._open[risk.space_id] = _Open(first_id=first, level=risk.level)
        return alert
