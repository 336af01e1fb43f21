"""Agencies and spaces: an incident belongs to the agency that opened it, alerts to the control
rooms; sharing gives another agency read or act access, and only the owner shares. A caller
limited to some spaces sees nothing of the others, over REST or the live stream."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession

from smartspaces.events import Level
from smartspaces.store.tables import AuditRow
from tests.api.conftest import issue_key
from tests.api.test_incidents import alert
from tests.security.conftest import ALERT, CALLE, OTHER, OWN, SPARE, THIRD, World


def share(world: World, path: str, agency: str, access: str, who: dict[str, str]) -> Any:
    return world.client.post(
        f"{path}/shares", json={"agency": agency, "access": access}, headers=who
    )


def test_an_incident_is_shared_to_read_then_to_act_then_withdrawn(world: World) -> None:
    owner, other = world.as_role("police_operator", OWN), world.as_role("emergency_services", OTHER)
    path = f"/api/v1/incidents/{world.incident_id}"
    assert world.client.get(path, headers=other).status_code == 403
    assert world.client.get("/api/v1/incidents", headers=other).json() == []
    answer = share(world, path, OTHER, "read", owner)
    assert answer.status_code == 200
    assert answer.json() == {
        "subject_id": world.incident_id,
        "owners": [OWN],
        "shared_with": {OTHER: "read"},
    }
    seen = world.client.get(path, headers=other)
    assert seen.status_code == 200 and seen.json()["access"] == "read"
    assert [i["access"] for i in world.client.get("/api/v1/incidents", headers=other).json()] == [
        "read"
    ]
    note = {"text": "ambulance 3 on its way"}
    assert world.client.post(f"{path}/notes", json=note, headers=other).status_code == 403
    assert share(world, path, OTHER, "act", owner).status_code == 200
    noted = world.client.post(f"{path}/notes", json=note, headers=other)
    assert noted.status_code == 200 and noted.json()["notes"][-1]["actor"].startswith("key:")
    # a partner may act, not pass the incident on: only the owner shares
    assert share(world, path, THIRD, "read", other).status_code == 403
    assert share(world, path, OWN, "read", owner).status_code == 403  # owners need no share
    withdrawn = world.client.delete(f"{path}/shares/{OTHER}", headers=owner)
    assert withdrawn.status_code == 200 and withdrawn.json()["shared_with"] == {}
    assert world.client.get(path, headers=other).status_code == 403
    with Session(world.store.engine) as session:
        query = select(AuditRow).where(AuditRow.action == "incident.shared")
        shares = [json.loads(r.details) for r in session.scalars(query)]
    assert [(s["with_agency"], s["access"]) for s in shares] == [
        (OTHER, "read"),
        (OTHER, "act"),
        (OTHER, "withdrawn"),
    ]


def test_an_alert_shared_to_act_lets_the_partner_open_its_own_incident(world: World) -> None:
    owner, other = world.as_role("city_operator", OWN), world.as_role("police_operator", OTHER)
    assert world.client.get("/api/v1/alerts", headers=other).json() == []
    path = f"/api/v1/alerts/{SPARE.id}"
    assert share(world, path, OTHER, "read", owner).status_code == 200
    listed = world.client.get("/api/v1/alerts", headers=other).json()
    assert [a["id"] for a in listed] == [SPARE.id]
    assert world.client.get(f"{path}/cap", headers=other).status_code == 200
    body = {"alert_id": SPARE.id}
    assert world.client.post("/api/v1/incidents", json=body, headers=other).status_code == 403
    assert share(world, path, OTHER, "act", owner).status_code == 200
    opened = world.client.post("/api/v1/incidents", json=body, headers=other)
    assert opened.status_code == 201
    incident = f"/api/v1/incidents/{opened.json()['id']}"
    # the incident is the partner's: the alert's owners do not see it unless it is shared
    assert world.client.get(incident, headers=owner).status_code == 403
    assert world.client.get(incident, headers=other).status_code == 200
    assert world.client.get(incident, headers=world.as_role("auditor", OWN)).status_code == 200


def test_a_caller_limited_to_a_space_sees_nothing_of_the_others(world: World) -> None:
    limited = {"X-API-Key": issue_key(world.store, "police_operator", OWN, ["calle"])}
    spaces = world.client.get("/api/v1/spaces", headers=limited).json()
    assert [s["id"] for s in spaces] == ["calle"]
    for path in (
        "/api/v1/spaces/plaza",
        "/api/v1/spaces/plaza/history",
        f"/api/v1/alerts/{ALERT.id}/cap",
        f"/api/v1/events/{ALERT.id}/provenance",
        f"/api/v1/incidents/{world.incident_id}",
    ):
        assert world.client.get(path, headers=limited).status_code == 403, path
    assert [a["id"] for a in world.client.get("/api/v1/alerts", headers=limited).json()] == [
        CALLE.id
    ]
    assert world.client.get("/api/v1/alerts?space_id=plaza", headers=limited).status_code == 403
    assert world.client.get("/api/v1/incidents", headers=limited).json() == []


def events(stream: WebSocketTestSession, count: int) -> list[str]:
    return [json.loads(stream.receive_text())["id"] for _ in range(count)]


def test_the_stream_carries_only_what_the_caller_may_see(world: World) -> None:
    publish = world.client.app.state.services.runtime.publish  # type: ignore[attr-defined]
    first = alert(Level.CRITICAL, 7, space_id="plaza")  # agency-a's only
    shared = alert(Level.CRITICAL, 8, space_id="calle")  # shared with agency-b
    world.store.append_events([shared])
    owner = world.as_role("police_operator", OWN)
    assert share(world, f"/api/v1/alerts/{shared.id}", OTHER, "read", owner).status_code == 200
    calle_only = {"X-API-Key": issue_key(world.store, "police_operator", OWN, ["calle"])}
    url = "/api/v1/stream?kinds=alert"
    with (
        world.client.websocket_connect(url, headers=owner) as own_stream,
        world.client.websocket_connect(url, headers=world.as_role("auditor", OTHER)) as auditor,
        world.client.websocket_connect(url, headers=world.as_role("city_operator", OTHER)) as other,
        world.client.websocket_connect(url, headers=calle_only) as limited,
    ):
        world.client.portal.call(publish, [first])  # type: ignore[union-attr]
        world.client.portal.call(publish, [shared])  # type: ignore[union-attr]
        assert events(own_stream, 2) == [first.id, shared.id]
        assert events(auditor, 2) == [first.id, shared.id]  # auditors read every agency's
        # the first message each of the others gets is the second alert: the first was held back
        assert events(other, 1) == [shared.id]
        assert events(limited, 1) == [shared.id]
