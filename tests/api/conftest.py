"""An API client over a real app: embedded bus and SQLite store in a temporary folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.config.security import SecuritySettings
from smartspaces.security.accounts import AccountService
from smartspaces.store import Store
from tests.conftest import register, square

SENSORS = ("counter-1", "counter-2", "counter-9", "camera-1", "c")


def seed(settings: Settings) -> str:
    """Two spaces, a gateway for the plaza and its sensors; returns the gateway's token."""
    store = Store(settings.store.database_url())
    store.migrate()
    store.put_spaces([square("plaza", area_m2=100.0), square("calle", area_m2=50.0)])
    token = register(store, "gateway-1", kind="gateway")
    for sensor in SENSORS:
        register(store, sensor, gateway_id="gateway-1")
    store.close()
    return token


def issue_key(
    store: Store,
    role: str = "administrator",
    agency: str = "valencia-city",
    spaces: Iterable[str] | None = None,
) -> str:
    """A new API key for a machine client of ``role`` in ``agency`` (shown once)."""
    accounts = AccountService(store.accounts, SecuritySettings())
    _, key = accounts.issue_key(f"test {role}", role, agency, datetime.now(UTC), spaces)
    return key


def admin_key(settings: Settings) -> str:
    """An administrator's API key in the settings' store."""
    store = Store(settings.store.database_url())
    store.migrate()
    try:
        return issue_key(store)
    finally:
        store.close()


PASSWORD = "correct horse battery staple"  # noqa: S105 - the test users' password


def add_user(
    store: Store,
    username: str,
    role: str = "police_operator",
    agency: str = "valencia-police",
    spaces: Iterable[str] | None = None,
) -> None:
    """A user who signs in with ``PASSWORD``."""
    accounts = AccountService(store.accounts, SecuritySettings())
    accounts.add_user(username, PASSWORD, role, agency, datetime.now(UTC), spaces)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign ``username`` in; returns the headers of their session (cookie and CSRF token),
    leaving the client's own cookie jar empty so that several people can share one client."""
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    session = answer.cookies["smartspaces_session"]
    client.cookies.clear()
    return {"Cookie": f"smartspaces_session={session}", "X-CSRF-Token": answer.json()["csrf_token"]}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client sending the plaza gateway's token (ingest) and an administrator's API key (every
    other route) with every request."""
    token = seed(settings)
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": admin_key(settings)}
    with TestClient(create_app(settings), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def eventually() -> Callable[[Callable[[], Any]], Any]:
    """Retry a check until it returns something truthy (the pipeline runs asynchronously)."""

    def wait(check: Callable[[], Any], timeout_s: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            result = check()
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.05)

    return wait
