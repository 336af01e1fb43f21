"""The alert format routes: CAP 1.2 XML and NGSI-LD entities of stored alerts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.events import Alert
from smartspaces.respond.alerts.cap_xml import CapSchemas
from smartspaces.store import Store
from tests.api.conftest import issue_key
from tests.conftest import shared_data, square
from tests.respond.test_cap_out import lifecycle

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture
def alerts(settings: Settings) -> list[Alert]:
    store = Store(settings.store.database_url())
    store.migrate()
    space = square("plaza", area_m2=100.0)
    store.put_spaces([space])
    issued = lifecycle(space)
    store.append_events(issued)
    store.close()
    return issued


@pytest.fixture
def police_key(settings: Settings) -> str:
    """A police control room's key: its agency receives every alert."""
    store = Store(settings.store.database_url())
    try:
        return issue_key(store, "police_operator", "valencia-police")
    finally:
        store.close()


@pytest.fixture(scope="module")
def cap_schemas() -> CapSchemas:
    return CapSchemas.from_dir(shared_data("cap", "schema"))


@pytest.fixture
def client(settings: Settings, alerts: list[Alert], police_key: str) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, headers={"X-API-Key": police_key}) as test_client:
        yield test_client


@pytest.mark.realdata
@pytest.mark.parametrize("audience", ["public", "agencies", "operators"])
def test_cap_of_every_stored_alert_is_valid(
    client: TestClient, alerts: list[Alert], cap_schemas: CapSchemas, audience: str
) -> None:
    for alert in alerts:
        answer = client.get(f"/api/v1/alerts/{alert.id}/cap", params={"audience": audience})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/cap+xml"
        root = etree.fromstring(answer.content)
        assert cap_schemas.errors(root, "1.2") == []
        assert root.findtext("cap:identifier", namespaces=NS) == alert.id


def test_cap_update_cites_the_first_alert(client: TestClient, alerts: list[Alert]) -> None:
    answer = client.get(f"/api/v1/alerts/{alerts[1].id}/cap")
    root = etree.fromstring(answer.content)
    assert root.findtext("cap:msgType", namespaces=NS) == "Update"
    assert alerts[0].id in (root.findtext("cap:references", namespaces=NS) or "")


def test_ngsi_ld_entity(client: TestClient, alerts: list[Alert]) -> None:
    answer = client.get(f"/api/v1/alerts/{alerts[2].id}/ngsi-ld")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ld+json"
    entity = answer.json()
    assert (entity["id"], entity["type"], entity["severity"]) == (
        f"urn:ngsi-ld:Alert:{alerts[2].id}",
        "Alert",
        "critical",
    )


@pytest.mark.parametrize("suffix", ["cap", "ngsi-ld"])
def test_unknown_alerts_and_other_events_are_404(client: TestClient, suffix: str) -> None:
    assert client.get(f"/api/v1/alerts/alert-nope/{suffix}").status_code == 404
    assert client.get(f"/api/v1/alerts/obs-123/{suffix}").status_code == 404


def test_bad_audience_is_422(client: TestClient, alerts: list[Alert]) -> None:
    answer = client.get(f"/api/v1/alerts/{alerts[0].id}/cap", params={"audience": "press"})
    assert answer.status_code == 422
