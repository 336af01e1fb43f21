"""NGSI-LD out: an ``Alert`` as a FIWARE Smart Data Models ``Alert`` entity (key-values form)."""

# The key-values form is what the Smart Data Models JSON Schema describes, so that is what we emit
# and validate; CAP's fields that the model has no place for travel in ``data``.

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from smartspaces.events import Alert, AlertSeverity, SmartSpace
from smartspaces.respond.alerts.errors import AlertFormatError
from smartspaces.respond.alerts.settings import AlertFormatSettings

NGSI_LD_MEDIA_TYPE = "application/ld+json"
CONTEXT = (
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
)
SEVERITY: dict[AlertSeverity, str] = {
    "Extreme": "critical",
    "Severe": "high",
    "Moderate": "medium",
    "Minor": "low",
    "Unknown": "informational",
}
# Smart Data Models categories and subcategories per detector family (the alert type's prefix);
# only subcategories the model lists are used, none where it has no fitting one.
CATEGORY: dict[str, tuple[str, str | None]] = {
    "crowd": ("security", "crowdRisk"),
    "video": ("security", None),
    "cyber": ("security", None),
    "fusion": ("security", None),
}


def entity_id(alert_id: str) -> str:
    return f"urn:ngsi-ld:Alert:{alert_id}"


def ngsi_ld_alert(alert: Alert, space: SmartSpace, settings: AlertFormatSettings) -> dict[str, Any]:
    """The alert as an NGSI-LD entity (key-values, with its ``@context``)."""
    if alert.space_id != space.id:
        raise AlertFormatError(f"alert {alert.id} concerns {alert.space_id}, not {space.id}")
    category, sub_category = CATEGORY.get(alert.alert_type.split(".", 1)[0], ("security", None))
    ended = alert.msg_type == "Cancel"
    valid_to = alert.received_at + timedelta(seconds=0 if ended else settings.expires_after_s)
    entity: dict[str, Any] = {
        "id": entity_id(alert.id),
        "type": "Alert",
        "category": category,
        "severity": "informational" if ended else SEVERITY[alert.severity],
        "name": alert.headline,
        "description": " ".join(p for p in (alert.headline, alert.description) if p),
        "location": {
            "type": "Polygon",
            "coordinates": [[list(p) for p in ring] for ring in space.geometry.coordinates],
        },
        "areaServed": space.name,
        "dateIssued": _time(alert.received_at),
        "validFrom": _time(alert.observed_at),
        "validTo": _time(valid_to),
        "alertSource": f"urn:ngsi-ld:smartspaces:{alert.source}",
        "dataProvider": settings.sender,
        "data": {
            "alertType": alert.alert_type,
            "level": alert.level.value,
            "msgType": alert.msg_type,
            "references": [entity_id(r) for r in alert.references],
            "urgency": alert.urgency,
            "certainty": alert.certainty,
            "instruction": alert.instruction,
            "spaceId": space.id,
            "derivedFrom": list(alert.derived_from),
        },
        "@context": list(CONTEXT),
    }
    if sub_category is not None:
        entity["subCategory"] = sub_category
    return entity


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
