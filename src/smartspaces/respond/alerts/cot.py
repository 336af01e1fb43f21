"""Alerts as Cursor-on-Target (CoT 2.0) events for TAK clients (ATAK, WinTAK, iTAK). Pure.

One marker per alert chain: the uid comes from the first alert of the chain, so TAK clients
replace the marker in place on every Update instead of stacking markers, and a Cancel deletes
it (ATAK's ``t-x-d-d`` delete task, linked to the marker's uid). The point is the space's
centroid with a circular error that covers the space, so a responder sees where and how wide.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from lxml import etree

from smartspaces.events import Alert, Level, SmartSpace

MARKER_TYPE = "b-m-p-s-m"
"""A spot map marker: TAK shows it as a coloured point with the remarks on tap."""
DELETE_TYPE = "t-x-d-d"
"""ATAK's delete task: removes the linked marker from the map."""
UID_PREFIX = "smartspaces."
HOW = "m-g"  # machine-generated: the point comes from the space's geometry, not from a person
UNKNOWN = "9999999.0"  # CoT's value for an unknown height or linear error
_ARGB = {  # TAK colours as signed 32-bit ARGB integers, as ATAK writes them
    Level.NORMAL: -16711936,  # green
    Level.AMBER: -23296,  # orange
    Level.RED: -65536,  # red
    Level.CRITICAL: -65281,  # magenta: distinct from red at a glance
}


def cot_uid(alert: Alert) -> str:
    """The marker's uid: the same for an alert, its updates and its cancellation."""
    first = alert.references[0] if alert.references else alert.id
    return f"{UID_PREFIX}{first}"


def cot_time(when: datetime) -> str:
    """A CoT timestamp: UTC, milliseconds, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def cot_event(alert: Alert, space: SmartSpace, stale_after_s: float = 3600.0) -> bytes:
    """The CoT event (UTF-8 XML) that shows ``alert`` on TAK maps, or removes it for a Cancel.

    ``time`` and ``start`` are when the alert was issued; ``stale`` is ``stale_after_s`` later
    (a marker nobody refreshes fades out rather than lingering after a lost Cancel)."""
    issued = alert.received_at
    cancel = alert.msg_type == "Cancel"
    uid = cot_uid(alert)
    event, detail = _skeleton(uid, MARKER_TYPE, cancel, space, issued, stale_after_s)
    etree.SubElement(detail, "contact", callsign=f"{alert.level.value.upper()} {space.name}")
    remarks = etree.SubElement(detail, "remarks")
    remarks.text = " ".join(t for t in (alert.headline, alert.instruction) if t)
    etree.SubElement(detail, "color", argb=str(_ARGB[alert.level]))
    # our own element: TAK clients keep unknown detail children, our tools read them back
    etree.SubElement(
        detail,
        "smartspaces",
        alert_id=alert.id,
        msg_type=alert.msg_type,
        level=alert.level.value,
        severity=alert.severity,
        urgency=alert.urgency,
        space_id=alert.space_id,
    )
    return bytes(etree.tostring(event, xml_declaration=True, encoding="UTF-8", standalone=True))


UNIT_TYPE = "a-f-G-U"
"""A friendly ground unit: TAK draws it with the blue friendly frame."""


def unit_uid(unit_id: str) -> str:
    """A unit's uid on TAK maps: the same for every update of that unit."""
    return f"{UID_PREFIX}unit.{unit_id}"


def cot_unit_event(
    unit_id: str,
    incident_id: str,
    space: SmartSpace,
    at: datetime,
    released: bool = False,
    stale_after_s: float = 3600.0,
) -> bytes:
    """A unit assigned to an incident, shown at the incident's space (units report no position
    to us; their own TAK devices do that). A released unit's marker is deleted."""
    uid = unit_uid(unit_id)
    event, detail = _skeleton(uid, UNIT_TYPE, released, space, at, stale_after_s)
    etree.SubElement(detail, "contact", callsign=unit_id)
    remarks = etree.SubElement(detail, "remarks")
    remarks.text = f"{'released from' if released else 'assigned to'} {incident_id} at {space.name}"
    etree.SubElement(
        detail, "smartspaces", unit_id=unit_id, incident_id=incident_id, space_id=space.id
    )
    return bytes(etree.tostring(event, xml_declaration=True, encoding="UTF-8", standalone=True))


def _skeleton(
    uid: str, kind: str, delete: bool, space: SmartSpace, at: datetime, stale_after_s: float
) -> tuple[etree._Element, etree._Element]:
    """The event, its point and its (empty) detail: at the space's centroid, with a circular
    error as large as the space. A delete is ATAK's delete task, linked to the marker's uid."""
    event = etree.Element(
        "event",
        version="2.0",
        uid=f"{uid}.delete" if delete else uid,
        type=DELETE_TYPE if delete else kind,
        how=HOW,
        time=cot_time(at),
        start=cot_time(at),
        stale=cot_time(at + timedelta(seconds=stale_after_s)),
    )
    lon, lat = space.centroid.coordinates
    etree.SubElement(
        event,
        "point",
        lat=f"{lat:.7f}",
        lon=f"{lon:.7f}",
        hae=UNKNOWN,
        ce=f"{math.sqrt(space.area_m2 / math.pi):.1f}",  # radius of a circle as large as the space
        le=UNKNOWN,
    )
    detail = etree.SubElement(event, "detail")
    if delete:
        etree.SubElement(detail, "link", uid=uid, relation="none", type=kind)
        etree.SubElement(detail, "__forcedelete")
    return event, detail
