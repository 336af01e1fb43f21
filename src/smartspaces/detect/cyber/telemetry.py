"""Builds Detections about a sensor's telemetry: the reading, the device, what was compared."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.events import AttributeValue, Detection, Level, Observation, derive_id

DAY_S = 86_400.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def rhythm_slot(obs: Observation, season: str, zone: ZoneInfo) -> tuple[int, str]:
    """The slot of a daily or weekly rhythm a reading falls in, and its name for summaries.

    ``season`` is "none" (one slot), "hour_of_day" or "hour_of_week", in local time; a
    reading that covers a whole day (``interval_s`` of a day or more) has no hour, so its
    hour of the week is its day of the week.
    """
    if season == "none":
        return 0, "any time"
    local = obs.observed_at.astimezone(zone)
    daily = (obs.interval_s or 0.0) >= DAY_S
    if season == "hour_of_day":
        return (0, "any day") if daily else (local.hour, f"{local.hour:02d}:00")
    day = local.weekday()
    if daily:
        return day, f"{WEEKDAYS[day]}s"
    return day * 24 + local.hour, f"{WEEKDAYS[day]} {local.hour:02d}:00"


def telemetry_detection(
    detector_id: str,
    detection_type: str,
    obs: Observation,
    now: datetime,
    level: Level,
    summary: str,
    evidence: Mapping[str, AttributeValue],
    assets: AssetMap | None = None,
    *,
    at: datetime | None = None,
    also: Sequence[Observation] = (),
    confidence: float = 1.0,
) -> Detection:
    """One detection about ``obs`` (and the observations in ``also`` it was compared with).

    Attributes always hold ``device_id`` (the sensor) and ``quantity``, ``value`` when finite, and
    ``asset_id`` when the asset map places the device; ``evidence`` adds what was compared.
    """
    observed = at or obs.observed_at
    attributes: dict[str, AttributeValue] = {"device_id": obs.sensor_id, "quantity": obs.quantity}
    if math.isfinite(obs.value):  # NaN and infinities are no attribute (evidence words them)
        attributes["value"] = obs.value
    asset = assets.asset_of_device(obs.sensor_id) if assets is not None else None
    if asset is not None:
        attributes["asset_id"] = asset
    attributes.update(evidence)
    derived = (obs.id, *(o.id for o in also))
    return Detection(
        id=derive_id(
            "det",
            detector_id,
            detection_type,
            obs.space_id,
            observed,
            level,
            obs.sensor_id,
            obs.quantity,
            *derived,
        ),  # fmt: skip
        source=detector_id,
        space_id=obs.space_id,
        observed_at=observed,
        received_at=now,
        location=obs.location,
        derived_from=derived,
        detector=detector_id,
        detection_type=detection_type,
        level=level,
        confidence=confidence,
        summary=summary[:2000],
        attributes=attributes,
    )
