"""CAP 1.2 out: an ``Alert`` and its ``SmartSpace`` as CAP, one info block per language."""

# Pure: no clock is read. A message's ``sent`` is the alert's ``received_at``, the injected time at
# which the policy issued it, so rendering the same alert twice gives the same XML and a later
# Update or Cancel can cite it as CAP wants (``sender,identifier,sent``).

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta

from smartspaces.events import Alert, Level, SmartSpace
from smartspaces.respond.alerts.cap_model import (
    CapArea,
    CapCategory,
    CapCircle,
    CapInfo,
    CapMessage,
    CapReference,
    CapResponseType,
    CapScope,
    LatLon,
    NamedValue,
)
from smartspaces.respond.alerts.cap_texts import wording
from smartspaces.respond.alerts.cap_xml import to_bytes
from smartspaces.respond.alerts.errors import AlertFormatError
from smartspaces.respond.alerts.settings import AlertFormatSettings, Audience

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for the radius of a space's CAP circle."""

SCOPES: dict[Audience, CapScope] = {
    "public": "Public",
    "agencies": "Restricted",
    "operators": "Private",
}
# The first part of an alert type names the detector family that raised it.
CATEGORIES: dict[str, tuple[CapCategory, ...]] = {
    "crowd": ("Safety",),
    "video": ("Safety", "Security"),
    "cyber": ("Security", "Infra"),
    "fusion": ("Safety", "Security"),
}
# The public is told to avoid or leave; responders are told to prepare or act.
PUBLIC_RESPONSE: dict[Level, tuple[CapResponseType, ...]] = {
    Level.AMBER: ("Avoid",),
    Level.RED: ("Avoid",),
    Level.CRITICAL: ("Evacuate",),
    Level.NORMAL: ("AllClear",),
}
RESPONDER_RESPONSE: dict[Level, tuple[CapResponseType, ...]] = {
    Level.AMBER: ("Prepare", "Monitor"),
    Level.RED: ("Execute",),
    Level.CRITICAL: ("Execute", "Evacuate"),
    Level.NORMAL: ("AllClear",),
}


def cap_xml(
    alert: Alert,
    space: SmartSpace,
    settings: AlertFormatSettings,
    audience: Audience = "public",
    referenced: Iterable[Alert] = (),
) -> bytes:
    """The alert as a CAP 1.2 XML document (UTF-8)."""
    return to_bytes(cap_message(alert, space, settings, audience, referenced))


def cap_message(
    alert: Alert,
    space: SmartSpace,
    settings: AlertFormatSettings,
    audience: Audience = "public",
    referenced: Iterable[Alert] = (),
) -> CapMessage:
    """The alert as a CAP message for ``audience``; ``referenced`` holds the alerts it updates or
    cancels (their sent times are part of CAP's references)."""
    if alert.space_id != space.id:
        raise AlertFormatError(f"alert {alert.id} concerns {alert.space_id}, not {space.id}")
    scope = SCOPES[audience]
    return CapMessage(
        identifier=alert.id,
        sender=settings.sender,
        sent=alert.received_at,
        status=settings.status,
        msg_type=alert.msg_type,
        source=alert.source,
        scope=scope,
        restriction=settings.restriction if scope == "Restricted" else None,
        addresses=_addresses(settings.operator_addresses) if scope == "Private" else None,
        references=_references(alert, settings, referenced),
        infos=_infos(alert, space, settings, audience),
    )


def _addresses(addresses: tuple[str, ...]) -> str:
    # CAP separates addresses by spaces and quotes those that contain one.
    return " ".join(f'"{a}"' if " " in a else a for a in addresses)


def _references(
    alert: Alert, settings: AlertFormatSettings, referenced: Iterable[Alert]
) -> tuple[CapReference, ...]:
    known = {a.id: a for a in referenced}
    refs = []
    for ref_id in alert.references:
        earlier = known.get(ref_id)
        if earlier is None:
            raise AlertFormatError(
                f"alert {alert.id} references {ref_id}, not given: CAP needs its sent time"
            )
        refs.append(
            CapReference(sender=settings.sender, identifier=ref_id, sent=earlier.received_at)
        )
    return tuple(refs)


def _infos(
    alert: Alert, space: SmartSpace, settings: AlertFormatSettings, audience: Audience
) -> tuple[CapInfo, ...]:
    public = audience == "public"
    fallback = CapInfo(
        language="en",
        categories=CATEGORIES.get(alert.alert_type.split(".", 1)[0], ("Other",)),
        event=alert.alert_type,
        response_types=(PUBLIC_RESPONSE if public else RESPONDER_RESPONSE)[alert.level],
        urgency=alert.urgency,
        severity=alert.severity,
        certainty=alert.certainty,
        event_codes=(NamedValue(value_name="smartspaces:alert_type", value=alert.alert_type),),
        effective=alert.received_at,
        onset=alert.observed_at,
        expires=alert.received_at + timedelta(seconds=settings.expires_after_s),
        sender_name=settings.sender_name,
        headline=alert.headline,
        description=alert.description or None,
        instruction=alert.instruction or None,
        web=settings.web,
        parameters=(
            NamedValue(value_name="smartspaces:level", value=alert.level.value),
            NamedValue(value_name="smartspaces:space_id", value=space.id),
        ),
        areas=(_area(space, settings),),
    )
    infos = []
    for language in settings.languages:
        words = wording(alert.alert_type, language, alert.level)
        if words is None:
            continue
        instruction = words.public_instruction if public else words.responder_instruction
        update = {
            "language": language,
            "event": words.event,
            "headline": words.headline.format(space=space.name),
            "description": _description(words.description.format(space=space.name), alert),
            "instruction": instruction.format(space=space.name),
        }
        infos.append(fallback.model_copy(update=update))
    # No wording for this type: the alert's own (English) words, once, rather than a translation
    # nobody checked.
    return tuple(infos) or (fallback,)


def _description(text: str, alert: Alert) -> str:
    # The measured reasons (e.g. "density 4.3 p/m2") are figures that read in any language.
    return f"{text} ({alert.description})" if alert.description else text


def _area(space: SmartSpace, settings: AlertFormatSettings) -> CapArea:
    ring = _cap_ring(space)
    polygons = (ring,) if settings.area_shapes in ("polygon", "both") else ()
    circles = (_circle(space, ring),) if settings.area_shapes in ("circle", "both") else ()
    return CapArea(area_desc=space.name, polygons=polygons, circles=circles)


def _cap_ring(space: SmartSpace) -> tuple[LatLon, ...]:
    """The outer ring in CAP's latitude-first order, closed (CAP polygons have no holes)."""
    ring = [(round(lat, 7), round(lon, 7)) for lon, lat in space.geometry.coordinates[0]]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    if len(ring) < 4:
        raise AlertFormatError(f"space {space.id} has no polygon CAP can draw (under 4 points)")
    return tuple(ring)


def _circle(space: SmartSpace, ring: tuple[LatLon, ...]) -> CapCircle:
    """The smallest circle around the centroid that holds every vertex, rounded up to a metre."""
    lon0, lat0 = space.centroid.coordinates
    radius = max(_haversine_km(lat0, lon0, lat, lon) for lat, lon in ring)
    return CapCircle(
        lat=round(lat0, 7), lon=round(lon0, 7), radius_km=math.ceil(radius * 1000) / 1000
    )


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
