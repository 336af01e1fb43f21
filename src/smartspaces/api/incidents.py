"""Incidents over REST: open from an alert, list, read, and every change operators make.

Handlers only translate: the work is ``respond.incidents.service.IncidentService``, whose errors
become 404 (unknown incident, alert, unit or measure), 409 (a conflict with the case's state; an
illegal transition lists the allowed ones) or 422 (bad input, oversized text). Actors are free
text until authentication exists; then they come from the caller's identity instead.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from smartspaces.api.deps import ServicesDep
from smartspaces.events import Identifier, IncidentStatus, Level, SpaceId
from smartspaces.respond.incidents.errors import IllegalTransition, IncidentError, NotFound
from smartspaces.respond.incidents.lifecycle import TimelineEntry, UnitAssignment
from smartspaces.respond.incidents.playbooks import TrackedMeasure
from smartspaces.respond.incidents.service import IncidentService, StoredCase, shipped_playbooks

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
MAX_TEXT = 2000
IncidentId = Annotated[str, Path(max_length=64)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown incident, alert, unit or measure"},
    409: {"description": "Not possible in the incident's current state (allowed steps listed)"},
}


def get_incident_service(services: ServicesDep) -> IncidentService:
    return IncidentService(
        services.store, services.clock, services.runtime.publish, shipped_playbooks()
    )


ServiceDep = Annotated[IncidentService, Depends(get_incident_service)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: Identifier = Field(description="Who does it (free text until authentication)")


class OpenIncident(_Request):
    alert_id: str = Field(max_length=64)
    note: str = Field(default="", max_length=MAX_TEXT)


class TransitionRequest(_Request):
    to: IncidentStatus
    note: str = Field(default="", max_length=MAX_TEXT)


class UnitRequest(_Request):
    unit_id: Identifier


class NoteRequest(_Request):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class MeasureRequest(_Request):
    status: Literal["activated", "done", "declined"]
    reason: str = Field(default="", max_length=MAX_TEXT)


class LinkAlertRequest(_Request):
    alert_id: str = Field(max_length=64)


class IncidentSummary(BaseModel):
    """An incident in a list: where it stands and how fast it was handled."""

    id: str
    space_id: SpaceId
    title: str
    level: Level
    status: IncidentStatus
    opened_at: datetime
    updated_at: datetime
    version: int = Field(description="Rises by one with every change")
    alert_ids: tuple[str, ...]
    active_units: tuple[str, ...]
    time_to_acknowledge_s: float | None
    time_to_resolve_s: float | None

    @classmethod
    def of(cls, stored: StoredCase, **more: Any) -> Self:
        case = stored.case
        return cls(
            id=case.id,
            space_id=case.incident.space_id,
            title=case.incident.title,
            level=case.incident.level,
            status=case.status,
            opened_at=case.opened_at,
            updated_at=stored.updated_at,
            version=stored.version,
            alert_ids=case.alert_ids,
            active_units=case.active_units,
            time_to_acknowledge_s=case.time_to_acknowledge_s(),
            time_to_resolve_s=case.time_to_resolve_s(),
            **more,
        )


class IncidentDetail(IncidentSummary):
    """An incident with its units, notes, measures and timeline."""

    units: tuple[UnitAssignment, ...]
    notes: tuple[TimelineEntry, ...]
    measures: tuple[TrackedMeasure, ...]
    timeline: tuple[TimelineEntry, ...]


def _detail(stored: StoredCase) -> IncidentDetail:
    case = stored.case
    return IncidentDetail.of(
        stored, units=case.units, notes=case.notes, measures=case.measures, timeline=case.timeline
    )


async def _answer(call: Awaitable[StoredCase]) -> IncidentDetail:
    """Await a service call and translate its errors into HTTP answers."""
    try:
        return _detail(await call)
    except IllegalTransition as error:
        raise HTTPException(409, {"message": str(error), "allowed": error.allowed}) from error
    except NotFound as error:
        raise HTTPException(404, str(error)) from error
    except IncidentError as error:
        raise HTTPException(409, str(error)) from error


@router.post("", status_code=201, responses=_ERRORS)
async def open_incident(body: OpenIncident, service: ServiceDep) -> IncidentDetail:
    """Open an incident for a stored alert; its playbook's measures are proposed."""
    return await _answer(service.open(body.alert_id, body.actor, body.note))


@router.get("")
async def list_incidents(
    service: ServiceDep,
    status: IncidentStatus | None = None,
    space_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentSummary]:
    """The newest incidents first, optionally of one status or one space."""
    return [IncidentSummary.of(s) for s in await service.list(status, space_id, limit)]


@router.get("/{incident_id}", responses=_ERRORS)
async def get_incident(incident_id: IncidentId, service: ServiceDep) -> IncidentDetail:
    return await _answer(service.get(incident_id))


@router.post("/{incident_id}/transitions", responses=_ERRORS)
async def change_status(
    incident_id: IncidentId, body: TransitionRequest, service: ServiceDep
) -> IncidentDetail:
    """Acknowledge, dispatch, on scene, resolve, close (or reopen a resolved incident)."""
    return await _answer(service.transition(incident_id, body.to, body.actor, body.note))


@router.post("/{incident_id}/units", responses=_ERRORS)
async def assign_unit(
    incident_id: IncidentId, body: UnitRequest, service: ServiceDep
) -> IncidentDetail:
    return await _answer(service.assign_unit(incident_id, body.unit_id, body.actor))


@router.post("/{incident_id}/units/{unit_id}/release", responses=_ERRORS)
async def release_unit(
    incident_id: IncidentId,
    unit_id: Annotated[str, Path(max_length=128)],
    body: _Request,
    service: ServiceDep,
) -> IncidentDetail:
    return await _answer(service.release_unit(incident_id, unit_id, body.actor))


@router.post("/{incident_id}/notes", responses=_ERRORS)
async def add_note(
    incident_id: IncidentId, body: NoteRequest, service: ServiceDep
) -> IncidentDetail:
    return await _answer(service.add_note(incident_id, body.text, body.actor))


@router.post("/{incident_id}/measures/{measure_id}", responses=_ERRORS)
async def set_measure(
    incident_id: IncidentId,
    measure_id: Annotated[str, Path(max_length=128)],
    body: MeasureRequest,
    service: ServiceDep,
) -> IncidentDetail:
    """Activate, complete or decline a proposed measure, saying why."""
    call = service.set_measure(incident_id, measure_id, body.status, body.actor, body.reason)
    return await _answer(call)


@router.post("/{incident_id}/alerts", responses=_ERRORS)
async def link_alert(
    incident_id: IncidentId, body: LinkAlertRequest, service: ServiceDep
) -> IncidentDetail:
    """Attach another alert; measures its level adds are proposed."""
    return await _answer(service.link_alert(incident_id, body.alert_id, body.actor))
