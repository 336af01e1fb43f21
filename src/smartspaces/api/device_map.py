"""The devices on the COP's map: every registered device with a location, its health in a word.

One read for the map layer: the registry (where each device is, whether it is disabled) joined
with ``store.history.device_activity`` (when it was last heard, its newest ``device_*`` report
from the edge's health monitor). Devices without a location are not on the map (the Devices
panel still lists them); a caller limited to some spaces sees only their devices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from smartspaces.api.deps import ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.events import Device, DeviceKind, GeoPoint
from smartspaces.security.roles import Principal
from smartspaces.store import history

router = APIRouter(prefix="/api/v1/devices", tags=["operational picture"])

DeviceHealth = Literal["ok", "silent", "flapping", "clock_skewed", "disabled", "unheard"]
MAX_DEVICES = 1000
"""At most this many devices on the map (and as many activity rows looked at)."""
SKEW_SLACK = timedelta(seconds=1)
"""A skew report stands while no reading is stamped later than the skewed one (give or take)."""
_REPORTS: dict[str, DeviceHealth] = {
    "device_flaps_count": "flapping",
    "device_silence_s": "silent",
    "device_clock_skew_s": "clock_skewed",
}


class DeviceOnMap(BaseModel):
    """A device where it stands, with its health: ``ok``, ``silent`` (past its expected
    interval, or reported so), ``flapping`` (silent again and again), ``clock_skewed`` (stamps
    readings ahead of our clock), ``disabled`` (switched off in the registry) or ``unheard``
    (registered, never reported)."""

    id: str
    name: str
    kind: DeviceKind
    space_id: str
    location: GeoPoint
    health: DeviceHealth
    last_seen_at: datetime | None = Field(description="Its newest reading (not health reports)")
    silent_for_s: float | None = Field(description="Seconds since then, by the server clock")
    health_quantity: str | None = Field(description="Its newest device_* report, if any")
    health_value: float | None
    health_at: datetime | None


def judge(
    device: Device, heard: history.DeviceActivity | None, now: datetime, silence_factor: float
) -> DeviceHealth:
    """One word for a device's health. Pure: the registry entry, its activity and the time.

    A health report counts until the device is heard again after it: a reading stamped after a
    silence ends it. A device whose newest reading is older than ``silence_factor`` expected
    intervals is silent even before the monitor says so (the monitor may run on another node).
    """
    if device.status == "disabled":
        return "disabled"
    if heard is None:
        return "unheard"
    report = _REPORTS.get(heard.health_quantity or "")
    if report is not None and heard.health_at is not None:
        if report == "clock_skewed":
            # the skewed reading itself is stamped ahead: compare with where it claimed to be
            skewed_to = heard.health_at + timedelta(seconds=heard.health_value or 0.0)
            if heard.last_seen_at <= skewed_to + SKEW_SLACK:
                return report
        elif heard.health_at >= heard.last_seen_at:
            return report
    interval = device.expected_interval_s
    if (
        interval is not None
        and (now - heard.last_seen_at).total_seconds() > silence_factor * interval
    ):
        return "silent"
    return "ok"


def on_map(
    devices: Sequence[Device],
    activity: Sequence[history.DeviceActivity],
    now: datetime,
    silence_factor: float,
    who: Principal,
) -> list[DeviceOnMap]:
    """The located devices the caller may see, by id, each with its health."""
    heard = {a.sensor_id: a for a in activity}
    found = []
    for device in devices:
        if device.location is None or not who.may_see_space(device.space_id):
            continue
        seen = heard.get(device.id)
        found.append(
            DeviceOnMap(
                id=device.id,
                name=device.name,
                kind=device.kind,
                space_id=device.space_id,
                location=device.location,
                health=judge(device, seen, now, silence_factor),
                last_seen_at=seen.last_seen_at if seen else None,
                silent_for_s=max((now - seen.last_seen_at).total_seconds(), 0.0) if seen else None,
                health_quantity=seen.health_quantity if seen else None,
                health_value=seen.health_value if seen else None,
                health_at=seen.health_at if seen else None,
            )
        )
    return found


@router.get("/map", response_model=list[DeviceOnMap], responses=DENIALS)
async def devices_on_map(
    services: ServicesDep,
    who: Annotated[Principal, Who("devices.read")],
    limit: Annotated[int, Query(ge=1, le=MAX_DEVICES)] = MAX_DEVICES,
) -> list[DeviceOnMap]:
    """Every registered device with a location in the caller's spaces, by id, with its health
    in one word and what it is based on."""
    devices = await asyncio.to_thread(services.store.devices.all)
    engine = services.store.engine
    activity = await asyncio.to_thread(history.device_activity, engine, MAX_DEVICES)
    now = services.clock.now()
    factor = services.settings.edge.health_silence_factor
    return on_map(devices, activity, now, factor, who)[:limit]
