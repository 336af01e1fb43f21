"""Validation of observations arriving from outside, item by item, with a reason for each reject.

Pure: the caller gives the parsed items, the known spaces and ``now``; valid items become
Observations, invalid ones come back with a reason a sender can act on. One bad item never
costs the valid ones beside it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from smartspaces.config import ApiSettings
from smartspaces.events import GeoPoint, Identifier, Observation, Quantity

# quantity -> (lowest, highest, must be a whole number): ranges a real sensor can report.
KNOWN_QUANTITIES: dict[str, tuple[float, float, bool]] = {
    "entries_count": (0, 100_000, True),
    "exits_count": (0, 100_000, True),
    "occupancy_persons": (0, 1_000_000, True),
}


class ObservationIn(BaseModel):
    """An observation as a sensor or gateway sends it (the id and received time are ours)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    sensor_id: Identifier
    space_id: Identifier
    quantity: Quantity
    value: float = Field(description="In the unit the quantity's name ends with")
    observed_at: AwareDatetime = Field(description="ISO 8601 with a UTC offset")
    interval_s: float | None = Field(default=None, gt=0, le=86_400)
    location: GeoPoint | None = None


@dataclass(frozen=True)
class Rejection:
    """One item that was not accepted, where it was in the batch, and why."""

    index: int
    reason: str
    item: str


@dataclass(frozen=True)
class BatchResult:
    accepted: tuple[Observation, ...]
    rejected: tuple[Rejection, ...]


def validate_observations(
    items: Sequence[Any],
    source: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
) -> BatchResult:
    """Check each item; accepted ones become Observations received ``now`` from ``source``."""
    accepted: list[Observation] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            accepted.append(_one(item, source, spaces, now, limits))
        except _Reject as reject:
            rejected.append(Rejection(index, reject.reason, _text(item)))
    return BatchResult(tuple(accepted), tuple(rejected))


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _one(
    item: Any, source: str, spaces: Collection[str], now: datetime, limits: ApiSettings
) -> Observation:
    if not isinstance(item, dict):
        raise _Reject(f"an observation must be a JSON object, got {type(item).__name__}")
    if isinstance(item.get("value"), float) and not math.isfinite(item["value"]):
        raise _Reject("value: must be a finite number (NaN and Infinity are not measurements)")
    try:
        wire = ObservationIn.model_validate(item)
    except ValidationError as error:
        raise _Reject(_reasons(error)) from error
    if wire.space_id not in spaces:
        raise _Reject(f"space_id: unknown space {wire.space_id!r}")
    bounds = KNOWN_QUANTITIES.get(wire.quantity)
    if bounds is None:
        known = ", ".join(sorted(KNOWN_QUANTITIES))
        raise _Reject(f"quantity: unknown quantity {wire.quantity!r} (known: {known})")
    low, high, whole = bounds
    if not low <= wire.value <= high:
        raise _Reject(f"value: {wire.value} is outside {low}..{high} for {wire.quantity}")
    if whole and wire.value != int(wire.value):
        raise _Reject(f"value: {wire.quantity} counts people and must be a whole number")
    if wire.observed_at > now + timedelta(seconds=limits.max_future_skew_s):
        raise _Reject(
            f"observed_at: {wire.observed_at.isoformat()} is in the future "
            f"(more than {limits.max_future_skew_s:.0f} s ahead of {now.isoformat()})"
        )
    if wire.observed_at < now - timedelta(seconds=limits.max_age_s):
        raise _Reject(f"observed_at: older than {limits.max_age_s:.0f} s, too late to use")
    return Observation(
        source=source,
        space_id=wire.space_id,
        observed_at=wire.observed_at,
        received_at=now,
        location=wire.location,
        sensor_id=wire.sensor_id,
        quantity=wire.quantity,
        value=wire.value,
        interval_s=wire.interval_s,
    )


def _reasons(error: ValidationError) -> str:
    parts = []
    for detail in error.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in detail["loc"]) or "item"
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)


def _text(item: Any) -> str:
    try:
        return json.dumps(item, allow_nan=True, default=str)[:65_536]
    except (TypeError, ValueError):  # pragma: no cover - json.loads output always dumps
        return repr(item)[:65_536]
