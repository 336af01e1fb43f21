"""Alerts in outside formats: CAP 1.2 XML and NGSI-LD ``Alert`` entities. Handlers stay thin."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from smartspaces.api.deps import AccessDep, ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.bootstrap import Services
from smartspaces.events import Alert, SmartSpace
from smartspaces.respond.alerts.cap import cap_xml
from smartspaces.respond.alerts.cap_xml import CAP_MEDIA_TYPE
from smartspaces.respond.alerts.errors import AlertFormatError
from smartspaces.respond.alerts.ngsi_ld import NGSI_LD_MEDIA_TYPE, ngsi_ld_alert
from smartspaces.respond.alerts.settings import AlertFormatSettings, Audience
from smartspaces.security.access import AccessService
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1", tags=["alerts"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such alert, or its space is unknown"},
    409: {"description": "The alert cites an earlier alert that is not stored"},
    **DENIALS,
}


def format_settings(services: Services) -> AlertFormatSettings:
    """The alert-format section of the settings."""
    return services.settings.alerts


def _load(
    services: Services, access: AccessService, who: Principal, alert_id: str, form: str
) -> tuple[Alert, SmartSpace, list[Alert]]:
    """The alert (if the caller may read it; the read is audited), its space and the alerts
    it cites."""
    alert = services.store.event(alert_id[:64])
    if not isinstance(alert, Alert):
        raise HTTPException(404, f"unknown alert {alert_id[:64]!r}")
    access.check_alert(who, alert, "read")
    access.audit(who, "alert.read", alert.id, {"format": form})
    space = services.store.space(alert.space_id)
    if space is None:
        raise HTTPException(404, f"alert {alert.id} concerns unknown space {alert.space_id!r}")
    cited = [services.store.event(ref) for ref in alert.references]
    return alert, space, [a for a in cited if isinstance(a, Alert)]


@router.get(
    "/alerts/{alert_id}/cap",
    response_class=Response,
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}, **_ERRORS},
)
async def alert_as_cap(
    alert_id: str,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("alerts.read")],
    audience: Annotated[Audience, Query(description="public, agencies or operators")] = "public",
) -> Response:
    """The alert as CAP 1.2 XML (scope Public, Restricted or Private after the audience), with one
    info block per configured language and the space's polygon as the area."""
    alert, space, cited = await asyncio.to_thread(_load, services, access, who, alert_id, "cap")
    try:
        body = cap_xml(alert, space, format_settings(services), audience, cited)
    except AlertFormatError as error:
        raise HTTPException(409, str(error)) from error
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.get(
    "/alerts/{alert_id}/ngsi-ld",
    response_class=JSONResponse,
    responses={200: {"content": {NGSI_LD_MEDIA_TYPE: {}}}, **_ERRORS},
)
async def alert_as_ngsi_ld(
    alert_id: str,
    services: ServicesDep,
    access: AccessDep,
    who: Annotated[Principal, Who("alerts.read")],
) -> JSONResponse:
    """The alert as a FIWARE Smart Data Models ``Alert`` entity (NGSI-LD, key-values)."""
    alert, space, _ = await asyncio.to_thread(_load, services, access, who, alert_id, "ngsi-ld")
    entity = ngsi_ld_alert(alert, space, format_settings(services))
    return JSONResponse(entity, media_type=NGSI_LD_MEDIA_TYPE)
