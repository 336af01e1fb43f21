"""Sharing alerts and incidents with another agency, to read or to act on, and withdrawing it.

Only the owning agency (or an administrator) shares. Every share and withdrawal is audited.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.incidents import ServiceDep, checked, ref
from smartspaces.bootstrap import Services
from smartspaces.events import Alert
from smartspaces.security.access import AccessService
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1", tags=["sharing"])
AGENCY = r"^[a-z0-9][a-z0-9\-]{0,63}$"
SubjectId = Annotated[str, Path(max_length=64)]
Agency = Annotated[str, Path(pattern=AGENCY)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown alert or incident"},
    **DENIALS,
}


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(pattern=AGENCY, description="The agency to share with")
    access: Literal["read", "act"] = Field(
        default="read", description="read: see it; act: also change it (or open incidents)"
    )


class Shares(BaseModel):
    """Who owns an alert or incident and who else may read or act on it."""

    subject_id: str
    owners: list[str]
    shared_with: dict[str, Literal["read", "act"]]


async def _alert(services: Services, alert_id: str) -> Alert:
    alert = await asyncio.to_thread(services.store.event, alert_id)
    if not isinstance(alert, Alert):
        raise HTTPException(404, f"unknown alert {alert_id!r}")
    return alert


async def _answer(
    access: AccessService, kind: str, subject_id: str, owners: frozenset[str]
) -> Shares:
    shared = await asyncio.to_thread(access.shares, kind, subject_id)
    return Shares.model_validate(
        {"subject_id": subject_id, "owners": sorted(owners), "shared_with": shared}
    )


@router.post("/alerts/{alert_id}/shares", responses=_ERRORS)
async def share_alert(
    alert_id: SubjectId,
    body: ShareRequest,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("alerts.share")],
) -> Shares:
    """Share an alert with another agency (an alert belongs to the control-room agencies)."""
    alert = await _alert(services, alert_id)
    owners = access.alert_owners
    await asyncio.to_thread(access.check_alert, who, alert, "read")
    await asyncio.to_thread(access.share, who, "alert", alert.id, owners, body.agency, body.access)
    return await _answer(access, "alert", alert.id, owners)


@router.delete("/alerts/{alert_id}/shares/{agency}", responses=_ERRORS)
async def unshare_alert(
    alert_id: SubjectId,
    agency: Agency,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("alerts.share")],
) -> Shares:
    """Withdraw an alert's share with an agency."""
    alert = await _alert(services, alert_id)
    owners = access.alert_owners
    await asyncio.to_thread(access.check_alert, who, alert, "read")
    await asyncio.to_thread(access.share, who, "alert", alert.id, owners, agency, None)
    return await _answer(access, "alert", alert.id, owners)


@router.post("/incidents/{incident_id}/shares", responses=_ERRORS)
async def share_incident(
    incident_id: SubjectId,
    body: ShareRequest,
    service: ServiceDep,
    access: AccessDep,
    who: Annotated[Principal, Who("incidents.share")],
) -> Shares:
    """Share an incident with another agency: ``read`` to follow it, ``act`` to work on it."""
    stored = await checked(service, access, who, incident_id, "read")
    owners = await asyncio.to_thread(access.incident_owners, ref(stored))
    subject = stored.case.id
    await asyncio.to_thread(
        access.share, who, "incident", subject, owners, body.agency, body.access
    )
    return await _answer(access, "incident", subject, owners)


@router.delete("/incidents/{incident_id}/shares/{agency}", responses=_ERRORS)
async def unshare_incident(
    incident_id: SubjectId,
    agency: Agency,
    service: ServiceDep,
    access: AccessDep,
    who: Annotated[Principal, Who("incidents.share")],
) -> Shares:
    """Withdraw an incident's share with an agency."""
    stored = await checked(service, access, who, incident_id, "read")
    owners = await asyncio.to_thread(access.incident_owners, ref(stored))
    await asyncio.to_thread(access.share, who, "incident", stored.case.id, owners, agency, None)
    return await _answer(access, "incident", stored.case.id, owners)
