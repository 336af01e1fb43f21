"""GET /api/v1/devices/map: located devices with their health in a word, for the COP's layer;
who may read it, and what it does with bad input."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.api.device_map import judge
from smartspaces.config import Settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.events import Device, GeoPoint
from smartspaces.store import Store
from smartspaces.store.history import DeviceActivity
from tests.api.conftest import issue_key, seed

URL = "/api/v1/devices/map"
PLAZA = GeoPoint(coordinates=(-0.3762, 39.4698))
CALLE = GeoPoint(coordinates=(-0.3770, 39.4705))
HOSTILE_NAME = '<img src=x onerror="alert(1)"> Plaza camera'
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def device(device_id: str, space_id: str = "plaza", **more: Any) -> Device:
    fields: dict[str, Any] = {"kind": "people_counter", "gateway_id": "gateway-1"} | more
    return Device(id=device_id, space_id=space_id, token_sha256=hash_token(new_token()), **fields)


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app over a store with located devices (registered before it starts, so the edge's
    health monitor watches them), a client with no credentials of its own, and keys."""
    gateway = seed(settings)  # plaza and calle, gateway-1 and its unlocated sensors
    store = Store(settings.store.database_url())
    store.migrate()
    for registered in (
        device("cam-plaza", kind="camera", location=PLAZA, name=HOSTILE_NAME),
        device("ctr-quiet", location=PLAZA, expected_interval_s=0.2),
        device("ctr-calle", space_id="calle", location=CALLE),
        device("ctr-off", location=PLAZA, status="disabled"),
    ):
        store.devices.put(registered)
    keys = {
        "gateway": gateway,
        "admin": issue_key(store),
        "emergency": issue_key(store, "emergency_services", "valencia-emergency"),
        "infra": issue_key(store, "infrastructure_operator", "valencia-infrastructure"),
        "calle-only": issue_key(store, "city_operator", "valencia-city", spaces=["calle"]),
    }
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, keys


def send(client: TestClient, gateway: str, sensor_id: str, quantity: str) -> None:
    reading = {
        "sensor_id": sensor_id,
        "space_id": "plaza",
        "quantity": quantity,
        "value": 3,
        "observed_at": datetime.now(UTC).isoformat(),
        "interval_s": 10,
    }
    answer = client.post(
        "/api/v1/observations", json=[reading], headers={"Authorization": f"Bearer {gateway}"}
    )
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text


def on_map(client: TestClient, key: str, **params: Any) -> dict[str, dict[str, Any]]:
    answer = client.get(URL, headers={"X-API-Key": key}, params=params)
    assert answer.status_code == 200, answer.text
    return {d["id"]: d for d in answer.json()}


def test_located_devices_come_with_their_health_and_the_unlocated_stay_off_the_map(
    world: tuple[TestClient, dict[str, str]], eventually: Callable[..., Any]
) -> None:
    client, keys = world
    first = on_map(client, keys["admin"])
    # gateway-1 and the seeded counters have no location: the panel lists them, not the map
    assert set(first) == {"cam-plaza", "ctr-quiet", "ctr-calle", "ctr-off"}
    assert {d["health"] for d in first.values()} == {"unheard", "disabled"}
    assert first["ctr-off"]["health"] == "disabled"
    assert first["cam-plaza"]["location"] == {"type": "Point", "coordinates": [-0.3762, 39.4698]}
    assert first["cam-plaza"]["name"] == HOSTILE_NAME  # data, as is: the page shows it as text
    assert list(first) == sorted(first)

    send(client, keys["gateway"], "cam-plaza", "occupancy_persons")
    send(client, keys["gateway"], "ctr-quiet", "entries_count")

    def heard() -> Any:
        found = on_map(client, keys["admin"])
        return found["cam-plaza"]["health"] == "ok" and found

    found = eventually(heard)
    assert found, on_map(client, keys["admin"])
    assert found["cam-plaza"]["last_seen_at"] is not None
    assert found["cam-plaza"]["silent_for_s"] >= 0

    # ctr-quiet promised a reading every 0.2 s: the edge's monitor reports its silence
    def silent() -> Any:
        quiet = on_map(client, keys["admin"])["ctr-quiet"]
        return quiet["health_quantity"] == "device_silence_s" and quiet

    quiet = eventually(silent)
    assert quiet and quiet["health"] == "silent", on_map(client, keys["admin"])
    assert quiet["health_value"] > 0.6  # three expected intervals at least


def test_who_may_read_the_device_map(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"X-API-Key": "not-a-key"}).status_code == 401
    assert client.get(URL, headers={"Authorization": f"Bearer {keys['gateway']}"}).status_code in (
        401,
        403,
    )  # a device token is no person's credential
    assert client.get(URL, headers={"X-API-Key": keys["emergency"]}).status_code == 403
    assert set(on_map(client, keys["infra"])) == {"cam-plaza", "ctr-quiet", "ctr-calle", "ctr-off"}
    # a caller limited to one space sees that space's devices only
    assert set(on_map(client, keys["calle-only"])) == {"ctr-calle"}


@pytest.mark.parametrize(
    "limit", ["0", "-1", "1001", "abc", "1e3", "1.5", "", "%00", "9" * 40, "<script>"]
)
def test_a_bad_limit_is_refused_with_a_reason(
    world: tuple[TestClient, dict[str, str]], limit: str
) -> None:
    client, keys = world
    answer = client.get(f"{URL}?limit={limit}", headers={"X-API-Key": keys["admin"]})
    assert answer.status_code == 422, answer.text
    assert "limit" in answer.text


def test_odd_requests_get_nothing_more(world: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = world
    admin = {"X-API-Key": keys["admin"]}
    assert list(on_map(client, keys["admin"], limit=1)) == ["cam-plaza"]
    # unknown parameters change nothing (there is no filter to inject into)
    odd = on_map(client, keys["admin"], space_id="' OR 1=1 --", kind="<script>")
    assert set(odd) == {"cam-plaza", "ctr-quiet", "ctr-calle", "ctr-off"}
    assert client.post(URL, json={"id": "x"}, headers=admin).status_code == 405
    assert client.delete(URL, headers=admin).status_code == 405
    assert client.get(URL + "/cam-plaza", headers=admin).status_code == 404


def quiet_device(**more: Any) -> Device:
    return device("d1", expected_interval_s=60.0, **more)


def heard(
    last: datetime, quantity: str | None = None, value: float = 0.0, at: datetime | None = None
) -> DeviceActivity:
    return DeviceActivity(
        sensor_id="d1",
        space_id="plaza",
        last_seen_at=last,
        readings=5,
        health_quantity=quantity,
        health_value=value if quantity else None,
        health_at=at,
    )


@pytest.mark.parametrize(
    ("activity", "now", "expected"),
    [
        (None, T0, "unheard"),
        (heard(T0), T0 + timedelta(seconds=60), "ok"),
        # past three expected intervals: silent, even before the monitor says so
        (heard(T0), T0 + timedelta(seconds=181), "silent"),
        (
            heard(T0, "device_silence_s", 190, T0 + timedelta(seconds=190)),
            T0 + timedelta(seconds=190),
            "silent",
        ),
        # heard again after the report: the silence is over
        (
            heard(
                T0 + timedelta(seconds=200), "device_silence_s", 190, T0 + timedelta(seconds=190)
            ),
            T0 + timedelta(seconds=201),
            "ok",
        ),
        (
            heard(T0, "device_flaps_count", 3, T0 + timedelta(seconds=190)),
            T0 + timedelta(seconds=190),
            "flapping",
        ),
        # the skewed reading is stamped 120 s ahead of the report made when it arrived
        (
            heard(T0 + timedelta(seconds=120), "device_clock_skew_s", 120, T0),
            T0 + timedelta(seconds=5),
            "clock_skewed",
        ),
        (
            heard(T0 + timedelta(seconds=600), "device_clock_skew_s", 120, T0),
            T0 + timedelta(seconds=600),
            "ok",
        ),
        # an unknown device_* quantity is no verdict
        (
            heard(T0, "device_battery_v", 3.1, T0 + timedelta(seconds=1)),
            T0 + timedelta(seconds=2),
            "ok",
        ),
    ],
)
def test_health_in_one_word(activity: DeviceActivity | None, now: datetime, expected: str) -> None:
    assert judge(quiet_device(), activity, now, silence_factor=3.0) == expected


def test_a_disabled_device_is_disabled_whatever_it_reported() -> None:
    report = heard(T0, "device_silence_s", 190, T0 + timedelta(seconds=190))
    assert judge(quiet_device(status="disabled"), report, T0, 3.0) == "disabled"
    assert judge(quiet_device(status="disabled"), None, T0, 3.0) == "disabled"


def test_without_an_expected_interval_only_a_report_makes_a_device_silent() -> None:
    free = device("d1")
    assert judge(free, heard(T0), T0 + timedelta(days=2), 3.0) == "ok"
