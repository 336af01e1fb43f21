"""The replay behind the COP's time slider: the spaces (occupancy, density, level of service,
risk) and the alerts as they stood at an earlier time within the replay window.

Times are the services' clock (scenario time in the demo, wall time in production); a time
outside the window, without a time zone or not a time at all is refused with a 422 that says
which. The queries are ``store.replay``'s and ``store.history``'s; alerts are filtered by the
caller's agency and spaces exactly as the live feed is, and each replay is audited (it reads
alerts).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import Engine

from smartspaces.api.deps import AccessDep, AuthDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.detect.crowd.level_of_service import area_use, level_of_service
from smartspaces.events import SmartSpace
from smartspaces.security.policy import access as access_to
from smartspaces.security.roles import Principal
from smartspaces.store import history, replay

router = APIRouter(prefix="/api/v1/replay", tags=["operational picture"])
REPLAY_SPAN = timedelta(hours=6)
"""How far back the slider goes (the store keeps more; the replay is for the shift at hand)."""
CLOCK_SKEW = timedelta(seconds=5)
"""A time this little ahead of the server's clock is taken as now (the page's clock drifts)."""
OCCUPANCY_LOOKBACK = timedelta(hours=1)
"""A space with no counter reading this long before the time has no known occupancy then."""
MAX_ALERTS = 200
_REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "Not a time, no time zone, or outside the window"},
    **DENIALS,
}
When = Annotated[
    AwareDatetime,
    Query(description="ISO 8601 with a time zone, within the replay window (GET /replay/window)"),
]


class ReplayWindow(BaseModel):
    """The times a replay may ask for: from ``earliest`` to ``latest`` (the server's now)."""

    earliest: datetime
    latest: datetime
    span_s: float


class SpaceThen(BaseModel):
    """A space's crowd and risk as known at the replayed time (None: no reading then)."""

    id: str
    occupancy_persons: float | None
    density_p_m2: float | None
    level_of_service: str | None
    measured_at: datetime | None = Field(description="The reading the occupancy comes from")
    risk_level: str
    risk_score: float


class Replay(BaseModel):
    at: datetime
    window: ReplayWindow
    spaces: list[SpaceThen]
    alerts: list[dict[str, Any]] = Field(
        description="Alerts of the hour before, newest first, each with ``incident_status_then``"
    )


def window(now: datetime) -> ReplayWindow:
    return ReplayWindow(earliest=now - REPLAY_SPAN, latest=now, span_s=REPLAY_SPAN.total_seconds())


def check_at(at: datetime, now: datetime) -> datetime:
    """``at`` if within the replay window ending ``now`` (a few seconds ahead count as now);
    a 422 that says the window otherwise."""
    bounds = window(now)
    if at > now + CLOCK_SKEW:
        raise _refused(f"at is in the future: the latest is {now.isoformat()}")
    if at < bounds.earliest:
        hours = REPLAY_SPAN.total_seconds() / 3600
        raise _refused(
            f"at is older than the replay window ({hours:g} h): the earliest is "
            f"{bounds.earliest.isoformat()}"
        )
    return min(at, now)


def _refused(message: str) -> RequestValidationError:
    # the shape of every other 422 (a list of located errors), so the API has one error schema
    return RequestValidationError([{"type": "value_error", "loc": ("query", "at"), "msg": message}])


@router.get("/window", response_model=ReplayWindow, responses=DENIALS)
async def replay_window(
    services: ServicesDep, who: Annotated[Principal, Who("replay.read")]
) -> ReplayWindow:
    """The range of times the slider may replay, by the server's clock."""
    return window(services.clock.now())


@router.get("", response_model=Replay, responses=_REFUSED)
async def replay_at(
    at: When,
    services: ServicesDep,
    auth: AuthDep,
    access: AccessDep,
    who: Annotated[Principal, Who("replay.read")],
    alert_minutes: Annotated[int, Query(ge=1, le=360)] = 60,
) -> Replay:
    """The caller's spaces and alerts as they stood at ``at``: each space's occupancy, density
    and level of service from its counters, its risk level as last decided, and the alerts of
    the ``alert_minutes`` before with the state of their incident then. Audited."""
    now = services.clock.now()
    at = check_at(at, now)
    spaces = [s for s in services.spaces if who.may_see_space(s.id)]
    engine = services.store.engine
    then = await asyncio.to_thread(_spaces_then, engine, spaces, at)
    since = at - timedelta(minutes=alert_minutes)
    ids = [s.id for s in spaces]
    found = await asyncio.to_thread(replay.alerts_between, engine, since, at, ids, MAX_ALERTS)
    shares = await asyncio.to_thread(auth.grants.shares_of, "alert", [a.id for a in found])
    alerts = [a for a in found if access_to(who, access.alert_owners, shares.get(a.id, {}))]
    states = await asyncio.to_thread(replay.incident_status_at, engine, [a.id for a in alerts], at)
    details = {"at": at.isoformat(), "alerts": len(alerts)}
    await asyncio.to_thread(access.audit, who, "replay.read", "replay", details)
    return Replay(
        at=at,
        window=window(now),
        spaces=then,
        alerts=[
            a.model_dump(mode="json") | {"incident_status_then": states.get(a.id)} for a in alerts
        ],
    )


def _spaces_then(engine: Engine, spaces: list[SmartSpace], at: datetime) -> list[SpaceThen]:
    risks = replay.space_risks_at(engine, [s.id for s in spaces], at)
    found = []
    for space in spaces:
        points = history.occupancy_series(engine, space.id, at - OCCUPANCY_LOOKBACK, at)
        last = points[-1] if points else None
        density = last.occupancy_persons / space.area_m2 if last else None
        risk = risks.get(space.id)
        found.append(
            SpaceThen(
                id=space.id,
                occupancy_persons=last.occupancy_persons if last else None,
                density_p_m2=density,
                level_of_service=(
                    level_of_service(density, area_use(space.space_type))
                    if density is not None
                    else None
                ),
                measured_at=last.at if last else None,
                risk_level=risk.level if risk else "normal",
                risk_score=risk.score if risk else 0.0,
            )
        )
    return found
