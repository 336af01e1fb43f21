"""A real API server on loopback and Debian's chromium driven by Playwright, for the COP tests.

Screenshots go to tests/artifacts/ (ignored by git). Every request the page makes is recorded,
and a test fails if any of them leaves the server under test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn
from fastapi import FastAPI

from smartspaces.api import cop_views, create_app
from smartspaces.config import Settings
from tests.api.conftest import seed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route, WebSocket

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def cop_app(settings: Settings) -> FastAPI:
    """The API with the COP's read routes (added here until the factory includes them)."""
    app = create_app(settings)
    paths = {getattr(route, "path", "") for route in app.routes}
    if "/api/v1/spaces/{space_id}/history" not in paths:
        app.include_router(cop_views.router)
    return app


def serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread on a free loopback port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


@pytest.fixture
def token(settings: Settings) -> str:
    return seed(settings)


@pytest.fixture
def server(settings: Settings, token: str) -> Iterator[str]:
    yield from serve(cop_app(settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make services`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh page at 1366x768 (a control-room laptop). Every request is intercepted: one that
    would leave the server is refused and fails the test, and so does any script error."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    outside: list[str] = []
    errors: list[str] = []
    socket_origin = "ws" + server.removeprefix("http") + "/"

    def intercept(route: Route) -> None:
        if route.request.url.startswith(server + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def websocket(socket_: WebSocket) -> None:
        if not socket_.url.startswith(socket_origin):
            outside.append(socket_.url)

    context.route("**/*", intercept)
    opened = context.new_page()
    opened.on("websocket", websocket)
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert outside == [], "the page reached outside its server (no CDN, tiles or fonts allowed)"
    assert errors == [], f"script errors in the page: {errors}"
