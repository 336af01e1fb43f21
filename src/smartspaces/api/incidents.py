"""Incidents over REST: open from an alert, list, read, and every change operators make.

Handlers only translate: the work is ``respond.incidents.service.IncidentService``, whose errors
become 404 (unknown incident, alert, unit or measure), 409 (a conflict with the case's state; an
illegal transition lists the allowed ones) or 422 (bad input, oversized text). The actor of every
change is the authenticated caller. An incident belongs to the agency that opened it; another
agency reads or acts on it once it is shared (``shares``). Reads are audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.incident_views import (
    IncidentDetail,
    IncidentSummary,
    LinkAlertRequest,
    MeasureRequest,
    NoteRequest,
    OpenIncident,
    TransitionRequest,
    UnitRequest,
    detail,
)
from smartspaces.events import Alert, IncidentStatus
from smartspaces.respond.incidents.errors import IllegalTransition, IncidentError, NotFound
from smartspaces.respond.incidents.service import IncidentService, StoredCase, shipped_playbooks
from smartspaces.security.access import AccessService, IncidentRef
from smartspaces.security.policy import Access, require_space
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
IncidentId = Annotated[str, Path(max_length=64)]
MAX_SCANNED = 1000
"""A list looks at most at this many newest incidents before keeping the caller's."""
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown incident, alert, unit or measure"},
    409: {"description": "Not possible in the incident's current state (allowed steps listed)"},
    **DENIALS,
}


def get_incident_service(services: ServicesDep) -> IncidentService:
    return IncidentService(
        services.store, services.clock, services.runtime.publish, shipped_playbooks()
    )


ServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
Reader = Annotated[Principal, Who("incidents.read")]
Actor = Annotated[Principal, Who("incidents.act")]


def ref(stored: StoredCase) -> IncidentRef:
    case = stored.case
    return IncidentRef(case.id, case.alert_ids[0], case.incident.space_id)


async def _call(call: Awaitable[StoredCase]) -> StoredCase:
    """Await a service call and translate its errors into HTTP answers."""
    try:
        return await call
    except IllegalTransition as error:
        raise HTTPException(409, {"message": str(error), "allowed": error.allowed}) from error
    except NotFound as error:
        raise HTTPException(404, str(error)) from error
    except IncidentError as error:
        raise HTTPException(409, str(error)) from error


async def checked(
    service: IncidentService,
    access: AccessService,
    who: Principal,
    incident_id: str,
    needed: Access,
) -> StoredCase:
    """The incident, once the caller's agency and spaces allow ``needed`` on it."""
    stored = await _call(service.get(incident_id))
    await asyncio.to_thread(access.check_incident, who, ref(stored), needed)
    return stored


async def _change(
    service: IncidentService, access: AccessService, who: Principal, incident_id: str
) -> None:
    await checked(service, access, who, incident_id, "act")


@router.post("", status_code=201, responses=_ERRORS)
async def open_incident(
    body: OpenIncident,
    service: ServiceDep,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("incidents.open")],
) -> IncidentDetail:
    """Open an incident for a stored alert the caller's agency may act on; the incident
    belongs to that agency. Its playbook's measures are proposed."""
    alert = await asyncio.to_thread(services.store.event, body.alert_id[:64])
    if not isinstance(alert, Alert):
        raise HTTPException(404, f"unknown alert {body.alert_id[:64]!r}")
    await asyncio.to_thread(access.check_alert, who, alert, "act")
    await asyncio.to_thread(access.claim_incident, who, alert.id)
    stored = await _call(service.open(alert.id, who.name, body.note))
    await asyncio.to_thread(access.settle_incident, who, alert.id, stored.case.id)
    return detail(stored, access="act")


@router.get("", responses=DENIALS)
async def list_incidents(
    service: ServiceDep,
    access: AccessDep,
    who: Reader,
    status: IncidentStatus | None = None,
    space_id: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentSummary]:
    """The newest incidents the caller may see first (its agency's and those shared with it),
    optionally of one status or one space. The read is audited."""
    if space_id is not None:
        require_space(who, space_id)
    found = await service.list(status, space_id, MAX_SCANNED)
    levels = await asyncio.to_thread(access.incident_access, who, [ref(s) for s in found])
    kept = [IncidentSummary.of(s, access=a) for s, a in zip(found, levels, strict=True) if a]
    details = {"status": status, "space_id": space_id, "count": len(kept[:limit])}
    await asyncio.to_thread(access.audit, who, "incidents.read", "incidents", details)
    return kept[:limit]


@router.get("/{incident_id}", responses=_ERRORS)
async def get_incident(
    incident_id: IncidentId, service: ServiceDep, access: AccessDep, who: Reader
) -> IncidentDetail:
    """One incident with its units, notes, measures and timeline. The read is audited."""
    stored = await checked(service, access, who, incident_id, "read")
    (level,) = await asyncio.to_thread(access.incident_access, who, [ref(stored)])
    await asyncio.to_thread(access.audit, who, "incident.read", incident_id, {})
    return detail(stored, access=level)


@router.post("/{incident_id}/transitions", responses=_ERRORS)
async def change_status(
    incident_id: IncidentId,
    body: TransitionRequest,
    service: ServiceDep,
    access: AccessDep,
    who: Actor,
) -> IncidentDetail:
    """Acknowledge, dispatch, on scene, resolve, close (or reopen a resolved incident)."""
    await _change(service, access, who, incident_id)
    call = service.transition(incident_id, body.to, who.name, body.note)
    return detail(await _call(call), access="act")


@router.post("/{incident_id}/units", responses=_ERRORS)
async def assign_unit(
    incident_id: IncidentId, body: UnitRequest, service: ServiceDep, access: AccessDep, who: Actor
) -> IncidentDetail:
    await _change(service, access, who, incident_id)
    call = service.assign_unit(incident_id, body.unit_id, who.name)
    return detail(await _call(call), access="act")


@router.post("/{incident_id}/units/{unit_id}/release", responses=_ERRORS)
async def release_unit(
    incident_id: IncidentId,
    unit_id: Annotated[str, Path(max_length=128)],
    service: ServiceDep,
    access: AccessDep,
    who: Actor,
) -> IncidentDetail:
    await _change(service, access, who, incident_id)
    call = service.release_unit(incident_id, unit_id, who.name)
    return detail(await _call(call), access="act")


@router.post("/{incident_id}/notes", responses=_ERRORS)
async def add_note(
    incident_id: IncidentId, body: NoteRequest, service: ServiceDep, access: AccessDep, who: Actor
) -> IncidentDetail:
    await _change(service, access, who, incident_id)
    call = service.add_note(incident_id, body.text, who.name)
    return detail(await _call(call), access="act")


@router.post("/{incident_id}/measures/{measure_id}", responses=_ERRORS)
async def set_measure(
    incident_id: IncidentId,
    measure_id: Annotated[str, Path(max_length=128)],
    body: MeasureRequest,
    service: ServiceDep,
    access: AccessDep,
    who: Actor,
) -> IncidentDetail:
    """Activate, complete or decline a proposed measure, saying why."""
    await _change(service, access, who, incident_id)
    call = service.set_measure(incident_id, measure_id, body.status, who.name, body.reason)
    return detail(await _call(call), access="act")


@router.post("/{incident_id}/alerts", responses=_ERRORS)
async def link_alert(
    incident_id: IncidentId,
    body: LinkAlertRequest,
    service: ServiceDep,
    services: ServicesDep,
    access: AccessDep,
    who: Actor,
) -> IncidentDetail:
    """Attach another alert the caller may read; measures its level adds are proposed."""
    await _change(service, access, who, incident_id)
    alert = await asyncio.to_thread(services.store.event, body.alert_id[:64])
    if isinstance(alert, Alert):
        await asyncio.to_thread(access.check_alert, who, alert, "read")
    call = service.link_alert(incident_id, body.alert_id[:64], who.name)
    return detail(await _call(call), access="act")
