"""POST /api/v1/observations: good batches flow through; bad input gets a 4xx and a reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartspaces.store import Store
from tests.conftest import register

URL = "/api/v1/observations"


def reading(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sensor_id": "counter-1",
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 50,
        "observed_at": datetime.now(UTC).isoformat(),
        "interval_s": 10,
    }
    return base | changes


def stored(client: TestClient) -> Store:
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    return store


def test_a_valid_batch_is_accepted_and_reaches_the_space(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    batch = [reading(), reading(sensor_id="counter-2", value=30)]
    response = client.post(URL, json=batch)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2 and body["rejected"] == [] and len(body["ids"]) == 2

    def occupancy() -> Any:
        return client.get("/api/v1/spaces/plaza").json()["occupancy_persons"] == 80

    assert eventually(occupancy)
    space = client.get("/api/v1/spaces/plaza").json()
    assert space["density_p_m2"] == 0.8 and space["level_of_service"] == "A"


def test_the_same_batch_sent_twice_is_stored_once(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    batch = [reading(value=5)]
    first = client.post(URL, json=batch).json()["ids"]
    assert client.post(URL, json=batch).json()["ids"] == first
    assert eventually(lambda: stored(client).count("observation") == 1)


def test_a_mixed_batch_keeps_the_valid_items_and_dead_letters_the_others(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    batch = [
        reading(),
        reading(value="many"),
        reading(space_id="atlantis"),
        reading(observed_at=future),
        reading(sensor_id="counter-9", value=7),
    ]
    response = client.post(URL, json=batch)
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    reasons = " | ".join(r["reason"] for r in body["rejected"])
    assert "valid number" in reasons and "unknown space 'atlantis'" in reasons
    assert "in the future" in reasons
    assert eventually(lambda: stored(client).count("observation") == 2)
    letters = stored(client).dead_letters()
    assert len(letters) == 3
    assert all(letter.adapter == "http" for letter in letters)
    assert any("atlantis" in letter.payload for letter in letters)


def test_nan_is_rejected_per_item(client: TestClient) -> None:
    body = (
        '[{"sensor_id": "c", "space_id": "plaza", "quantity": "entries_count", '
        f'"value": NaN, "observed_at": "{datetime.now(UTC).isoformat()}"}}]'
    )
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "finite" in response.json()["rejected"][0]["reason"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'[{"sensor_id": "c1", ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[]", "empty batch"),
        (
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r>&x;</r>",
            "not valid JSON",
        ),
    ],
)
def test_malformed_bodies_are_400_with_a_reason_and_a_dead_letter(
    client: TestClient, body: bytes, reason: str
) -> None:
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    (letter,) = stored(client).dead_letters()
    assert reason in letter.reason


def test_a_body_over_one_mebibyte_is_refused(client: TestClient) -> None:
    big = json.dumps([reading(sensor_id=f"c{i}") for i in range(7000)]).encode()
    assert len(big) > 1_048_576
    response = client.post(URL, content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "1048576-byte limit" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no content-length: the limit must hold while streaming
        for start in range(0, len(big), 65_536):
            yield big[start : start + 65_536]

    response = client.post(URL, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert stored(client).count("observation") == 0
    assert len(stored(client).dead_letters()) == 2


def test_too_many_items_is_413(client: TestClient) -> None:
    batch = [{"v": i} for i in range(10_001)]
    response = client.post(URL, json=batch)
    assert response.status_code == 413
    assert "limit of 10000" in response.json()["detail"]


def test_a_missing_or_unknown_token_is_401_and_kept_as_a_dead_letter(client: TestClient) -> None:
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwdw=="},
    ):
        # without the client's API key too: a person's credentials would get 403 instead
        response = client.post(URL, json=[reading()], headers=headers | {"X-API-Key": ""})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert "device token" in response.json()["detail"]
    assert len(stored(client).dead_letters()) == 3
    assert stored(client).count("observation") == 0


def test_a_disabled_device_is_refused(client: TestClient) -> None:
    store = stored(client)
    token = register(store, "counter-7", kind="people_counter")
    device = store.devices.get("counter-7")
    assert device is not None
    store.devices.put(device.model_copy(update={"status": "disabled"}))
    response = client.post(
        URL, json=[reading(sensor_id="counter-7")], headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_a_device_reports_only_for_itself_and_its_space(client: TestClient) -> None:
    store = stored(client)
    token = register(store, "counter-5")
    register(store, "counter-6", space_id="calle")
    batch = [
        reading(sensor_id="counter-5"),
        reading(sensor_id="counter-6", space_id="calle"),  # another device
        reading(sensor_id="counter-5", space_id="calle"),  # another space
        reading(sensor_id="ghost"),
    ]
    response = client.post(URL, json=batch, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 1
    reasons = {r["index"]: r["reason"] for r in body["rejected"]}
    assert "may not report for 'counter-6'" in reasons[1]
    assert "serves 'plaza', not 'calle'" in reasons[2]
    assert "unknown device 'ghost'" in reasons[3]


def test_json_lines_keep_the_good_lines(client: TestClient, eventually: Callable[..., Any]) -> None:
    lines = [
        json.dumps(reading(value=3)),
        "{broken",
        "",
        json.dumps(reading(sensor_id="c", value=4)),
    ]
    response = client.post(
        URL, content="\n".join(lines).encode(), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == 2
    (rejected,) = body["rejected"]
    assert rejected["index"] == 1 and "line 2 is not JSON" in rejected["reason"]
    assert eventually(lambda: stored(client).count("observation") == 2)


def test_a_device_over_its_rate_gets_429_and_nothing_is_taken(settings: Any) -> None:
    from smartspaces.api import create_app
    from tests.api.conftest import seed

    limited = settings.model_copy(
        update={"edge": settings.edge.model_copy(update={"rate_limit_per_s": 1.0, "rate_burst": 5})}
    )
    token = seed(limited)
    with TestClient(create_app(limited), headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post(URL, json=[reading(value=i) for i in range(5)]).status_code == 202
        response = client.post(URL, json=[reading(sensor_id="counter-2")])
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert "over its rate" in response.json()["detail"]
        store = stored(client)
        assert [letter.reason for letter in store.dead_letters()][0].startswith(
            "device 'gateway-1'"
        )


def test_a_reading_from_a_skewed_clock_raises_a_device_status(
    client: TestClient, eventually: Callable[..., Any]
) -> None:
    ahead = (datetime.now(UTC) + timedelta(seconds=120)).isoformat()  # within the 300 s skew
    assert client.post(URL, json=[reading(observed_at=ahead)]).status_code == 202

    def status() -> Any:
        store = stored(client)
        return store.count("observation") == 2

    assert eventually(status)
