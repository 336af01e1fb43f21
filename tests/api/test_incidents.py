"""Incidents over the real app: open from an alert, lifecycle, units, notes, measures, errors,
and every change stored, audited and published."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.api import create_app, incidents
from smartspaces.config import Settings
from smartspaces.events import Alert, IncidentStateChanged, Level, event_from_json
from smartspaces.store import Store
from smartspaces.store.tables import AuditRow, IncidentChangeRow
from tests.api.conftest import seed
from tests.conftest import T0, square

SQUARE = "plaza-ayuntamiento"  # a space the shipped València playbook covers


def alert(level: Level, minute: int = 0, space_id: str = SQUARE, **extra: Any) -> Alert:
    return Alert(
        source="alerts.policy",
        space_id=space_id,
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0 + timedelta(minutes=minute),
        alert_type="crowd.density",
        level=level,
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        headline=f"{level.value.upper()} crowd density",
        **extra,
    )


AMBER = alert(Level.AMBER)
RED = alert(Level.RED, 2, msg_type="Update", references=(AMBER.id,))
OTHER = alert(Level.AMBER, 5, space_id="plaza")
CANCEL = alert(Level.NORMAL, 9, msg_type="Cancel", references=(AMBER.id,))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A second handle on the app's database, to look behind the API."""
    seed(settings)
    opened = Store(settings.store.database_url())
    opened.put_spaces([square(SQUARE)])
    opened.append_events([AMBER, RED, OTHER, CANCEL])
    yield opened
    opened.close()


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    app = create_app(settings)
    # until app.py includes the router itself
    if not any(getattr(r, "path", "").startswith(incidents.router.prefix) for r in app.routes):
        app.include_router(incidents.router)
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, path: str, **body: Any) -> Any:
    answer = client.post(f"/api/v1/incidents{path}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_open_proposes_the_playbook_and_walks_the_whole_lifecycle(
    client: TestClient, store: Store, eventually: Callable[..., Any]
) -> None:
    case = post(client, "", alert_id=AMBER.id, actor="operator-1", note="seen on camera 3")
    assert case["status"] == "new" and case["alert_ids"] == [AMBER.id] and case["version"] == 1
    proposed = {m["spec"]["id"]: m["status"] for m in case["measures"]}
    assert proposed["meter-sant-vicent"] == "proposed" and "stop-sant-vicent" not in proposed
    assert case["notes"][0]["detail"] == "seen on camera 3"
    path = f"/{case['id']}"
    for status in ("acknowledged", "dispatched"):
        case = post(client, f"{path}/transitions", to=status, actor="operator-1", note="ok")
    case = post(client, f"{path}/units", unit_id="patrol-7", actor="operator-1")
    assert case["active_units"] == ["patrol-7"]
    case = post(client, f"{path}/measures/meter-sant-vicent", status="activated", actor="op-2")
    case = post(client, f"{path}/alerts", alert_id=RED.id, actor="operator-1")
    assert "stop-sant-vicent" in {m["spec"]["id"] for m in case["measures"]}
    case = post(client, f"{path}/units/patrol-7/release", actor="operator-1")
    for status in ("on_scene", "resolved", "closed"):
        case = post(client, f"{path}/transitions", to=status, actor="operator-2")
    assert case["status"] == "closed" and case["version"] == 10
    assert case["time_to_acknowledge_s"] >= 0 and case["time_to_resolve_s"] >= 0
    actions = [e["action"] for e in case["timeline"]]
    assert actions[:2] == ["opened", "measure"] and actions.count("status") == 5
    assert client.get(f"/api/v1/incidents{path}").json() == case
    listed = client.get("/api/v1/incidents", params={"status": "closed"}).json()
    assert [c["id"] for c in listed] == [case["id"]]
    assert client.get("/api/v1/incidents", params={"space_id": "plaza"}).json() == []
    # every change audited with who, and published (then stored by the pipeline)
    with Session(store.engine) as session:
        audited = list(session.scalars(select(AuditRow).where(AuditRow.target == case["id"])))
    assert [a.action for a in audited][:2] == ["incident.opened", "incident.status"]
    assert len(audited) == 10 and audited[-1].actor == "operator-2"
    assert eventually(lambda: store.count("incident_state_changed") == 9)
    assert eventually(lambda: store.count("incident") == 1)
    assert json.loads(audited[-1].details)["change"] == "status: resolved -> closed"
    with Session(store.engine) as session:
        query = select(IncidentChangeRow.payload).where(IncidentChangeRow.to_status == "closed")
        closed = event_from_json(session.scalars(query).one())
    assert isinstance(closed, IncidentStateChanged) and closed.actor == "operator-2"
    assert closed.derived_from == (case["id"], AMBER.id, RED.id)


def test_bad_requests_get_clear_answers(client: TestClient) -> None:
    case = post(client, "", alert_id=OTHER.id, actor="operator-1")
    path = f"/api/v1/incidents/{case['id']}"
    assert client.get("/api/v1/incidents/inc-nope").status_code == 404
    assert (
        client.post("/api/v1/incidents", json={"alert_id": "alert-x", "actor": "a"}).status_code
        == 404
    )
    # one incident per alert, and none for a cancellation
    again = client.post("/api/v1/incidents", json={"alert_id": OTHER.id, "actor": "a"})
    assert again.status_code == 409 and case["id"] in again.json()["detail"]
    cancel = client.post("/api/v1/incidents", json={"alert_id": CANCEL.id, "actor": "a"})
    assert cancel.status_code == 409
    illegal = client.post(f"{path}/transitions", json={"to": "closed", "actor": "a"})
    assert illegal.status_code == 409
    assert illegal.json()["detail"]["allowed"] == ["acknowledged"]
    unknown = client.post(f"{path}/measures/nope", json={"status": "done", "actor": "a"})
    assert unknown.status_code == 404  # a space no playbook covers has no measures at all
    release = client.post(f"{path}/units/patrol-1/release", json={"actor": "a"})
    assert release.status_code == 404
    long_note = client.post(f"{path}/notes", json={"text": "x" * 2001, "actor": "a"})
    assert long_note.status_code == 422
    bad_actor = client.post(f"{path}/notes", json={"text": "hi", "actor": "<script>"})
    assert bad_actor.status_code == 422
    assert client.get(path).json()["version"] == 1  # nothing refused was recorded


def test_measure_steps_are_checked(client: TestClient) -> None:
    case = post(client, "", alert_id=AMBER.id, actor="operator-1")
    path = f"/{case['id']}/measures/patrol-square"
    post(client, path, status="activated", actor="op")
    done = post(client, path, status="done", actor="op", reason="both patrols there")
    measure = next(m for m in done["measures"] if m["spec"]["id"] == "patrol-square")
    assert [h["status"] for h in measure["history"]] == ["proposed", "activated", "done"]
    again = client.post(f"/api/v1/incidents{path}", json={"status": "activated", "actor": "op"})
    assert again.status_code == 409 and "is done" in again.json()["detail"]
    assert (
        client.post(f"/api/v1/incidents{path}", json={"status": "x", "actor": "op"}).status_code
        == 422
    )
