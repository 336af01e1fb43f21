"""An API client over a real app: embedded bus and SQLite store in a temporary folder."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
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


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client sending the plaza gateway's token with every request."""
    token = seed(settings)
    headers = {"Authorization": f"Bearer {token}"}
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
