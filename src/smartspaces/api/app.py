"""The FastAPI app factory: ``create_app(settings)`` (no app is built at import time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import structlog
import xstatic.pkg.leaflet
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from smartspaces.api import (
    alert_formats,
    auth,
    cop_views,
    dead_letters,
    device_map,
    incidents,
    ngsild,
    operations,
    replay,
    routes,
    shares,
    units,
    video,
    websocket,
)
from smartspaces.api.errors import add_error_handlers
from smartspaces.api.guards import API_KEY_HEADER, CSRF_HEADER, unguarded
from smartspaces.api.hardening import RequestGuard, security_headers
from smartspaces.api.stream import StreamHub
from smartspaces.bootstrap import Services, build_services
from smartspaces.clock import Clock, SystemClock
from smartspaces.config import Settings
from smartspaces.config.security import DEVELOPMENT_DEMO_PASSWORD
from smartspaces.edge_node import EdgeNode
from smartspaces.errors import ConfigError
from smartspaces.security.access import AccessService
from smartspaces.security.authenticator import Authenticator
from smartspaces.security.startup import refuse_unsafe, seeds_demo_users
from smartspaces.video_node import VideoNode

WEB_DIR = Path(str(resources.files("smartspaces") / "web"))
SCENARIO_DIR = Path(str(resources.files("smartspaces") / "scenarios" / "valencia"))
INGEST_PATHS = ("/api/v1/observations", "/ngsi-ld/")
"""Routes that bound their own bodies, so that each refusal is kept as a dead letter."""
log = structlog.get_logger("smartspaces.api")


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    clock: Clock | None = None,
    stages: frozenset[str] | None = None,
) -> FastAPI:
    """Build the API. Given ``services``, it serves them (the caller runs and closes them);
    otherwise it builds its own from ``settings`` on startup and closes them on shutdown.
    ``clock`` times sessions and tokens (wall time by default, whatever the pipeline's clock).
    ``stages`` limits the pipeline stages this process runs (all by default; see Runtime).

    Raises ``ConfigError`` outside development when a default secret is still set."""
    refuse_unsafe(settings)
    hub = StreamHub()
    security_clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        running = services or build_services(settings, SystemClock(), stages=stages)
        authenticator = Authenticator(settings.security, running.store, security_clock)
        access = AccessService(
            running.store, authenticator.grants, settings.security.alert_agencies, running.clock
        )
        hub.audience_of = access.stream_audience
        running.runtime.add_listener(hub.deliver)
        app.state.services, app.state.auth, app.state.access = running, authenticator, access
        await _seed_demo_users(settings, authenticator)
        edge = EdgeNode(running)
        # the cameras of settings.video, analysed here (none configured: nothing runs)
        app.state.video = VideoNode(
            settings.video, running.bus, running.clock, registry=running.store.devices
        )
        if own:
            await running.runtime.start()
            await edge.start()
            await app.state.video.start()
        try:
            yield
        finally:
            if own:
                await app.state.video.stop()
                await edge.stop()
                await running.close()

    app = FastAPI(
        title="smartspaces",
        version="0.1.0",
        summary="Crowd safety for public spaces: observations in, risk and alerts out.",
        description="Every route but health, sign-in and the page needs credentials: a COP "
        "session (with X-CSRF-Token on changes), an API key, an OpenID Connect bearer token, "
        "or, on the ingest routes, a device token.",
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.settings = settings
    for module in (routes, alert_formats, shares, websocket, ngsild, dead_letters, incidents):
        app.include_router(module.router)
    app.include_router(routes.health_router)
    app.include_router(cop_views.router)
    app.include_router(device_map.router)
    app.include_router(operations.router)
    app.include_router(units.router)
    app.include_router(replay.router)
    app.include_router(video.router)
    app.include_router(auth.router)
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

    add_error_handlers(app)
    if settings.security.cors_origins:  # none by default: no other origin reads our answers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.security.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", API_KEY_HEADER, CSRF_HEADER],
        )
    app.add_middleware(
        RequestGuard,
        max_bytes=settings.api.max_body_bytes,
        max_depth=settings.security.max_json_depth,
        headers=security_headers(
            settings.environment == "development", settings.security.hsts_max_age_s
        ),
        exempt=INGEST_PATHS,
    )
    holes = unguarded(app)
    if holes:
        raise ConfigError(f"routes without an access rule: {', '.join(holes)}")
    return app


async def _seed_demo_users(settings: Settings, authenticator: Authenticator) -> None:
    if not seeds_demo_users(settings):
        return
    password = settings.security.demo_password.get_secret_value()
    created = await asyncio.to_thread(
        authenticator.accounts.seed_demo_users, password, authenticator.clock.now()
    )
    if created:
        # the default demo password is published in the docs; any other is never logged
        shown = password if password == DEVELOPMENT_DEMO_PASSWORD else "security.demo_password"
        log.info("demo users created", users=", ".join(created), password=shown)
