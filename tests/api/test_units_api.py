"""Responder units over REST, on the demo's real spaces and shipped units: read by role, moved
only by the unit's agency, every change audited and kept across a restart, the board at an
earlier time, and hostile or malformed input refused with a clear 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.scenarios.valencia.units import shipped_units
from smartspaces.store import Store
from smartspaces.store.audit import records
from tests.api.conftest import issue_key

UNITS = "/api/v1/units"
P12 = "police-p12"
SAMU = "ambulance-samu-2"
MOVE = {"state": "en_route", "location": {"type": "Point", "coordinates": [-0.3760, 39.4702]}}


@pytest.fixture
def keys(settings: Settings) -> dict[str, str]:
    """An API key per role, each in the agency the demo gives that role."""
    store = Store(settings.store.database_url())
    store.migrate()
    try:
        return {
            "admin": issue_key(store, "administrator", "valencia-city"),
            "police": issue_key(store, "police_operator", "valencia-police"),
            "emergency": issue_key(store, "emergency_services", "valencia-emergency"),
            "infra": issue_key(store, "infrastructure_operator", "valencia-infrastructure"),
            "auditor": issue_key(store, "auditor", "valencia-audit"),
        }
    finally:
        store.close()


@pytest.fixture
def api(settings: Settings, keys: dict[str, str]) -> Iterator[TestClient]:
    # an empty store: the app seeds the València spaces, and with them the demo's units
    with TestClient(create_app(settings)) as client:
        yield client


def as_(keys: dict[str, str], who: str) -> dict[str, str]:
    return {"X-API-Key": keys[who]}


def board(api: TestClient, keys: dict[str, str], **params: str) -> dict[str, dict[str, object]]:
    answer = api.get(UNITS, headers=as_(keys, "police"), params=params)
    assert answer.status_code == 200, answer.text
    return {u["id"]: u for u in answer.json()}


def test_the_demo_units_are_listed_with_state_place_and_agency(
    api: TestClient, keys: dict[str, str]
) -> None:
    units = board(api, keys)
    assert list(units) == [u.id for u in shipped_units()]
    assert {u["kind"] for u in units.values()} == {
        "police",
        "ambulance",
        "fire",
        "civil_protection",
        "stewards",
    }
    assert units[P12]["state"] == "available" and units[P12]["agency"] == "valencia-police"
    assert units[P12]["updated_at"] is None  # as shipped
    lon, lat = units[P12]["location"]["coordinates"]  # type: ignore[index]
    assert abs(lon + 0.3772) < 1e-9 and abs(lat - 39.4710) < 1e-9
    assert api.get(UNITS, headers=as_(keys, "auditor")).status_code == 200
    assert api.get(UNITS, headers=as_(keys, "infra")).status_code == 403  # not their business
    assert api.get(UNITS).status_code == 401


def test_a_unit_is_moved_by_its_own_agency_only_and_each_change_is_audited(
    api: TestClient, keys: dict[str, str], settings: Settings
) -> None:
    moved = api.patch(f"{UNITS}/{P12}", json=MOVE, headers=as_(keys, "police"))
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "en_route"
    units = board(api, keys)
    assert units[P12]["state"] == "en_route"
    assert units[P12]["location"]["coordinates"] == [-0.3760, 39.4702]  # type: ignore[index]
    assert str(units[P12]["updated_by"]).startswith("key:")  # the caller, as the audit names it

    # the police may not move an ambulance; the emergency services may, the auditor never
    refused = api.patch(f"{UNITS}/{SAMU}", json={"state": "on_scene"}, headers=as_(keys, "police"))
    assert refused.status_code == 403 and "valencia-emergency" in refused.json()["detail"]
    assert board(api, keys)[SAMU]["state"] == "available"
    answer = api.patch(
        f"{UNITS}/{SAMU}",
        json={"state": "on_scene", "note": "gate 3"},
        headers=as_(keys, "emergency"),
    )
    assert answer.status_code == 200
    assert api.patch(f"{UNITS}/{SAMU}", json=MOVE, headers=as_(keys, "auditor")).status_code == 403
    assert api.patch(f"{UNITS}/{SAMU}", json=MOVE, headers=as_(keys, "infra")).status_code == 403
    assert api.patch(f"{UNITS}/{SAMU}", json=MOVE).status_code == 401
    # a position alone keeps the state; an administrator moves any agency's unit
    answer = api.patch(
        f"{UNITS}/{SAMU}",
        json={"location": {"type": "Point", "coordinates": [-0.377, 39.47]}},
        headers=as_(keys, "admin"),
    )
    assert answer.status_code == 200 and answer.json()["state"] == "on_scene"

    store = Store(settings.store.database_url())
    try:
        trail = records(store, action="units.updated", limit=10)
    finally:
        store.close()
    roles = [(r.target, json.loads(r.details)["roles"]) for r in trail]
    assert roles == [
        (SAMU, ["administrator"]),
        (SAMU, ["emergency_services"]),
        (P12, ["police_operator"]),
    ]
    assert trail[-1].actor == units[P12]["updated_by"]
    first = json.loads(trail[-1].details)
    assert first["from_state"] == "available" and first["state"] == "en_route"
    assert first["agency"] == "valencia-police"


def test_changes_survive_a_restart_and_the_board_replays_an_earlier_time(
    keys: dict[str, str], settings: Settings
) -> None:
    before = datetime.now(UTC)
    with TestClient(create_app(settings)) as first:
        answer = first.patch(f"{UNITS}/{P12}", json=MOVE, headers=as_(keys, "police"))
        assert answer.status_code == 200
    with TestClient(create_app(settings)) as restarted:
        assert board(restarted, keys)[P12]["state"] == "en_route"
        then = board(restarted, keys, at=(before - timedelta(seconds=1)).isoformat())
        assert then[P12]["state"] == "available"  # as it was before the change
        assert board(restarted, keys, at=datetime.now(UTC).isoformat())[P12]["state"] == "en_route"


@pytest.mark.parametrize(
    "body",
    [
        {},  # nothing to change
        {"note": "only a note"},
        {"state": "teleported"},
        {"state": None, "location": None},
        {"state": "available", "colour": "red"},  # unknown field
        {"location": {"type": "Point", "coordinates": [200.0, 39.4]}},
        {"location": {"type": "Point", "coordinates": [-0.37, 95.0]}},
        {"location": {"type": "Point", "coordinates": [-0.37]}},
        {"location": {"type": "Polygon", "coordinates": [-0.37, 39.4]}},
        {"location": "-0.37,39.47"},
        {"location": {"type": "Point", "coordinates": ["x", "y"]}},
        {"state": "available", "note": "x" * 201},
        {"state": ["available"]},
        [MOVE],
        "available",
    ],
)
def test_malformed_changes_are_refused_and_change_nothing(
    api: TestClient, keys: dict[str, str], body: object
) -> None:
    answer = api.patch(f"{UNITS}/{P12}", json=body, headers=as_(keys, "police"))
    assert answer.status_code == 422, answer.text
    assert board(api, keys)[P12]["state"] == "available"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"location": {"type": "Point", "coordinates": [NaN, 39.47]}}',
        b'{"location": {"type": "Point", "coordinates": [Infinity, 39.47]}}',
        b'{"location": {"type": "Point", "coordinates": [1e999, 39.47]}}',
        b'{"state": "available"',  # cut short
        b"\xff\xfe not json",
        b"[" * 5000 + b"]" * 5000,  # nesting bomb
    ],
)
def test_hostile_bodies_get_a_clear_4xx(api: TestClient, keys: dict[str, str], raw: bytes) -> None:
    headers = as_(keys, "police") | {"Content-Type": "application/json"}
    answer = api.patch(f"{UNITS}/{P12}", content=raw, headers=headers)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert board(api, keys)[P12]["state"] == "available"


def test_unknown_or_oversized_unit_ids_and_bad_times(api: TestClient, keys: dict[str, str]) -> None:
    police = as_(keys, "police")
    missing = api.patch(f"{UNITS}/no-such-unit", json=MOVE, headers=police)
    assert missing.status_code == 404 and "no-such-unit" in missing.json()["detail"]
    assert api.patch(f"{UNITS}/{'x' * 500}", json=MOVE, headers=police).status_code == 422
    hostile = api.patch(f"{UNITS}/%3Cscript%3E'%20OR%201=1", json=MOVE, headers=police)
    assert hostile.status_code == 404
    now = datetime.now(UTC)
    for at, why in [
        ("yesterday", "datetime"),
        ("2026-01-01T10:00:00", "timezone"),  # naive: whose 10 o'clock?
        ((now + timedelta(hours=1)).isoformat(), "future"),
        ((now - timedelta(days=3)).isoformat(), "older than the replay window"),
        ("9999-12-31T23:59:59+00:00", "future"),
        ("1' OR '1'='1", "datetime"),
    ]:
        answer = api.get(UNITS, params={"at": at}, headers=police)
        assert answer.status_code == 422, (at, answer.text)
        assert why in answer.text, (at, answer.text)


def test_other_deployments_have_no_demo_units(settings: Settings) -> None:
    from tests.api.conftest import admin_key, seed

    seed(settings)  # a test plaza, not the València square: the demo's units do not apply
    with TestClient(create_app(settings), headers={"X-API-Key": admin_key(settings)}) as client:
        assert client.get(UNITS).json() == []
        assert client.patch(f"{UNITS}/{P12}", json=MOVE).status_code == 404
