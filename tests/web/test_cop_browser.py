"""The Common Operational Picture in a real headless browser (Debian's chromium via Playwright)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from smartspaces.api import create_app
from smartspaces.config import Settings
from tests.api.conftest import seed

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.browser


@pytest.fixture
def token(settings: Settings) -> str:
    return seed(settings)


@pytest.fixture
def server(settings: Settings, token: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
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


def test_the_map_shows_spaces_and_a_live_alert(server: str, token: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make services`")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        page.on(
            "request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None
        )
        page.goto(server + "/")
        page.wait_for_selector("#connection.online", timeout=15_000)
        page.wait_for_selector("#spaces tbody tr[data-space-id='plaza']")
        assert page.locator("path.leaflet-interactive").count() >= 2  # the two spaces are drawn
        assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")

        # 450 people on 100 m2: 4.5 persons/m2, red. The page must show it without a reload.
        reading = {
            "sensor_id": "camera-1",
            "space_id": "plaza",
            "quantity": "occupancy_persons",
            "value": 450,
            "observed_at": datetime.now(UTC).isoformat(),
        }
        response = httpx.post(
            server + "/api/v1/observations",
            json=[reading],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 202, response.text
        page.wait_for_selector("#alerts li.level-red", timeout=15_000)
        alert_text = page.inner_text("#alerts li.level-red")
        assert "RED crowd density in Test square plaza" in alert_text
        row = page.locator("#spaces tbody tr[data-space-id='plaza']")
        row.locator(".badge.red").wait_for(timeout=15_000)
        assert "450" in row.inner_text()
        page.screenshot(path=str(tmp_path / "cop.png"))
        browser.close()
    assert outside == []  # no CDN, no tile server, no font server
    assert (tmp_path / "cop.png").stat().st_size > 10_000
