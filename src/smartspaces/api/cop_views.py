"""Read routes for the Common Operational Picture: a space's density history, device activity.

Handlers stay thin: the queries are ``store.history``'s; the time window ends at the services'
clock (scenario time in the demo, wall time in production).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from smartspaces.api.deps import ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.views import Problem
from smartspaces.security.policy import require_space
from smartspaces.security.roles import Principal
from smartspaces.store import history

router = APIRouter(prefix="/api/v1", tags=["operational picture"])


class DensitySample(BaseModel):
    at: datetime
    occupancy_persons: float
    density_p_m2: float


class SpaceHistory(BaseModel):
    """A space's crowd over a window, with the density thresholds of the alert ladder."""

    space_id: str
    area_m2: float
    since: datetime
    until: datetime
    amber_p_m2: float
    red_p_m2: float
    critical_p_m2: float
    points: list[DensitySample]
    forecasts: list[str] = Field(description="Newest red forecasts in the window, newest first")


class DeviceActivityView(BaseModel):
    sensor_id: str
    space_id: str
    last_seen_at: datetime
    silent_for_s: float = Field(description="Seconds since the last reading, by the server clock")
    readings: int
    health_quantity: str | None
    health_value: float | None
    health_at: datetime | None


@router.get(
    "/spaces/{space_id}/history",
    response_model=SpaceHistory,
    responses={404: {"model": Problem}, **DENIALS},
)
async def space_history(
    space_id: str,
    services: ServicesDep,
    who: Annotated[Principal, Who("spaces.read")],
    minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
) -> SpaceHistory:
    """Occupancy and density of one space over the last ``minutes`` (at most 360 points)."""
    space = next((s for s in services.spaces if s.id == space_id), None)
    if space is None:
        raise HTTPException(404, f"unknown space {space_id[:128]!r}")
    require_space(who, space_id)
    until = services.clock.now()
    since = until - timedelta(minutes=minutes)
    engine = services.store.engine
    points = await asyncio.to_thread(history.occupancy_series, engine, space_id, since, until)
    forecasts = await asyncio.to_thread(history.latest_forecasts, engine, space_id, since)
    crowd = services.settings.crowd
    return SpaceHistory(
        space_id=space_id,
        area_m2=space.area_m2,
        since=since,
        until=until,
        amber_p_m2=crowd.amber_p_m2,
        red_p_m2=crowd.red_p_m2,
        critical_p_m2=crowd.critical_p_m2,
        points=[
            DensitySample(
                at=p.at,
                occupancy_persons=p.occupancy_persons,
                density_p_m2=p.occupancy_persons / space.area_m2,
            )
            for p in points
        ],
        forecasts=forecasts,
    )


@router.get("/devices/activity", response_model=list[DeviceActivityView], responses=DENIALS)
async def devices_activity(
    services: ServicesDep,
    who: Annotated[Principal, Who("devices.read")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeviceActivityView]:
    """Every sensor of the caller's spaces that reported, the longest silent first, with its
    newest health report."""
    now = services.clock.now()
    found = await asyncio.to_thread(history.device_activity, services.store.engine, limit)
    return [
        DeviceActivityView(
            sensor_id=d.sensor_id,
            space_id=d.space_id,
            last_seen_at=d.last_seen_at,
            silent_for_s=max((now - d.last_seen_at).total_seconds(), 0.0),
            readings=d.readings,
            health_quantity=d.health_quantity,
            health_value=d.health_value,
            health_at=d.health_at,
        )
        for d in found
        if who.may_see_space(d.space_id)
    ]
