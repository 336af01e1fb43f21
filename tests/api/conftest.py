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
from tests.conftest import square


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    seed = Store(settings.store.database_url())
    seed.migrate()
    seed.put_spaces([square("plaza", area_m2=100.0), square("calle", area_m2=50.0)])
    seed.close()
    with TestClient(create_app(settings)) as test_client:
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
