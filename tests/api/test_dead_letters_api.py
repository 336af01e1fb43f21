"""Dead letters can be read back and replayed once the cause is fixed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import register


def reading(sensor: str) -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 4,
        "observed_at": datetime.now(UTC).isoformat(),
    }


def test_a_reading_from_an_unregistered_device_is_replayed_after_registration(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    response = client.post("/api/v1/observations", json=[reading("counter-1"), reading("new-1")])
    assert response.status_code == 422
    letters = client.get("/api/v1/dead-letters").json()
    assert len(letters) == 1
    assert "unknown device 'new-1'" in letters[0]["reason"]
    assert '"new-1"' in letters[0]["payload_preview"]

    still = client.post("/api/v1/dead-letters/replay").json()
    assert still["replayed"] == [] and "unknown device" in still["still_rejected"][0]["reason"]

    register(store, "new-1", gateway_id="gateway-1")  # the fix
    done = client.post("/api/v1/dead-letters/replay").json()
    assert done == {"replayed": [letters[0]["id"]], "still_rejected": []}
    assert eventually(lambda: store.count("observation") == 2)
    assert client.get("/api/v1/dead-letters?pending=true").json() == []
    assert client.get("/api/v1/dead-letters").json()[0]["replayed_at"] is not None
    again = client.post("/api/v1/dead-letters/replay").json()
    assert again == {"replayed": [], "still_rejected": []}


def test_letters_refused_before_reading_cannot_be_replayed(client: TestClient) -> None:
    nobody = {"Authorization": "", "X-API-Key": ""}
    refused = client.post("/api/v1/observations", json=[], headers=nobody)
    assert refused.status_code == 401
    (letter,) = client.get("/api/v1/dead-letters?adapter=http").json()
    report = client.post("/api/v1/dead-letters/replay").json()
    reason = "nothing to replay (the input was refused before it was read)"
    assert report["still_rejected"] == [{"id": letter["id"], "reason": reason}]
    assert client.get("/api/v1/dead-letters?limit=0").status_code == 422
