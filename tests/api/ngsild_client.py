"""A client for the NGSI-LD tests: spaces, devices with tokens, late data allowed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.store import Store
from smartspaces.store.tables import ObservationRow
from tests.conftest import register, square


@contextmanager
def ngsild_client(tmp_path: Path, *devices: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app whose store has the plaza and ``devices`` (all serving it); yields the client and
    each device's token. Readings up to 20 years old are accepted (the examples are from 2018)."""
    settings = Settings(  # type: ignore[arg-type]
        store={"data_dir": tmp_path},
        api={"max_age_s": 20 * 365 * 86_400.0},
        mqtt={"enabled": False},
    )
    store = Store(settings.store.database_url())
    store.migrate()
    store.put_spaces([square("plaza", area_m2=100.0), square("calle", area_m2=50.0)])
    tokens = {device: register(store, device) for device in devices}
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, tokens


def stored_observations(client: TestClient, expected: int) -> list[tuple[str, float, float | None]]:
    """(quantity, value, interval_s) of the stored observations, once ``expected`` are there."""
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while store.count("observation") < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    with Session(store.engine) as session:
        rows = session.execute(select(ObservationRow.payload)).scalars().all()
    found = [json.loads(p) for p in rows]
    return sorted((o["quantity"], o["value"], o["interval_s"]) for o in found)
