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

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.config.security import DEVELOPMENT_DEMO_PASSWORD
from tests.api.conftest import admin_key, seed

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
    """The API and the COP, as ``smartspaces serve`` runs them (development: demo users)."""
    return create_app(settings)


def sign_in(page: Page, server: str, user: str = "police") -> None:
    """Open the COP, sign in with the form as a demo user, and wait for the live stream."""
    page.goto(server + "/")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#login-user", user)
    page.fill("#login-password", DEVELOPMENT_DEMO_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_selector("#login", state="hidden")
    page.wait_for_selector("#connection.online", timeout=15_000)


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
def api_headers(settings: Settings, token: str) -> dict[str, str]:
    """An administrator's API key, for the test to look behind the page."""
    return {"X-API-Key": admin_key(settings)}


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
