"""A CAP message as typed values: what we build for CAP out and what CAP in parses into."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from smartspaces.events import AlertCertainty, AlertSeverity, AlertUrgency

CapVersion = Literal["1.0", "1.1", "1.2"]
NAMESPACES: dict[CapVersion, str] = {
    "1.0": "http://www.incident.com/cap/1.0",
    "1.1": "urn:oasis:names:tc:emergency:cap:1.1",
    "1.2": "urn:oasis:names:tc:emergency:cap:1.2",
}
VERSIONS: dict[str, CapVersion] = {ns: version for version, ns in NAMESPACES.items()}

CapCategory = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "CBRNE", "Other",
]  # fmt: skip
CapResponseType = Literal[
    "Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"
]
CapMsgType = Literal["Alert", "Update", "Cancel", "Ack", "Error"]
CapScope = Literal["Public", "Restricted", "Private"]
LatLon = tuple[float, float]


class _Cap(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class NamedValue(_Cap):
    """A CAP valueName/value pair (eventCode, parameter, geocode)."""

    value_name: str
    value: str


class CapReference(_Cap):
    """One earlier message a message refers to: CAP's ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: AwareDatetime


class CapCircle(_Cap):
    """A CAP circle: centre (WGS84 latitude, longitude) and radius in kilometres."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(ge=0)


class CapArea(_Cap):
    """A CAP area: its description and the polygons (rings of latitude, longitude) and circles."""

    area_desc: str
    polygons: tuple[tuple[LatLon, ...], ...] = ()
    circles: tuple[CapCircle, ...] = ()
    geocodes: tuple[NamedValue, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None


class CapResource(_Cap):
    """A file that goes with a CAP message (an image, a map), referenced by URI or embedded."""

    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


class CapInfo(_Cap):
    """One CAP info block: the event described in one language for one audience."""

    language: str | None = None
    categories: tuple[CapCategory, ...] = Field(min_length=1)
    event: str
    response_types: tuple[CapResponseType, ...] = ()
    urgency: AlertUrgency
    severity: AlertSeverity
    certainty: AlertCertainty
    audience: str | None = None
    event_codes: tuple[NamedValue, ...] = ()
    effective: AwareDatetime | None = None
    onset: AwareDatetime | None = None
    expires: AwareDatetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[NamedValue, ...] = ()
    resources: tuple[CapResource, ...] = ()
    areas: tuple[CapArea, ...] = ()


class CapMessage(_Cap):
    """A whole CAP alert message. Optional elements that were present but empty are ``""``."""

    version: CapVersion = "1.2"
    identifier: str
    sender: str
    sent: AwareDatetime
    status: Literal["Actual", "Exercise", "System", "Test", "Draft"]
    msg_type: CapMsgType
    source: str | None = None
    scope: CapScope
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[CapReference, ...] = ()
    incidents: str | None = None
    infos: tuple[CapInfo, ...] = ()


def format_cap_time(value: datetime, version: CapVersion = "1.2") -> str:
    """A CAP time: CAP 1.2 wants whole seconds and a numeric offset (``+00:00``, never ``Z``)."""
    if version == "1.2":
        value = value.replace(microsecond=0)
    return value.isoformat()


def format_number(value: float) -> str:
    """A coordinate as CAP writes it: plain decimal, never exponent notation, exact round trip."""
    text = repr(value)
    if "e" in text or "E" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "-0.0") else text.removesuffix(".0")


def format_reference(ref: CapReference, version: CapVersion = "1.2") -> str:
    return f"{ref.sender},{ref.identifier},{format_cap_time(ref.sent, version)}"


def format_polygon(ring: tuple[LatLon, ...]) -> str:
    return " ".join(f"{format_number(lat)},{format_number(lon)}" for lat, lon in ring)


def format_circle(circle: CapCircle) -> str:
    centre = f"{format_number(circle.lat)},{format_number(circle.lon)}"
    return f"{centre} {format_number(circle.radius_km)}"
