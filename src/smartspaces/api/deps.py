"""Typed dependencies of the routes: the services built by the app's lifespan, the security."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from smartspaces.api.stream import StreamHub
from smartspaces.bootstrap import Services
from smartspaces.security.access import AccessService
from smartspaces.security.authenticator import Authenticator


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_hub(request: Request) -> StreamHub:
    hub: StreamHub = request.app.state.hub
    return hub


def get_auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


def get_access(request: Request) -> AccessService:
    access: AccessService = request.app.state.access
    return access


ServicesDep = Annotated[Services, Depends(get_services)]
HubDep = Annotated[StreamHub, Depends(get_hub)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
AccessDep = Annotated[AccessService, Depends(get_access)]
