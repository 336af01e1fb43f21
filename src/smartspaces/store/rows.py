"""Turns events into table rows: the common columns plus the ones each kind is queried by."""

from __future__ import annotations

from typing import Any

from smartspaces.events import (
    Alert,
    AnyEvent,
    Detection,
    Incident,
    IncidentStateChanged,
    Observation,
    RiskLevel,
    Situation,
)


def row_values(event: AnyEvent) -> dict[str, Any]:
    """The column values of the row that stores ``event``."""
    row: dict[str, Any] = {
        "id": event.id,
        "space_id": event.space_id,
        "source": event.source,
        "observed_at": event.observed_at,
        "received_at": event.received_at,
        "derived_from": list(event.derived_from),
        "payload": event.model_dump_json(),
    }
    match event:
        case Observation():
            row.update(sensor_id=event.sensor_id, quantity=event.quantity, value=event.value)
        case Detection():
            row.update(detection_type=event.detection_type, level=event.level.value)
        case Situation():
            row.update(situation_type=event.situation_type, level=event.level.value)
        case RiskLevel():
            row.update(level=event.level.value, score=event.score)
        case Alert():
            row.update(
                alert_type=event.alert_type, level=event.level.value, msg_type=event.msg_type
            )
        case Incident():
            row.update(title=event.title, status=event.status.value, level=event.level.value)
        case IncidentStateChanged():
            row.update(incident_id=event.incident_id, to_status=event.to_status.value)
    return row
