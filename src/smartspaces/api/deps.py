"""Typed dependencies of the routes: the services built by the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from smartspaces.api.stream import StreamHub
from smartspaces.bootstrap import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_hub(request: Request) -> StreamHub:
    hub: StreamHub = request.app.state.hub
    return hub


ServicesDep = Annotated[Services, Depends(get_services)]
HubDep = Annotated[StreamHub, Depends(get_hub)]
