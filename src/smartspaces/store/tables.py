"""Table rows of the store (SQLAlchemy 2), kept apart from the wire models in events.py.

Every event table keeps the event's full JSON (``payload``) so that nothing the wire carried is
lost, plus the columns queries filter on. Times are stored as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UtcDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of every table; ``Base.metadata`` is what Alembic migrates."""


class SpaceRow(Base):
    __tablename__ = "spaces"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    space_type: Mapped[str] = mapped_column(String(32))
    area_m2: Mapped[float] = mapped_column(Float)
    payload: Mapped[str] = mapped_column(Text, doc="The SmartSpace as JSON")


class SpaceStatusRow(Base):
    """The live state of each space: the latest crowd measure and risk level (a projection)."""

    __tablename__ = "space_status"

    space_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    occupancy_persons: Mapped[float | None] = mapped_column(Float, nullable=True)
    density_p_m2: Mapped[float | None] = mapped_column(Float, nullable=True)
    level_of_service: Mapped[str | None] = mapped_column(String(1), nullable=True)
    risk_level: Mapped[str] = mapped_column(String(16), default="normal")
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)


class _EventColumns:
    """Columns shared by every event table."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(128), index=True)
    source: Mapped[str] = mapped_column(String(128))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    derived_from: Mapped[list[str]] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text, doc="The event as JSON, exactly as published")


class ObservationRow(_EventColumns, Base):
    """By far the biggest table. On PostgreSQL it is range-partitioned on ``observed_at``
    (``store.partitions``), so retention drops whole partitions; a partitioned table's key must
    hold the partition key, hence ``(id, observed_at)``: an id always carries the same time, so
    it is as unique as the id. SQLite keeps one table keyed by ``id`` (migration 0012)."""

    __tablename__ = "observations"

    id: Mapped[str] = mapped_column(String(64))  # the key is (id, observed_at), see below
    sensor_id: Mapped[str] = mapped_column(String(128))
    quantity: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        PrimaryKeyConstraint("id", "observed_at", name="observations_pkey"),
        Index("ix_observations_sensor_time", "sensor_id", "observed_at"),
        {"postgresql_partition_by": "RANGE (observed_at)"},
    )


class DetectionRow(_EventColumns, Base):
    __tablename__ = "detections"

    detection_type: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))


class SituationRow(_EventColumns, Base):
    __tablename__ = "situations"

    situation_type: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))


class RiskLevelRow(_EventColumns, Base):
    __tablename__ = "risk_levels"

    level: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)


class AlertRow(_EventColumns, Base):
    __tablename__ = "alerts"

    alert_type: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16))
    msg_type: Mapped[str] = mapped_column(String(16))


class IncidentRow(_EventColumns, Base):
    __tablename__ = "incidents"

    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))


class IncidentChangeRow(_EventColumns, Base):
    __tablename__ = "incident_changes"

    incident_id: Mapped[str] = mapped_column(String(64), index=True)
    to_status: Mapped[str] = mapped_column(String(32))


class DeadLetterRow(Base):
    """Input we could not accept, with the reason: nothing is dropped silently."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    adapter: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, doc="The rejected input, cut to a bounded size")
    payload_bytes: Mapped[int] = mapped_column(Integer, doc="Size of the input before cutting")
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DeviceRow(Base):
    """A registered device; the token is kept only as its SHA-256 hash."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    payload: Mapped[str] = mapped_column(Text, doc="The Device as JSON")


class NgsiEntityRow(Base):
    """The last state of each NGSI-LD entity received (for create/upsert/patch semantics)."""

    __tablename__ = "ngsi_entities"

    id: Mapped[str] = mapped_column(String(256), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[str] = mapped_column(Text, doc="Key-values form, as JSON")


class AuditRow(Base):
    """Append-only audit trail; each row's hash covers the previous row's hash (a chain)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


EVENT_TABLES: dict[str, type[_EventColumns]] = {
    "observation": ObservationRow,
    "detection": DetectionRow,
    "situation": SituationRow,
    "risk_level": RiskLevelRow,
    "alert": AlertRow,
    "incident": IncidentRow,
    "incident_state_changed": IncidentChangeRow,
}
"""Which table holds which event kind (the registry the store writes through)."""


class IncidentCaseRow(Base):
    """The live state of each incident case (a projection the incident service rewrites).

    ``payload`` holds the whole case (units, notes, measures, timeline) as the respond stage
    serialised it; ``version`` rises by one per change so that two operators changing the same
    case at once cannot overwrite each other (the second write is refused and retried)."""

    __tablename__ = "incident_cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text, doc="The case as JSON")


class IncidentAlertRow(Base):
    """Which incident handles which alert: an alert belongs to one incident at most."""

    __tablename__ = "incident_alerts"

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(64), index=True)
