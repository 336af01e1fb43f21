"""A small world for the security tests: two spaces, alerts, one incident owned by agency-a,
an API key for every role in agency-a (which receives the alerts) and in agency-b (which does
not), and the plaza gateway's device token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.events import Level
from smartspaces.security.roles import PERSON_ROLES
from smartspaces.store import Store
from tests.api.conftest import add_user, issue_key, seed
from tests.api.test_incidents import alert

OWN, OTHER, THIRD = "agency-a", "agency-b", "agency-c"
ALERT = alert(Level.RED, 1, space_id="plaza")
SPARE = alert(Level.AMBER, 2, space_id="plaza")  # no incident yet: one may be opened from it
CALLE = alert(Level.AMBER, 3, space_id="calle")


@dataclass
class World:
    client: TestClient
    store: Store
    settings: Settings
    keys: dict[tuple[str, str], str]  # (role, agency) -> API key
    device_token: str
    incident_id: str

    def as_role(self, role: str, agency: str = OWN) -> dict[str, str]:
        return {"X-API-Key": self.keys[(role, agency)]}


def world_settings(tmp_path: Path, **security: object) -> Settings:
    return Settings(  # type: ignore[arg-type]
        store={"data_dir": tmp_path},
        mqtt={"enabled": False},
        security={"alert_agencies": [OWN], **security},
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = world_settings(tmp_path)
    token = seed(settings)
    store = Store(settings.store.database_url())
    store.append_events([ALERT, SPARE, CALLE])
    keys = {
        (role, agency): issue_key(store, role, agency)
        for role in PERSON_ROLES
        for agency in (OWN, OTHER)
    }
    add_user(store, "ana", "police_operator", OWN)
    with TestClient(create_app(settings)) as client:
        opened = client.post(
            "/api/v1/incidents",
            json={"alert_id": ALERT.id},
            headers={"X-API-Key": keys[("police_operator", OWN)]},
        )
        assert opened.status_code == 201, opened.text
        yield World(client, store, settings, keys, token, opened.json()["id"])
    store.close()
