"""Responder units over REST: where each unit is and in what state (now, or at an earlier time
for the replay), and the changes its own agency makes (position, state), each one audited.

The units are the deployment's shipped ones (the València demo's when its square is among the
spaces; none otherwise); ``UnitBoard`` keeps their changes in the audit trail.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.replay import check_at
from smartspaces.api.unit_board import UPDATED, UnitBoard, UnitChange, UnitView
from smartspaces.api.views import Problem
from smartspaces.bootstrap import Services
from smartspaces.events import GeoPoint
from smartspaces.scenarios.valencia.units import ResponderUnit, UnitState, shipped_units
from smartspaces.security.policy import access as access_to
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1/units", tags=["responder units"])
UnitId = Annotated[str, Path(max_length=128)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "Unknown unit"},
    422: {"description": "Bad input: nothing to change, out of range"},
    **DENIALS,
}


class UnitUpdate(BaseModel):
    """A change to one unit: a new state, a new position, or both, with an optional note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: UnitState | None = None
    location: GeoPoint | None = Field(None, description="Where the unit is now (WGS84)")
    note: str = Field("", max_length=200, description="Shown with the unit, e.g. 'at gate 3'")

    @model_validator(mode="after")
    def _something(self) -> UnitUpdate:
        if self.state is None and self.location is None:
            raise ValueError("give a state, a location, or both")
        return self


def shipped_for(services: Services) -> tuple[ResponderUnit, ...]:
    """The València demo's units where its square is served, none elsewhere (a real site's
    units are not the demo's)."""
    from smartspaces.scenarios.valencia.layout import SQUARE_ID

    return shipped_units() if any(s.id == SQUARE_ID for s in services.spaces) else ()


def get_board(services: ServicesDep) -> UnitBoard:
    return UnitBoard(services.store, shipped_for(services))


BoardDep = Annotated[UnitBoard, Depends(get_board)]


@router.get("", response_model=list[UnitView], responses=DENIALS)
async def list_units(
    services: ServicesDep,
    board: BoardDep,
    who: Annotated[Principal, Who("units.read")],
    at: Annotated[AwareDatetime | None, Query(description="A time in the replay window")] = None,
) -> list[UnitView]:
    """Every responder unit with its state and position, now or as it was at ``at`` (within
    the replay window, with a time zone)."""
    if at is not None:
        check_at(at, services.clock.now())
    return await asyncio.to_thread(board.board, at)


@router.patch("/{unit_id}", response_model=UnitView, responses=_ERRORS)
async def update_unit(
    unit_id: UnitId,
    body: UnitUpdate,
    services: ServicesDep,
    board: BoardDep,
    access: AccessDep,
    who: Annotated[Principal, Who("units.update")],
) -> UnitView:
    """Move a unit or change its state. Only the unit's own agency (or an administrator) may;
    the change, with the state and position before it, goes to the audit trail."""
    before = await asyncio.to_thread(board.current, unit_id)
    if before is None:
        raise HTTPException(404, f"unknown unit {unit_id[:128]!r}")
    if access_to(who, frozenset({before.agency}), {}) != "act":
        raise HTTPException(403, f"unit {before.id} belongs to {before.agency}, not your agency")
    change = UnitChange(
        state=body.state or before.state,
        location=body.location or before.location,
        note=body.note,
    )
    details = change.model_dump(mode="json") | {
        "from_state": before.state,
        "from_location": before.location.model_dump(mode="json"),
    }
    await asyncio.to_thread(access.audit, who, UPDATED, before.id, details)
    now: datetime = services.clock.now()
    return before.model_copy(
        update={**change.model_dump(), "location": change.location}
        | {"updated_at": now, "updated_by": who.name}
    )
