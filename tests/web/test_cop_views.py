"""The COP's read routes: a space's density history rebuilt from counters, device activity."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from smartspaces.config import Settings
from tests.api.conftest import admin_key, seed
from tests.web.conftest import cop_app


def test_history_follows_the_counters_and_devices_are_listed(settings: Settings) -> None:
    token = seed(settings)
    now = datetime.now(UTC)
    readings = [
        ("counter-1", "occupancy_persons", 100.0, now - timedelta(minutes=90)),  # before the hour
        ("counter-1", "entries_count", 50.0, now - timedelta(minutes=30)),
        ("counter-2", "exits_count", 30.0, now - timedelta(minutes=10)),
        ("counter-2", "exits_count", 500.0, now - timedelta(minutes=5)),  # never below zero
    ]
    body = [
        {
            "sensor_id": s,
            "space_id": "plaza",
            "quantity": q,
            "value": v,
            "observed_at": t.isoformat(),
        }
        for s, q, v, t in readings
    ]
    headers = {"Authorization": f"Bearer {token}", "X-API-Key": admin_key(settings)}
    with TestClient(cop_app(settings), headers=headers) as client:
        assert client.post("/api/v1/observations", json=body).status_code == 202
        deadline = time.monotonic() + 10
        while True:
            answer = client.get("/api/v1/spaces/plaza/history?minutes=60").json()
            if len(answer["points"]) == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [p["occupancy_persons"] for p in answer["points"]] == [150.0, 120.0, 0.0]
        assert answer["points"][0]["density_p_m2"] == 1.5  # 150 people on 100 m2
        assert answer["red_p_m2"] == 4.0
        assert client.get("/api/v1/spaces/nowhere/history").status_code == 404
        assert client.get("/api/v1/spaces/plaza/history?minutes=0").status_code == 422
        devices = client.get("/api/v1/devices/activity").json()
        assert {d["sensor_id"] for d in devices} == {"counter-1", "counter-2"}
        assert {d["readings"] for d in devices} == {2}
