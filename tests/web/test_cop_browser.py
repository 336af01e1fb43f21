"""The Common Operational Picture in a real headless browser (Debian's chromium via Playwright):
the map and the demo's spaces, a live alert in the feed and on the map, acknowledging it from
the page, the panels, keyboard use, a tablet's width. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.web.conftest import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
ALERT_BUDGET_MS = 2000


def reading(value: float, sensor: str = "camera-1", space: str = "plaza") -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "space_id": space,
        "quantity": "occupancy_persons",
        "value": value,
        "observed_at": datetime.now(UTC).isoformat(),
    }


def post(server: str, token: str, body: object) -> httpx.Response:
    return httpx.post(
        server + "/api/v1/observations", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def open_cop(page: Page, server: str, user: str = "police") -> None:
    sign_in(page, server, user)
    page.wait_for_selector("#spaces tbody tr[data-space-id='plaza']", state="attached")


def test_the_page_shows_the_basemap_and_the_spaces(
    page: Page, server: str, artifacts: Path
) -> None:
    open_cop(page, server)
    # the basemap's streets and buildings are drawn (not interactive), then both spaces on top
    assert page.locator(".leaflet-overlay-pane path:not(.leaflet-interactive)").count() > 100
    assert page.locator("path.leaflet-interactive[data-space-id]").count() == 2
    assert "OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    legend = page.inner_text("#legend")
    for word in ("NORMAL", "AMBER", "RED", "CRITICAL"):
        assert word in legend  # every colour has its word
    page.keyboard.press("3")
    assert page.locator("#spaces tbody tr").count() == 2
    page.screenshot(path=str(artifacts / "cop-overview.png"))


def test_a_live_alert_is_shown_and_acknowledged_from_the_page(
    page: Page, server: str, token: str, api_headers: dict[str, str], artifacts: Path
) -> None:
    open_cop(page, server)  # a police operator: the police receive every alert
    assert "police" in page.inner_text("#who")

    # 450 people on 100 m2: 4.5 persons/m2, red. The page must show it without a reload.
    started = time.monotonic()
    response = post(server, token, [reading(450)])
    assert response.status_code == 202, response.text
    page.wait_for_selector("#alerts li.level-red", timeout=ALERT_BUDGET_MS)
    page.wait_for_selector(".alert-pin.level-red", timeout=ALERT_BUDGET_MS)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert elapsed_ms < ALERT_BUDGET_MS, f"the alert took {elapsed_ms:.0f} ms to reach the screen"
    item = page.locator("#alerts li.level-red").first
    alert_id = item.get_attribute("data-alert-id")
    assert alert_id and page.locator(f".alert-pin[data-alert-id='{alert_id}']").count() == 1
    assert "RED crowd density in Test square plaza" in item.inner_text()
    assert "NEEDS ACKNOWLEDGING" in item.inner_text()
    assert item.get_attribute("aria-selected") == "true"  # the newest alert is selected
    page.screenshot(path=str(artifacts / "cop-alert.png"))

    page.keyboard.press("a")  # acknowledge the selected alert
    page.wait_for_selector("#incident-count:text('1')", timeout=5000)
    incidents = httpx.get(server + "/api/v1/incidents", headers=api_headers).json()
    assert len(incidents) == 1
    assert incidents[0]["status"] == "acknowledged"
    assert alert_id in incidents[0]["alert_ids"]
    detail = httpx.get(f"{server}/api/v1/incidents/{incidents[0]['id']}", headers=api_headers)
    assert [t["actor"] for t in detail.json()["timeline"]] == ["police", "police"]
    page.wait_for_selector(".alert-pin", state="detached", timeout=5000)  # nothing left to do
    assert "Incident acknowledged" in item.inner_text()

    # the incident board: dispatch, a unit, a note, a measure, all recorded in the API
    page.keyboard.press("i")
    board = page.locator("#incident-detail")
    board.locator("button[data-to='dispatched']").click()
    page.wait_for_selector("#incident-detail[data-status='dispatched']")
    page.fill("#unit-id", "patrol-12")
    board.get_by_role("button", name="Assign").click()
    page.wait_for_selector("#incident-detail li:has-text('patrol-12')")
    page.fill("#note-text", "Stewards at the north gate <b>not bold</b>")
    board.get_by_role("button", name="Add note").click()
    page.wait_for_selector("#incident-detail .notes li")
    assert page.locator("#incident-detail .notes b").count() == 0  # text stays text
    measures = board.locator(".measure button[data-status='activated']")
    if measures.count():
        measures.first.click()
        page.wait_for_selector("#incident-detail .measure-activated")
    url = f"{server}/api/v1/incidents/{incidents[0]['id']}"
    detail = httpx.get(url, headers=api_headers).json()
    assert detail["status"] == "dispatched"
    assert detail["active_units"] == ["patrol-12"]
    assert detail["notes"][0]["detail"].startswith("Stewards at the north gate")
    page.screenshot(path=str(artifacts / "cop-incident.png"))

    # the space's last hour, from the history route, drawn as SVG with its thresholds
    page.keyboard.press("1")
    page.keyboard.press("s")
    page.wait_for_selector(
        "#space-detail[data-space-id='plaza'] svg.chart circle.density-now", state="attached"
    )
    assert "RED 4" in (page.text_content("#space-detail svg.chart") or "")
    page.screenshot(path=str(artifacts / "cop-space.png"))


def test_devices_dead_letters_keyboard_and_tablet(
    page: Page, server: str, token: str, artifacts: Path
) -> None:
    assert post(server, token, [reading(20)]).status_code == 202
    bad = post(server, token, [{"sensor_id": "camera-1", "space_id": "plaza", "value": "x"}])
    assert bad.status_code in (400, 422)
    open_cop(page, server, "infra")  # the IoT operator sees the sensors and what they sent
    page.keyboard.press("4")
    page.wait_for_selector("#devices tr[data-sensor-id='camera-1']")
    page.wait_for_selector("#dead-letters tr[data-letter-id]")
    assert page.inner_text("#dead-letter-count") == "1"
    page.screenshot(path=str(artifacts / "cop-devices.png"))

    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#help").is_visible()

    # a tablet held upright: the map above, the panels below, nothing wider than the screen
    page.set_viewport_size({"width": 800, "height": 1280})
    page.keyboard.press("1")
    page.wait_for_timeout(300)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 800
    box = page.locator("#map").bounding_box()
    assert box is not None and box["width"] >= 700
    page.screenshot(path=str(artifacts / "cop-tablet.png"))
