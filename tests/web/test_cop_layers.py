"""The COP's device and incident layers in a real browser: located sensors and cameras with their
health in words and shapes (a silent one reported by the edge's own health monitor), devices
without a location left to the panel, an incident opened through the API drawn until resolved,
both layers in the switcher and hidden during a replay. Screenshot: tests/artifacts/cop-layers.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from smartspaces.config import Settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.events import Device, GeoPoint
from smartspaces.store import Store
from tests.api.conftest import issue_key
from tests.web.conftest import cop_app, serve, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
DEVICES = "Sensors and cameras (live)"
INCIDENTS = "Incidents (live)"
HOSTILE = '<img src=x onerror="document.title=1">'
LOCATED = {  # device id -> (name, where, expected interval)
    "cam-1": ("Plaza camera", (-0.37645, 39.47005), None),
    "ctr-silent": ("North gate", (-0.37615, 39.47005), 0.3),
    "ctr-later": ("South gate", (-0.3763, 39.46975), None),
    "cam-odd": (HOSTILE, (-0.37655, 39.46985), None),
}


@pytest.fixture
def keys(settings: Settings, token: str) -> dict[str, str]:
    """Devices registered before the server starts (its health monitor watches them), and keys:
    the plaza gateway's token, an administrator's and a city operator's API key."""
    store = Store(settings.store.database_url())
    store.migrate()
    for device_id, (name, (lon, lat), interval) in LOCATED.items():
        store.devices.put(
            Device(
                id=device_id,
                kind="camera" if device_id.startswith("cam") else "people_counter",
                space_id="plaza",
                gateway_id="gateway-1",
                name=name,
                location=GeoPoint(coordinates=(lon, lat)),
                expected_interval_s=interval,
                token_sha256=hash_token(new_token()),
            )
        )
    found = {
        "gateway": token,
        "admin": issue_key(store),
        "city": issue_key(store, "city_operator", "valencia-city"),
    }
    store.close()
    return found


@pytest.fixture
def server(settings: Settings, keys: dict[str, str]) -> Iterator[str]:
    yield from serve(cop_app(settings))


def send(server: str, keys: dict[str, str], sensor: str, value: float = 3) -> None:
    reading = {
        "sensor_id": sensor,
        "space_id": "plaza",
        "quantity": "occupancy_persons",
        "value": value,
        "observed_at": datetime.now(UTC).isoformat(),
    }
    answer = httpx.post(
        server + "/api/v1/observations",
        json=[reading],
        headers={"Authorization": f"Bearer {keys['gateway']}"},
    )
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text


def wait_for(check: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def device_map(server: str, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    answer = httpx.get(server + "/api/v1/devices/map", headers={"X-API-Key": keys["admin"]})
    assert answer.status_code == 200, answer.text
    return {d["id"]: d for d in answer.json()}


def words(text: str) -> str:
    """A label's text on one line (its parts are flex items: innerText breaks between them)."""
    return " ".join(text.split())


def shape(page: Page, device_id: str) -> str:
    return page.locator(f".device[data-device-id='{device_id}'] .device-shape").evaluate(
        "e => { const s = getComputedStyle(e); "
        "return [s.borderRadius, s.backgroundColor, s.borderTopWidth, s.transform].join('|'); }"
    )


def test_devices_are_on_the_map_with_their_health_in_words_and_shapes(
    page: Page, server: str, keys: dict[str, str]
) -> None:
    for sensor in ("cam-1", "ctr-silent", "cam-odd", "counter-1"):  # counter-1 has no location
        send(server, keys, sensor)
    # ctr-silent promised a reading every 0.3 s: the server's health monitor reports it silent
    silent = wait_for(
        lambda: device_map(server, keys)["ctr-silent"]["health_quantity"] == "device_silence_s"
    )
    assert silent, device_map(server, keys)

    sign_in(page, server, "city")
    camera = page.locator(".device[data-device-id='cam-1']")
    camera.wait_for()
    assert camera.get_attribute("data-health") == "ok"
    assert camera.inner_text().split() == ["Plaza", "camera", "OK"]
    quiet = page.locator(".device[data-device-id='ctr-silent']")
    assert quiet.get_attribute("data-health") == "silent"
    assert words(quiet.inner_text()).startswith("North gate SILENT")
    # the shape differs with the health, so colour is not the only cue
    assert shape(page, "cam-1") != shape(page, "ctr-silent")
    later = page.locator(".device[data-device-id='ctr-later']")
    assert later.get_attribute("data-health") == "unheard" and "NO DATA" in later.inner_text()
    # a hostile name is shown as text, never as markup
    odd = page.locator(".device[data-device-id='cam-odd']")
    assert HOSTILE in odd.inner_text() and odd.locator("img").count() == 0
    legend = page.inner_text("#legend")
    for word in ("OK", "SILENT", "FLAPPING", "CLOCK SKEWED", "DISABLED", "NO DATA"):
        assert word in legend
    # devices without a location stay off the map; the panel still lists them
    assert page.locator(".device[data-device-id='counter-1']").count() == 0
    page.keyboard.press("4")
    page.wait_for_selector("#devices tbody tr[data-sensor-id='counter-1']")

    # the layer is polled: a device heard for the first time turns OK without a reload
    send(server, keys, "ctr-later")
    page.wait_for_selector(".device[data-device-id='ctr-later'][data-health='ok']", timeout=15_000)

    page.hover(".leaflet-control-layers")
    switch = page.get_by_label(DEVICES)
    switch.uncheck()
    assert page.locator(".device[data-device-id]").count() == 0
    switch.check()
    page.wait_for_selector(".device[data-device-id='cam-1']")


def test_an_incident_opened_through_the_api_is_on_the_map_until_resolved(
    page: Page, server: str, keys: dict[str, str], artifacts: Path
) -> None:
    send(server, keys, "cam-1")
    send(server, keys, "ctr-silent")
    silent = wait_for(lambda: device_map(server, keys)["ctr-silent"]["health"] == "silent")
    assert silent, device_map(server, keys)
    sign_in(page, server, "city")
    page.wait_for_selector(".device[data-device-id='ctr-silent'][data-health='silent']")
    assert page.locator(".incident-mark").count() == 0

    send(server, keys, "camera-1", 450)  # 4.5 persons/m2 on the plaza: a red alert
    page.wait_for_selector("#alerts li.level-red")
    alert_id = page.locator("#alerts li.level-red").first.get_attribute("data-alert-id")
    city = {"X-API-Key": keys["city"]}
    opened = httpx.post(f"{server}/api/v1/incidents", json={"alert_id": alert_id}, headers=city)
    assert opened.status_code == 201, opened.text
    incident = opened.json()
    mark = page.locator(f".incident-mark[data-incident-id='{incident['id']}']")
    mark.wait_for(timeout=5000)
    assert incident["title"] in mark.inner_text()
    # the state in words (shown upper case), the level in a word besides its colour
    assert words(mark.inner_text()).lower().endswith(" new") and "RED" in mark.inner_text()
    assert mark.get_attribute("data-space-id") == "plaza"
    box, area = mark.bounding_box(), page.locator("#map").bounding_box()
    assert (
        box
        and area
        and area["x"] <= box["x"]
        and box["x"] + box["width"] <= area["x"] + area["width"]
    )

    url = f"{server}/api/v1/incidents/{incident['id']}/transitions"
    answer = httpx.post(url, json={"to": "acknowledged"}, headers=city)
    assert answer.status_code == 200, answer.text
    page.wait_for_selector(
        f".incident-mark[data-incident-id='{incident['id']}'][data-status='acknowledged']"
    )
    assert words(mark.inner_text()).lower().endswith(" acknowledged")
    page.screenshot(path=str(artifacts / "cop-layers.png"))

    # a replay has no incidents nor device health: both layers hide until back to live
    page.locator("#replay-slider").fill("-600")
    page.wait_for_selector("body.replaying")
    assert not mark.is_visible()
    assert not page.locator(".device[data-device-id='cam-1']").is_visible()
    page.keyboard.press("l")
    page.wait_for_selector("body:not(.replaying)")
    assert mark.is_visible()

    # switched off and on in the layer switcher
    page.hover(".leaflet-control-layers")
    switch = page.get_by_label(INCIDENTS)
    switch.uncheck()
    assert page.locator(".incident-mark").count() == 0
    switch.check()
    mark.wait_for()

    # clicking it opens the incident on the board
    mark.click()
    page.wait_for_selector(f"#incident-detail[data-incident-id='{incident['id']}']")

    answer = httpx.post(url, json={"to": "resolved"}, headers=city)
    assert answer.status_code == 200, answer.text
    mark.wait_for(state="detached", timeout=5000)
