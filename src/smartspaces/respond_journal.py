"""What the respond stage has applied per space, checkpointed for a stand-by that takes over.

Risk and the alert policy keep their state in memory. A stand-by worker that takes the stage
over must start from the state that matches what the stage acknowledged on the bus, not from
the newest events in the store: the store may already hold detections the stage had not applied
(the store worker runs ahead), and restoring those would make the stage skip the changes they
bring. So with each batch the stage checkpoints, per space it touched, the latest detection or
situation of each type it applied and the latest alert it issued. Re-applying a batch on top of
its own checkpoint changes nothing (latest-per-type evidence; the same risk gives no new alert),
so a batch redelivered after a takeover is applied once in effect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smartspaces.events import Alert, Detection, Situation, event_from_json

STAGE = "respond"
Evidence = Detection | Situation


class RespondJournal:
    """Latest evidence per type and latest alert, per space (bounded by the types in use)."""

    def __init__(self) -> None:
        self._evidence: dict[str, dict[str, Evidence]] = {}
        self._alerts: dict[str, Alert] = {}

    def superseded(self, event: Evidence) -> bool:
        """Whether ``event`` was applied already, or a later one of its type: a message the bus
        delivers again after a takeover, late, behind newer ones. Applying it would move the
        space back in time (and raise an alert that was cancelled since)."""
        known = self._evidence.get(event.space_id, {}).get(_kind(event))
        return known is not None and (known.id == event.id or known.observed_at > event.observed_at)

    def applied(self, event: Evidence) -> None:
        book = self._evidence.setdefault(event.space_id, {})
        known = book.get(_kind(event))
        if known is None or known.observed_at <= event.observed_at:
            book[_kind(event)] = event

    def alerted(self, alert: Alert) -> None:
        self._alerts[alert.space_id] = alert

    def state(self, space_id: str) -> dict[str, Any]:
        """The checkpoint of one space (JSON-ready)."""
        alert = self._alerts.get(space_id)
        return {
            "evidence": [e.model_dump_json() for e in self._evidence.get(space_id, {}).values()],
            "alert": alert.model_dump_json() if alert is not None else None,
        }

    def load(self, checkpoints: Mapping[str, tuple[int, Any]]) -> None:
        """Start from checkpoints (space id -> (seq, state)) read back from the store."""
        for _, state in checkpoints.values():
            for raw in state.get("evidence", ()):
                event = event_from_json(raw)
                if isinstance(event, Detection | Situation):
                    self.applied(event)
            if state.get("alert"):
                alert = event_from_json(state["alert"])
                if isinstance(alert, Alert):
                    self.alerted(alert)

    def evidence(self, space_ids: Iterable[str]) -> list[Evidence]:
        return [e for s in space_ids for e in self._evidence.get(s, {}).values()]

    def alerts(self, space_ids: Iterable[str]) -> list[Alert]:
        return [a for s in space_ids if (a := self._alerts.get(s)) is not None]


def _kind(event: Evidence) -> str:
    return event.detection_type if isinstance(event, Detection) else event.situation_type
