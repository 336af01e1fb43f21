"""The replay behind the COP's time slider: spaces and alerts as they stood at an earlier time,
filtered like the live feed, audited; times out of range or malformed refused with a 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartspaces.config import Settings
from smartspaces.store import Store
from smartspaces.store.audit import records
from tests.api.conftest import issue_key

REPLAY = "/api/v1/replay"


def reading(value: float, at: datetime) -> dict[str, Any]:
    return {
        "sensor_id": "camera-1",
        "space_id": "plaza",
        "quantity": "occupancy_persons",
        "value": value,
        "observed_at": at.isoformat(),
    }


@pytest.fixture
def past(client: TestClient, eventually: Any) -> datetime:
    """A red crowd 50 minutes ago that had cleared 20 minutes ago; returns the time it was
    posted (the test's now)."""
    now = datetime.now(UTC)
    answer = client.post(
        "/api/v1/observations",
        json=[reading(450, now - timedelta(minutes=50)), reading(20, now - timedelta(minutes=20))],
    )
    assert answer.status_code == 202, answer.text
    assert eventually(lambda: client.get("/api/v1/alerts").json())
    assert eventually(lambda: client.get("/api/v1/spaces/plaza").json()["risk_level"] == "normal")
    return now


def at(client: TestClient, when: datetime, **params: object) -> dict[str, Any]:
    answer = client.get(REPLAY, params={"at": when.isoformat(), **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_replay_shows_the_red_crowd_and_its_alert_as_they_were(
    client: TestClient, past: datetime, settings: Settings
) -> None:
    then = at(client, past - timedelta(minutes=40))
    plaza = {s["id"]: s for s in then["spaces"]}["plaza"]
    assert plaza["occupancy_persons"] == 450.0 and plaza["density_p_m2"] == 4.5
    assert plaza["level_of_service"] == "E"  # Fruin, standing: E up to 5.26 p/m2
    assert plaza["risk_level"] == "red"
    assert [a["level"] for a in then["alerts"]] == ["red"]
    assert then["alerts"][0]["incident_status_then"] is None  # nobody had acknowledged it
    calle = {s["id"]: s for s in then["spaces"]}["calle"]
    assert calle["occupancy_persons"] is None and calle["risk_level"] == "normal"

    later = at(client, past - timedelta(minutes=10))
    plaza = {s["id"]: s for s in later["spaces"]}["plaza"]
    assert plaza["density_p_m2"] == 0.2 and plaza["risk_level"] == "normal"

    before = at(client, past - timedelta(minutes=55))
    assert before["alerts"] == []
    assert {s["id"]: s for s in before["spaces"]}["plaza"]["risk_level"] == "normal"

    store = Store(settings.store.database_url())
    try:
        assert records(store, action="replay.read", limit=10)  # reading alerts is audited
    finally:
        store.close()


def test_an_acknowledgement_shows_only_from_when_it_was_made(
    client: TestClient, past: datetime, eventually: Any
) -> None:
    alert = client.get("/api/v1/alerts").json()[-1]  # the red one (then its all-clear)
    assert alert["level"] == "red"
    opened = client.post("/api/v1/incidents", json={"alert_id": alert["id"]})
    assert opened.status_code == 201, opened.text
    incident = opened.json()["id"]
    moved = client.post(f"/api/v1/incidents/{incident}/transitions", json={"to": "acknowledged"})
    assert moved.status_code == 200, moved.text

    def acknowledged_now() -> bool:
        alerts = at(client, datetime.now(UTC), alert_minutes=120)["alerts"]
        states = {a["id"]: a["incident_status_then"] for a in alerts}
        return states[alert["id"]] == "acknowledged"

    assert eventually(acknowledged_now)
    then = at(client, past - timedelta(minutes=40))
    assert [a["incident_status_then"] for a in then["alerts"]] == [None]


def test_alerts_and_spaces_follow_the_callers_agency_and_spaces(
    client: TestClient, past: datetime, settings: Settings
) -> None:
    store = Store(settings.store.database_url())
    try:
        calle_only = issue_key(store, "police_operator", "valencia-police", ["calle"])
        emergency = issue_key(store, "emergency_services", "valencia-emergency")
    finally:
        store.close()
    when = {"at": (past - timedelta(minutes=40)).isoformat()}
    limited = client.get(REPLAY, params=when, headers={"X-API-Key": calle_only}).json()
    assert [s["id"] for s in limited["spaces"]] == ["calle"] and limited["alerts"] == []
    # the emergency services receive an alert once a control room shares it, not before
    other = client.get(REPLAY, params=when, headers={"X-API-Key": emergency}).json()
    assert len(other["spaces"]) == 2 and other["alerts"] == []
    # without the key, the client's device token speaks: a sensor replays nothing
    assert client.get(REPLAY, params=when, headers={"X-API-Key": ""}).status_code == 403


def test_the_window_is_the_last_hours_by_the_server_clock(client: TestClient) -> None:
    window = client.get(f"{REPLAY}/window").json()
    earliest = datetime.fromisoformat(window["earliest"])
    latest = datetime.fromisoformat(window["latest"])
    assert latest - earliest == timedelta(seconds=window["span_s"]) == timedelta(hours=6)
    assert abs((latest - datetime.now(UTC)).total_seconds()) < 60
    # the edges are inside
    assert client.get(REPLAY, params={"at": window["earliest"]}).status_code in (200, 422)
    assert client.get(REPLAY, params={"at": window["latest"]}).status_code == 200


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (None, "missing"),
        ("", "datetime"),
        ("now", "datetime"),
        ("2026-13-45T25:61:00+00:00", "datetime"),
        ("2026-01-01T10:00:00", "timezone"),  # naive: whose 10 o'clock?
        ("2026-01-01T10:00:00+25:00", "datetime"),
        ("9999-12-31T23:59:59+00:00", "future"),
        ("1970-01-01T00:00:00Z", "older than the replay window"),
        ("1' OR '1'='1", "datetime"),
        ("<script>alert(1)</script>", "datetime"),
        ("9" * 5000, "datetime"),
        ("-1e308", "datetime"),
    ],
)
def test_bad_times_are_refused_with_the_reason(
    client: TestClient, value: str | None, why: str
) -> None:
    params = {} if value is None else {"at": value}
    answer = client.get(REPLAY, params=params)
    assert answer.status_code == 422, answer.text
    assert why in answer.text.lower(), answer.text
    assert "<script>" not in answer.text  # the refused input is not echoed back


def test_out_of_range_times_say_the_window(client: TestClient) -> None:
    now = datetime.now(UTC)
    future = client.get(REPLAY, params={"at": (now + timedelta(minutes=5)).isoformat()})
    assert future.status_code == 422 and "the latest is" in future.json()["detail"][0]["msg"]
    assert future.json()["detail"][0]["loc"] == ["query", "at"]
    old = client.get(REPLAY, params={"at": (now - timedelta(hours=7)).isoformat()})
    assert old.status_code == 422 and "6 h" in old.json()["detail"][0]["msg"]
    assert "the earliest is" in old.json()["detail"][0]["msg"]
    for minutes in ("0", "361", "-5", "x"):
        answer = client.get(REPLAY, params={"at": now.isoformat(), "alert_minutes": minutes})
        assert answer.status_code == 422, minutes
