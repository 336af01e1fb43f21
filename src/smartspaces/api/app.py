"""The FastAPI app factory: ``create_app(settings)`` (no app is built at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import xstatic.pkg.leaflet
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from smartspaces.api import (
    alert_formats,
    cop_views,
    dead_letters,
    incidents,
    ngsild,
    routes,
    websocket,
)
from smartspaces.api.stream import StreamHub
from smartspaces.bootstrap import Services, build_services
from smartspaces.clock import SystemClock
from smartspaces.config import Settings
from smartspaces.edge_node import EdgeNode

WEB_DIR = Path(str(resources.files("smartspaces") / "web"))
SCENARIO_DIR = Path(str(resources.files("smartspaces") / "scenarios" / "valencia"))
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Everything the page needs is served from here: no CDN, no tile server, no font server.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
}


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """Build the API. Given ``services``, it serves them (the caller runs and closes them);
    otherwise it builds its own from ``settings`` on startup and closes them on shutdown."""
    hub = StreamHub()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        running = services or build_services(settings, SystemClock())
        running.runtime.add_listener(hub.broadcast)
        app.state.services = running
        edge = EdgeNode(running)
        if own:
            await running.runtime.start()
            await edge.start()
        try:
            yield
        finally:
            if own:
                await edge.stop()
                await running.close()

    app = FastAPI(
        title="smartspaces",
        version="0.1.0",
        summary="Crowd safety for public spaces: observations in, risk and alerts out.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.settings = settings
    app.include_router(routes.router)
    app.include_router(alert_formats.router)
    app.include_router(routes.health_router)
    app.include_router(websocket.router)
    app.include_router(ngsild.router)
    app.include_router(dead_letters.router)
    app.include_router(incidents.router)
    app.include_router(cop_views.router)
    app.mount("/static/vendor/leaflet", StaticFiles(directory=xstatic.pkg.leaflet.BASE_DIR))
    app.mount("/static", StaticFiles(directory=WEB_DIR))

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/api/v1/basemap", include_in_schema=False)
    async def basemap() -> FileResponse:
        return FileResponse(
            SCENARIO_DIR / "valencia-basemap.geojson", media_type="application/geo+json"
        )

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length", "")
        # The ingest route checks sizes itself, so that it can keep a dead letter of the refusal.
        too_big = declared.isdigit() and int(declared) > settings.api.max_body_bytes
        if too_big and request.url.path != "/api/v1/observations":
            response: Response = JSONResponse(
                {
                    "detail": f"request body of {declared} bytes is over the "
                    f"{settings.api.max_body_bytes}-byte limit"
                },
                status_code=413,
            )
        else:
            response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
