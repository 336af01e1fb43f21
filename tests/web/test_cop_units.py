"""The responder units layer of the COP, on the demo's real spaces and shipped units: labelled
markers with their state in words, a change made through the API shown without a reload, the
layer switched off and on, and no layer for a role that may not see units."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from smartspaces.config import Settings
from smartspaces.scenarios.valencia.units import shipped_units
from tests.api.conftest import admin_key
from tests.web.conftest import cop_app, serve, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    # an empty store: the server seeds the València spaces, and with them the demo's units
    yield from serve(cop_app(settings))


def test_units_are_labelled_on_the_map_and_follow_a_change(
    page: Page, server: str, settings: Settings, artifacts: Path
) -> None:
    sign_in(page, server, "police")
    page.wait_for_selector(".unit[data-unit-id='police-p12']")
    assert page.locator(".unit[data-unit-id]").count() == len(shipped_units())
    p12 = page.locator(".unit[data-unit-id='police-p12']")
    assert p12.inner_text().split() == ["POLICE", "P-12", "available"]
    assert "on scene" in page.inner_text(".unit[data-unit-id='civil-protection-cp1']")
    samu = page.locator(".unit[data-unit-id='ambulance-samu-2']")
    assert samu.inner_text().startswith("AMBULANCE SAMU-2")
    # the state is in words and in the border's style, not in colour alone
    styles = {
        s: page.locator(f".unit[data-state='{s}']").first.evaluate(
            "e => getComputedStyle(e).borderTopStyle"
        )
        for s in ("available", "en_route", "on_scene", "out_of_service")
    }
    assert len(set(styles.values())) == 4, styles
    page.screenshot(path=str(artifacts / "cop-units.png"))

    # the police control room sends P-12 to the square: the page follows without a reload
    change = {
        "state": "en_route",
        "location": {"type": "Point", "coordinates": [-0.3763, 39.4699]},
        "note": "to the square",
    }
    headers = {"X-API-Key": admin_key(settings)}
    answer = httpx.patch(f"{server}/api/v1/units/police-p12", json=change, headers=headers)
    assert answer.status_code == 200, answer.text
    page.wait_for_selector(".unit[data-unit-id='police-p12'][data-state='en_route']", timeout=8000)
    assert "en route" in p12.inner_text()

    # the layer switcher hides the units and brings them back
    page.hover(".leaflet-control-layers")
    units_box = page.get_by_label("Responder units")
    units_box.uncheck()
    assert page.locator(".unit[data-unit-id]").count() == 0
    units_box.check()
    page.wait_for_selector(".unit[data-unit-id='police-p12']")


def test_a_role_without_units_gets_no_units_layer(page: Page, server: str) -> None:
    sign_in(page, server, "infra")  # the IoT operator: infrastructure, not responders
    page.wait_for_selector("path.leaflet-interactive[data-asset-id]", state="attached")
    page.wait_for_timeout(500)
    assert page.locator(".unit").count() == 0
    assert "Responder units" not in page.inner_text(".leaflet-control-layers")
