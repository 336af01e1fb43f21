"""Every attempt to deliver an alert (or a unit) to a partner system: webhook, MQTT or TAK."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Engine, Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartspaces.store.tables import Base, UtcDateTime


class DeliveryAttemptRow(Base):
    """One attempt; a delivery's attempts share its ``delivery_id``."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(64), index=True)
    subject_id: Mapped[str] = mapped_column(String(64), index=True, doc="Alert (or unit) id")
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(300))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True, doc="HTTP status")
    error: Mapped[str] = mapped_column(Text)
    elapsed_ms: Mapped[float] = mapped_column(Float)
    delivered: Mapped[bool] = mapped_column(Boolean, doc="Whether this attempt got it there")


@dataclass(frozen=True)
class AttemptRecord:
    """What the store keeps of one attempt (transport-neutral)."""

    delivery_id: str
    subject_id: str
    channel: str
    target: str
    attempt: int
    at: datetime
    status: int | None
    error: str
    elapsed_ms: float
    delivered: bool


class DeliveryRepository:
    """Attempts written once each (a repeated write of the same attempt is ignored)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, attempts: Sequence[AttemptRecord]) -> None:
        with Session(self._engine) as session, session.begin():
            for a in attempts:
                exists = session.scalar(
                    select(DeliveryAttemptRow.id).where(
                        DeliveryAttemptRow.delivery_id == a.delivery_id,
                        DeliveryAttemptRow.attempt == a.attempt,
                        DeliveryAttemptRow.at == a.at,
                    )
                )
                if exists is None:
                    session.add(DeliveryAttemptRow(**a.__dict__))

    def for_subject(self, subject_id: str) -> list[AttemptRecord]:
        """Every attempt made for an alert (or unit event), oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(DeliveryAttemptRow)
                .where(DeliveryAttemptRow.subject_id == subject_id)
                .order_by(DeliveryAttemptRow.at, DeliveryAttemptRow.id)
            )
            return [_record(r) for r in rows]


def _record(row: DeliveryAttemptRow) -> AttemptRecord:
    return AttemptRecord(
        row.delivery_id,
        row.subject_id,
        row.channel,
        row.target,
        row.attempt,
        row.at,
        row.status,
        row.error,
        row.elapsed_ms,
        row.delivered,
    )
