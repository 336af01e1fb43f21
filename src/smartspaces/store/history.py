"""Read models for the operators' screen: a space's density over time, each device's last word.

Plain functions over an ``Engine`` (the store's ``store.engine``), synchronous like the store;
async callers run them in a worker thread. They only read.

Density is rebuilt from the stored counter observations the same way the crowd stage keeps it
(``occupancy_persons`` sets the count, ``entries_count`` / ``exits_count`` move it, never below
zero), so the chart shows what the detectors saw, not a second estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from smartspaces.store.tables import DetectionRow, ObservationRow

COUNT_QUANTITIES = ("entries_count", "exits_count", "occupancy_persons")
"""The quantities a space's occupancy is made of (as in ``detect.crowd.density``)."""

MAX_POINTS = 360
"""At most this many points per series: one per ``window / MAX_POINTS`` (10 s for an hour)."""

MAX_REPLAY_ROWS = 500_000
"""A bound on the observations replayed for one series (a counter-only space's running
balance starts at its first reading; a camera's absolute count restarts it)."""


@dataclass(frozen=True, slots=True)
class DensityPoint:
    """The occupancy at the end of one time bucket."""

    at: datetime
    occupancy_persons: float


@dataclass(frozen=True, slots=True)
class DeviceActivity:
    """When a device was last heard, and its latest health report (``device_*`` quantities)."""

    sensor_id: str
    space_id: str
    last_seen_at: datetime
    readings: int
    health_quantity: str | None = None
    health_value: float | None = None
    health_at: datetime | None = None


def occupancy_series(
    engine: Engine, space_id: str, since: datetime, until: datetime
) -> list[DensityPoint]:
    """The space's occupancy from ``since`` to ``until``, one point per bucket (at most
    ``MAX_POINTS``), each the occupancy after the bucket's last reading; buckets without a
    reading are left out."""
    anchor = _last_absolute_count_before(engine, space_id, since)
    query = (
        select(ObservationRow.observed_at, ObservationRow.quantity, ObservationRow.value)
        .where(
            ObservationRow.space_id == space_id,
            ObservationRow.quantity.in_(COUNT_QUANTITIES),
            ObservationRow.observed_at <= until,
        )
        .order_by(ObservationRow.observed_at, ObservationRow.id)
        .limit(MAX_REPLAY_ROWS)
    )
    if anchor is not None:
        query = query.where(ObservationRow.observed_at >= anchor)
    bucket_s = max((until - since).total_seconds() / MAX_POINTS, 1.0)
    occupancy = 0.0
    points: dict[int, DensityPoint] = {}
    with Session(engine) as session:
        for observed_at, quantity, value in session.execute(query):
            amount = value if value > 0 else 0.0
            if quantity == "occupancy_persons":
                occupancy = amount
            elif quantity == "entries_count":
                occupancy += amount
            else:
                occupancy = max(occupancy - amount, 0.0)
            at = _aware(observed_at)
            if at >= since:
                bucket = int((at - since).total_seconds() // bucket_s)
                points[bucket] = DensityPoint(at, occupancy)
    return [points[b] for b in sorted(points)]


def latest_forecasts(engine: Engine, space_id: str, since: datetime, limit: int = 5) -> list[str]:
    """Summaries of the space's newest red forecasts since ``since`` (newest first)."""
    query = (
        select(DetectionRow.payload)
        .where(
            DetectionRow.space_id == space_id,
            DetectionRow.detection_type == "crowd.red_forecast",
            DetectionRow.observed_at >= since,
        )
        .order_by(DetectionRow.observed_at.desc())
        .limit(limit)
    )
    with Session(engine) as session:
        return [_summary(p) for p in session.scalars(query)]


def device_activity(engine: Engine, limit: int = 500) -> list[DeviceActivity]:
    """Every sensor that ever reported: when it was last heard, how many readings are stored,
    and its newest health report if it has one; the longest silent first."""
    heard = (
        select(
            ObservationRow.sensor_id,
            func.max(ObservationRow.space_id),
            func.max(ObservationRow.observed_at),
            func.count(),
        )
        .where(~ObservationRow.quantity.startswith("device_"))
        .group_by(ObservationRow.sensor_id)
        .order_by(func.max(ObservationRow.observed_at))
        .limit(limit)
    )
    newest = (
        select(ObservationRow.sensor_id, func.max(ObservationRow.observed_at).label("at"))
        .where(ObservationRow.quantity.startswith("device_"))
        .group_by(ObservationRow.sensor_id)
        .subquery()
    )
    health_query = select(
        ObservationRow.sensor_id,
        ObservationRow.quantity,
        ObservationRow.value,
        ObservationRow.observed_at,
    ).join(
        newest,
        (ObservationRow.sensor_id == newest.c.sensor_id)
        & (ObservationRow.observed_at == newest.c.at)
        & ObservationRow.quantity.startswith("device_"),
    )
    with Session(engine) as session:
        health = {row[0]: row for row in session.execute(health_query)}
        found = []
        for sensor_id, space_id, last_at, readings in session.execute(heard):
            report = health.get(sensor_id)
            found.append(
                DeviceActivity(
                    sensor_id=sensor_id,
                    space_id=space_id,
                    last_seen_at=_aware(last_at),
                    readings=int(readings),
                    health_quantity=report[1] if report else None,
                    health_value=report[2] if report else None,
                    health_at=_aware(report[3]) if report else None,
                )
            )
    return found


def _last_absolute_count_before(engine: Engine, space_id: str, since: datetime) -> datetime | None:
    query = select(func.max(ObservationRow.observed_at)).where(
        ObservationRow.space_id == space_id,
        ObservationRow.quantity == "occupancy_persons",
        ObservationRow.observed_at <= since,
    )
    with Session(engine) as session:
        found = session.scalar(query)
    return _aware(found) if found is not None else None


def _summary(payload: str) -> str:
    # the stored JSON is the event as published; only its summary is shown
    value = json.loads(payload).get("summary", "")
    return str(value)


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
