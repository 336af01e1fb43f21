"""The infrastructure layer of the COP, on the demo's real spaces and shipped city model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smartspaces.config import Settings
from tests.web.conftest import cop_app, serve, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    # an empty store: the server seeds the València spaces, and with them the city model
    yield from serve(cop_app(settings))


def test_assets_are_drawn_with_their_state_and_can_be_switched_off(
    page: Page, server: str, artifacts: Path
) -> None:
    sign_in(page, server, "infra")
    page.wait_for_selector("path.leaflet-interactive[data-asset-id]", state="attached")
    assets = page.locator("path.leaflet-interactive[data-asset-id]")
    assert assets.count() >= 20  # substations, telecom, metro, hospital, cameras, counters
    assert (
        page.locator("[data-asset-id='substation-ciutat-vella']").get_attribute("data-state")
        == "up"
    )
    page.screenshot(path=str(artifacts / "cop-infrastructure.png"))
    # the layer control switches the infrastructure off and on again
    page.hover(".leaflet-control-layers")
    switch = page.locator(".leaflet-control-layers-overlays label", has_text="Infrastructure")
    switch.locator("input").uncheck()
    assert page.locator("path[data-asset-id]").count() == 0
    switch.locator("input").check()
    page.wait_for_selector("path[data-asset-id]", state="attached")
