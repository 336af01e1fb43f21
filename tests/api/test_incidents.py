"""Incidents over the real app: open from an alert, lifecycle, units, notes, measures, errors,
and every change stored, audited (with the signed-in operator as the actor) and published."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.events import Alert, IncidentStateChanged, Level, event_from_json
from smartspaces.store import Store
from smartspaces.store.tables import AuditRow, IncidentChangeRow
from tests.api.conftest import add_user, seed, sign_in
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
    for name in ("operator-1", "operator-2"):
        add_user(opened, name)  # both in the police control room
    yield opened
    opened.close()


@pytest.fixture
def client(settings: Settings, store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def op1(client: TestClient) -> dict[str, str]:
    return sign_in(client, "operator-1")


@pytest.fixture
def op2(client: TestClient) -> dict[str, str]:
    return sign_in(client, "operator-2")


def post(client: TestClient, path: str, who: dict[str, str], **body: Any) -> Any:
    answer = client.post(f"/api/v1/incidents{path}", json=body, headers=who)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_open_proposes_the_playbook_and_walks_the_whole_lifecycle(
    client: TestClient,
    store: Store,
    op1: dict[str, str],
    op2: dict[str, str],
    eventually: Callable[..., Any],
) -> None:
    case = post(client, "", op1, alert_id=AMBER.id, note="seen on camera 3")
    assert case["status"] == "new" and case["alert_ids"] == [AMBER.id] and case["version"] == 1
    proposed = {m["spec"]["id"]: m["status"] for m in case["measures"]}
    assert proposed["meter-sant-vicent"] == "proposed" and "stop-sant-vicent" not in proposed
    assert case["notes"][0]["detail"] == "seen on camera 3"
    path = f"/{case['id']}"
    for status in ("acknowledged", "dispatched"):
        case = post(client, f"{path}/transitions", op1, to=status, note="ok")
    case = post(client, f"{path}/units", op1, unit_id="patrol-7")
    assert case["active_units"] == ["patrol-7"]
    case = post(client, f"{path}/measures/meter-sant-vicent", op2, status="activated")
    case = post(client, f"{path}/alerts", op1, alert_id=RED.id)
    assert "stop-sant-vicent" in {m["spec"]["id"] for m in case["measures"]}
    case = post(client, f"{path}/units/patrol-7/release", op1)
    for status in ("on_scene", "resolved", "closed"):
        case = post(client, f"{path}/transitions", op2, to=status)
    assert case["status"] == "closed" and case["version"] == 10
    assert case["time_to_acknowledge_s"] >= 0 and case["time_to_resolve_s"] >= 0
    actions = [e["action"] for e in case["timeline"]]
    assert actions[:2] == ["opened", "measure"] and actions.count("status") == 5
    assert {e["actor"] for e in case["timeline"]} == {"operator-1", "operator-2"}
    assert client.get(f"/api/v1/incidents{path}", headers=op1).json() == case
    listed = client.get("/api/v1/incidents", params={"status": "closed"}, headers=op1).json()
    assert [c["id"] for c in listed] == [case["id"]]
    assert client.get("/api/v1/incidents", params={"space_id": "plaza"}, headers=op1).json() == []
    # every change audited with who, and published (then stored by the pipeline)
    with Session(store.engine) as session:
        query = select(AuditRow).where(
            AuditRow.target == case["id"], AuditRow.action.not_like("%.read")
        )
        audited = list(session.scalars(query))
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


def test_reads_are_audited(client: TestClient, store: Store, op1: dict[str, str]) -> None:
    case = post(client, "", op1, alert_id=AMBER.id)
    client.get(f"/api/v1/incidents/{case['id']}", headers=op1)
    client.get("/api/v1/incidents", headers=op1)
    with Session(store.engine) as session:
        reads = list(
            session.scalars(select(AuditRow).where(AuditRow.action.like("incident%.read")))
        )
    assert [(r.action, r.actor, r.target) for r in reads] == [
        ("incident.read", "operator-1", case["id"]),
        ("incidents.read", "operator-1", "incidents"),
    ]
    assert json.loads(reads[0].details)["agency"] == "valencia-police"


def test_bad_requests_get_clear_answers(client: TestClient, op1: dict[str, str]) -> None:
    case = post(client, "", op1, alert_id=OTHER.id)
    path = f"/api/v1/incidents/{case['id']}"

    def send(url: str, **body: Any) -> Any:
        return client.post(url, json=body, headers=op1)

    assert client.get("/api/v1/incidents/inc-nope", headers=op1).status_code == 404
    assert send("/api/v1/incidents", alert_id="alert-x").status_code == 404
    # one incident per alert, and none for a cancellation
    again = send("/api/v1/incidents", alert_id=OTHER.id)
    assert again.status_code == 409 and case["id"] in again.json()["detail"]
    assert send("/api/v1/incidents", alert_id=CANCEL.id).status_code == 409
    illegal = send(f"{path}/transitions", to="closed")
    assert illegal.status_code == 409
    assert illegal.json()["detail"]["allowed"] == ["acknowledged"]
    unknown = send(f"{path}/measures/nope", status="done")
    assert unknown.status_code == 404  # a space no playbook covers has no measures at all
    assert send(f"{path}/units/patrol-1/release").status_code == 404
    assert send(f"{path}/notes", text="x" * 2001).status_code == 422
    # who acts comes from the sign-in: a body naming an actor is refused, not believed
    impostor = send(f"{path}/notes", text="hi", actor="someone-else")
    assert impostor.status_code == 422 and "actor" in impostor.text
    assert client.get(path, headers=op1).json()["version"] == 1  # nothing refused was recorded


def test_measure_steps_are_checked(client: TestClient, op1: dict[str, str]) -> None:
    case = post(client, "", op1, alert_id=AMBER.id)
    path = f"/{case['id']}/measures/patrol-square"
    post(client, path, op1, status="activated")
    done = post(client, path, op1, status="done", reason="both patrols there")
    measure = next(m for m in done["measures"] if m["spec"]["id"] == "patrol-square")
    assert [h["status"] for h in measure["history"]] == ["proposed", "activated", "done"]
    url = f"/api/v1/incidents{path}"
    again = client.post(url, json={"status": "activated"}, headers=op1)
    assert again.status_code == 409 and "is done" in again.json()["detail"]
    assert client.post(url, json={"status": "x"}, headers=op1).status_code == 422
