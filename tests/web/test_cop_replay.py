"""The COP's time slider in a real browser: dragging back to a red crowd of 40 minutes ago shows
the space, the table and the alert as they were then, alert keys are held back while replaying,
and "Live" returns to the present."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.web.conftest import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SPAN_S = 6 * 3600


def reading(value: float, at: datetime) -> dict[str, Any]:
    return {
        "sensor_id": "camera-1",
        "space_id": "plaza",
        "quantity": "occupancy_persons",
        "value": value,
        "observed_at": at.isoformat(),
    }


def drag_to(page: Page, minutes_ago: float) -> None:
    """Drag the slider's thumb with the mouse to about ``minutes_ago`` and let go."""
    box = page.locator("#replay-slider").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] - 4, y)  # the thumb rests at "now", on the right
    page.mouse.down()
    fraction = 1 - (minutes_ago * 60) / SPAN_S
    page.mouse.move(box["x"] + box["width"] * fraction, y, steps=8)
    page.mouse.up()


def test_the_slider_replays_a_past_red_crowd_and_returns_to_live(
    page: Page, server: str, token: str, artifacts: Path
) -> None:
    now = datetime.now(UTC)
    body = [reading(450, now - timedelta(minutes=50)), reading(20, now - timedelta(minutes=20))]
    answer = httpx.post(
        server + "/api/v1/observations", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 202, answer.text
    sign_in(page, server, "police")
    plaza = page.locator("path.leaflet-interactive[data-space-id='plaza']")
    page.wait_for_selector("#alerts li.level-red", state="attached")
    page.wait_for_function(
        "document.querySelector(\"path[data-space-id='plaza']\")?.dataset.risk === 'normal'"
    )
    assert page.locator("#replay-live").is_disabled()

    drag_to(page, 40)
    page.wait_for_selector("#replay-bar[data-at]")
    at = datetime.fromisoformat(page.get_attribute("#replay-bar", "data-at") or "")
    assert timedelta(minutes=48) > now - at > timedelta(minutes=22), at  # where the hand let go
    page.wait_for_selector("body.replaying")
    assert plaza.get_attribute("data-risk") == "red"  # the map as it was then
    assert "REPLAY" in page.inner_text("#replay-time")
    assert not page.locator("#alerts").is_visible()
    replayed = page.locator("#replay-alerts li.level-red")
    assert replayed.count() == 1
    assert "Then: Not acknowledged yet" in replayed.inner_text()
    page.wait_for_selector(".alert-pin.level-red")  # it was waiting then
    page.keyboard.press("3")
    row = page.locator("#spaces tbody tr[data-space-id='plaza']")
    assert "4.50" in row.inner_text() and "RED" in row.inner_text()
    page.keyboard.press("1")
    page.screenshot(path=str(artifacts / "cop-replay.png"))

    # nobody acknowledges the past by mistake
    page.keyboard.press("a")
    assert "Replaying the past" in page.inner_text("#notice")
    incidents = httpx.get(server + "/api/v1/incidents", headers=page_headers(page)).json()
    assert incidents == []

    page.locator("#replay-live").click()
    page.wait_for_selector("body:not(.replaying)")
    assert plaza.get_attribute("data-risk") == "normal"
    assert page.inner_text("#replay-time") == "LIVE"
    assert page.locator("#alerts").is_visible()
    assert page.locator("#replay-slider").input_value() == "0"

    # the keyboard: the slider moves with the arrow keys, l comes back
    page.locator("#replay-slider").focus()
    for _ in range(45):
        page.keyboard.press("ArrowLeft")  # one minute per press
    page.wait_for_selector("body.replaying")
    page.wait_for_function(
        "document.querySelector(\"path[data-space-id='plaza']\")?.dataset.risk === 'red'"
    )
    page.locator("#replay-slider").blur()
    page.keyboard.press("l")
    page.wait_for_selector("body:not(.replaying)")


def page_headers(page: Page) -> dict[str, str]:
    """The signed-in page's session, to look behind it with the same rights."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    return {"Cookie": f"smartspaces_session={cookies['smartspaces_session']}"}
