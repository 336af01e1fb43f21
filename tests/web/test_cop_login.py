"""Signing in to the COP in a real browser: nothing shows before sign-in, a wrong password is
told, the session cookie stays out of the page's reach, an ended session brings the form back,
and signing out leaves nothing on the screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smartspaces.config import Settings
from smartspaces.config.security import DEVELOPMENT_DEMO_PASSWORD
from smartspaces.store import Store
from tests.web.conftest import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_sign_in_out_and_an_ended_session(
    page: Page, server: str, settings: Settings, artifacts: Path
) -> None:
    page.goto(server + "/")
    page.wait_for_selector("#login:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "login-user"
    assert page.locator("#connection.online").count() == 0  # no stream before sign-in
    page.fill("#login-user", "police")
    page.fill("#login-password", "not the password")
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_selector("#login-error:text('wrong user name or password')")
    page.screenshot(path=str(artifacts / "cop-login.png"))
    assert "password" not in page.url

    page.fill("#login-password", DEVELOPMENT_DEMO_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_selector("#connection.online", timeout=15_000)
    assert page.inner_text("#who").startswith("police")
    assert "smartspaces_session" not in page.evaluate("document.cookie")  # HttpOnly
    assert page.evaluate("JSON.stringify(localStorage)") == "{}"

    # the server ends every session (a new secret, an administrator...): the form comes back
    store = Store(settings.store.database_url())
    store.accounts.end_sessions(username="police")
    store.close()
    page.keyboard.press("3")
    page.wait_for_selector("#login:not([hidden])", timeout=10_000)
    sign_in(page, server, "city")
    assert page.inner_text("#who").startswith("city")

    page.locator("#sign-out").click()
    page.wait_for_selector("#login:not([hidden])")
    page.wait_for_load_state()
    assert page.locator("#alerts li").count() == 0
    assert page.evaluate("fetch('/api/v1/auth/me').then(r => r.status)") == 401
