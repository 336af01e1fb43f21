"""The event language: typed, frozen, versioned events that every stage speaks.

Every event has a deterministic id derived from what identifies it (never from when it was
received), so a replayed or retried input yields the same id and every consumer can be
idempotent. ``derived_from`` lists the ids of the events an event was computed from: any alert can
be explained back to the observations behind it. Units are SI and named in field names.

This module imports nothing of ours: it is the vocabulary the rest is written in.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

SCHEMA_VERSION = 1

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")]
"""Ids of spaces, sensors, sources: short, printable, safe in subjects, URLs and file names."""

SpaceId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_:\-]{0,127}$")]
"""Ids of smart spaces: no dots, since a space id is one token of a bus subject."""

Quantity = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
"""A measured quantity whose name ends with its unit, e.g. ``entries_count``, ``noise_laeq_dba``."""


def derive_id(prefix: str, *parts: object) -> str:
    """Return a stable id for the given identifying parts (same parts, same id, always)."""
    text = "\x1f".join([p.isoformat() if isinstance(p, datetime) else str(p) for p in parts])
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


class Level(StrEnum):
    """The alert ladder shared by detections, risk and alerts, from calm to critical."""

    NORMAL = "normal"
    AMBER = "amber"
    RED = "red"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NORMAL: 0, Level.AMBER: 1, Level.RED: 2, Level.CRITICAL: 3}

AttributeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
AttributeValue = str | float | int | bool
"""Detection evidence: short named values (units in the name, as everywhere)."""

LevelOfService = Literal["A", "B", "C", "D", "E", "F"]
"""Fruin level of service, A (free) to F (jammed)."""


class GeoPoint(BaseModel):
    """A WGS84 point as GeoJSON (longitude first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["Point"] = "Point"
    coordinates: tuple[
        Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)],
        Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)],
    ]


class GeoPolygon(BaseModel):
    """A WGS84 polygon as GeoJSON: an outer ring, then holes; each ring closed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["Polygon"] = "Polygon"
    coordinates: tuple[tuple[tuple[float, float], ...], ...]


class SmartSpace(BaseModel):
    """A public space the platform watches: a square, a street, a station hall."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: SpaceId
    name: str = Field(min_length=1, max_length=200)
    space_type: Literal["square", "street", "station", "venue", "zone"] = "zone"
    area_m2: float = Field(
        gt=0, allow_inf_nan=False, description="Walkable area, metric projection"
    )
    geometry: GeoPolygon
    centroid: GeoPoint
    neighbours: tuple[SpaceId, ...] = ()
    attribution: str = ""


DeviceKind = Literal[
    "people_counter", "camera", "noise_sensor", "environment_sensor", "gateway", "other"
]


class Device(BaseModel):
    """A registered device: what it is, where, what it measures; its token only as a hash.

    A gateway may report for the devices whose ``gateway_id`` names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    kind: DeviceKind
    space_id: SpaceId = Field(description="The smart space the device serves")
    quantities: tuple[Quantity, ...] = Field(default=(), description="What it measures (SI)")
    expected_interval_s: float | None = Field(default=None, gt=0, le=7 * 86_400)
    location: GeoPoint | None = None
    gateway_id: Identifier | None = Field(default=None, description="Gateway that relays it")
    status: Literal["active", "disabled"] = "active"
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", repr=False)
    name: str = Field(default="", max_length=200)


class _Event(BaseModel):
    """Fields every event carries; subclasses say what identifies them in ``_identity``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    id_prefix: ClassVar[str] = "evt"
    _defaults: ClassVar[tuple[tuple[str, Any], ...]] = ()

    id: str = ""
    schema_version: int = SCHEMA_VERSION
    source: Identifier
    space_id: SpaceId
    observed_at: AwareDatetime
    received_at: AwareDatetime
    location: GeoPoint | None = None
    derived_from: tuple[str, ...] = ()

    def _identity(self) -> tuple[object, ...]:
        """What makes two events the same event; concrete kinds narrow it down further."""
        return (self.source, self.space_id, self.observed_at)

    @classmethod
    def from_validated(cls, **values: Any) -> Self:
        """Build an event from values that were already checked against this model's field
        constraints (an edge's wire model does that), without validating them a second time.

        This is the ingest hot path: full validation costs more than the rest of the pipeline.
        ``id`` must be given and ``observed_at``/``received_at`` must already be in UTC.
        """
        # in field order: the JSON form follows the order of the dict
        return cls.from_validated_dict(
            {name: values[name] if name in values else default for name, default in cls._defaults}
        )

    @classmethod
    def from_validated_dict(cls, data: dict[str, Any]) -> Self:
        """Like ``from_validated`` for a dict that already holds every field in declared order
        (the dict is taken over, not copied)."""
        event = cls.__new__(cls)
        object.__setattr__(event, "__dict__", data)
        object.__setattr__(event, "__pydantic_fields_set__", set(data))
        object.__setattr__(event, "__pydantic_extra__", None)
        object.__setattr__(event, "__pydantic_private__", None)
        return event

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._defaults = tuple(
            (name, None if field.is_required() else field.get_default(call_default_factory=True))
            for name, field in cls.model_fields.items()
        )

    @model_validator(mode="after")
    def _normalise(self) -> _Event:
        # Times are kept in UTC whatever offset they arrived with; the id is filled in from the
        # identity when the caller did not give one. object.__setattr__ because models are frozen.
        for name in ("observed_at", "received_at"):
            value: datetime = getattr(self, name)
            if value.utcoffset() != UTC.utcoffset(None):
                object.__setattr__(self, name, value.astimezone(UTC))
        if not self.id:
            object.__setattr__(self, "id", derive_id(self.id_prefix, *self._identity()))
        return self


class Observation(_Event):
    """One reading of one quantity by one sensor (a counter's entries over an interval, say)."""

    id_prefix: ClassVar[str] = "obs"
    kind: Literal["observation"] = "observation"
    sensor_id: Identifier
    quantity: Quantity
    value: float
    interval_s: float | None = Field(default=None, gt=0, le=86_400)

    def _identity(self) -> tuple[object, ...]:
        return (self.source, self.space_id, self.sensor_id, self.quantity, self.observed_at)

    @staticmethod
    def make_id(source: str, space_id: str, sensor_id: str, quantity: str, at: datetime) -> str:
        """The id ``_identity`` gives, computed directly (same result, for the hot path)."""
        text = f"{source}\x1f{space_id}\x1f{sensor_id}\x1f{quantity}\x1f{at.isoformat()}"
        return f"obs-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


class CrowdState(BaseModel):
    """The crowd in a space at one moment, as the detect stage measured it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    occupancy_persons: float = Field(ge=0)
    area_m2: float = Field(gt=0)
    density_p_m2: float = Field(ge=0)
    level_of_service: LevelOfService
    inflow_p_s: float = Field(default=0.0, ge=0)
    outflow_p_s: float = Field(default=0.0, ge=0)


class Detection(_Event):
    """Something a detector found worth attention, with the level it reached."""

    id_prefix: ClassVar[str] = "det"
    kind: Literal["detection"] = "detection"
    detector: Identifier
    detection_type: Identifier
    level: Level
    confidence: float = Field(default=1.0, ge=0, le=1)
    summary: str = Field(default="", max_length=2000)
    crowd: CrowdState | None = None
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict,
        max_length=32,
        description="Typed evidence for fusion and operators (e.g. asset_id, target_ip, "
        "heading_deg, count_persons); never personal data",
    )

    def _identity(self) -> tuple[object, ...]:
        return (self.detector, self.detection_type, self.space_id, self.observed_at, self.level)


class Situation(_Event):
    """Several detections understood together (JDL level 2 or 3), evolving over time."""

    id_prefix: ClassVar[str] = "sit"
    kind: Literal["situation"] = "situation"
    situation_type: Identifier
    level: Level
    jdl_level: Literal[1, 2, 3] = 2
    confidence: float = Field(default=1.0, ge=0, le=1)
    summary: str = Field(default="", max_length=2000)
    started_at: AwareDatetime

    def _identity(self) -> tuple[object, ...]:
        return (self.situation_type, self.space_id, self.started_at, self.observed_at, self.level)


class RiskLevel(_Event):
    """The live risk of a smart space (or of an infrastructure asset serving it)."""

    id_prefix: ClassVar[str] = "risk"
    kind: Literal["risk_level"] = "risk_level"
    level: Level
    score: float = Field(ge=0, le=1)
    asset_id: Identifier | None = None
    reasons: tuple[str, ...] = ()
    grade: int | None = Field(
        default=None, ge=1, le=5, description="Risk on the 1 (low) to 5 (extreme) scale"
    )

    def _identity(self) -> tuple[object, ...]:
        return (self.space_id, self.asset_id or "", self.observed_at, self.level)


AlertSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
AlertUrgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
AlertCertainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]


class Alert(_Event):
    """A warning for people to act on; its fields follow CAP 1.2 so it can be exported as is."""

    id_prefix: ClassVar[str] = "alert"
    kind: Literal["alert"] = "alert"
    alert_type: Identifier
    level: Level
    msg_type: Literal["Alert", "Update", "Cancel"] = "Alert"
    references: tuple[str, ...] = ()
    severity: AlertSeverity
    urgency: AlertUrgency
    certainty: AlertCertainty
    headline: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    instruction: str = Field(default="", max_length=4000)

    def _identity(self) -> tuple[object, ...]:
        return (self.alert_type, self.space_id, self.observed_at, self.msg_type, self.level)


class IncidentStatus(StrEnum):
    """Where an incident stands, from first report to closure."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Incident(_Event):
    """Something people handle: opened from alerts, moved through its lifecycle by operators."""

    id_prefix: ClassVar[str] = "inc"
    kind: Literal["incident"] = "incident"
    title: str = Field(min_length=1, max_length=300)
    status: IncidentStatus = IncidentStatus.NEW
    level: Level

    def _identity(self) -> tuple[object, ...]:
        return (self.space_id, self.observed_at, self.title)


class IncidentStateChanged(_Event):
    """One step of an incident's lifecycle, by whom and why."""

    id_prefix: ClassVar[str] = "incst"
    kind: Literal["incident_state_changed"] = "incident_state_changed"
    incident_id: str
    from_status: IncidentStatus
    to_status: IncidentStatus
    actor: Identifier
    note: str = Field(default="", max_length=4000)

    def _identity(self) -> tuple[object, ...]:
        return (self.incident_id, self.observed_at, self.from_status, self.to_status)


AnyEvent = Observation | Detection | Situation | RiskLevel | Alert | Incident | IncidentStateChanged
Event = Annotated[AnyEvent, Field(discriminator="kind")]
EventKind = Literal[
    "observation",
    "detection",
    "situation",
    "risk_level",
    "alert",
    "incident",
    "incident_state_changed",
]
EVENT_KINDS: tuple[str, ...] = (
    "observation",
    "detection",
    "situation",
    "risk_level",
    "alert",
    "incident",
    "incident_state_changed",
)
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def event_from_json(data: bytes | str) -> AnyEvent:
    """Parse one event of any kind from its JSON wire form (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_json(data)  # type: ignore[no-any-return]


def subject_for(event: AnyEvent) -> str:
    """The bus subject of an event: ``ss.<kind>.<space_id>`` (the space is the partition key)."""
    return f"ss.{event.kind}.{event.space_id}"


def utcnow() -> datetime:
    """The current time, aware and in UTC (only the system clock should call this)."""
    return datetime.now(UTC)
