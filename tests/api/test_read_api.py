"""Spaces, alerts, provenance, the live stream, health, OpenAPI and the page's headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient


def crowd(client: TestClient, people: int, sensor: str = "camera-1") -> None:
    response = client.post(
        "/api/v1/observations",
        json=[
            {
                "sensor_id": sensor,
                "space_id": "plaza",
                "quantity": "occupancy_persons",
                "value": people,
                "observed_at": datetime.now(UTC).isoformat(),
            }
        ],
    )
    assert response.status_code == 202, response.text


def test_spaces_are_listed_with_geometry_and_live_state(client: TestClient) -> None:
    spaces = {s["id"]: s for s in client.get("/api/v1/spaces").json()}
    assert set(spaces) == {"plaza", "calle"}
    assert spaces["plaza"]["geometry"]["type"] == "Polygon"
    assert (
        spaces["plaza"]["risk_level"] == "normal" and spaces["plaza"]["occupancy_persons"] is None
    )
    response = client.get("/api/v1/spaces/nowhere")
    assert response.status_code == 404 and "unknown space" in response.json()["detail"]


def test_a_red_crowd_raises_an_alert_explained_back_to_the_observation(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    with client.websocket_connect("/api/v1/stream?kinds=alert,risk_level") as stream:
        crowd(client, 450)  # 100 m2: 4.5 persons/m2, red
        risk = json.loads(stream.receive_text())
        alert = json.loads(stream.receive_text())
    assert (risk["kind"], risk["level"]) == ("risk_level", "red")
    assert (alert["kind"], alert["level"], alert["severity"]) == ("alert", "red", "Severe")
    alerts = eventually(lambda: client.get("/api/v1/alerts").json())
    assert alerts[0]["id"] == alert["id"]
    chain = client.get(f"/api/v1/events/{alert['id']}/provenance").json()
    assert [e["kind"] for e in chain] == ["alert", "risk_level", "detection", "observation"]
    assert chain[-1]["sensor_id"] == "camera-1"
    space = client.get("/api/v1/spaces/plaza").json()
    assert space["risk_level"] == "red" and space["level_of_service"] == "E"
    assert client.get("/api/v1/events/alert-0000/provenance").status_code == 404


def test_stream_refuses_unknown_kinds(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?kinds=alert,passwords") as stream:
        message = stream.receive()
    assert message["type"] == "websocket.close" and message["code"] == 1008


def test_alert_queries_are_bounded(client: TestClient) -> None:
    assert client.get("/api/v1/alerts?limit=0").status_code == 422
    assert client.get("/api/v1/alerts?limit=100000").status_code == 422
    assert client.get("/api/v1/alerts?space_id=' OR 1=1 --").json() == []


def test_health_openapi_and_page(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["spaces"] == 2
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/observations", "/api/v1/spaces", "/api/v1/alerts"} <= set(paths)
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "leaflet.js" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/../config.py").status_code == 404
