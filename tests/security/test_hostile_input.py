"""Hostile input: revoked and expired credentials, replayed device tokens, SQL injection in
sign-in and ids, oversized and deeply nested JSON on every JSON route. Each is refused with a
clear 4xx and nothing is stored."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartspaces.api.hardening import nests_deeper
from smartspaces.config.security import SecuritySettings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.security.accounts import AccountService
from smartspaces.store.accounts import ApiKeyRow, SessionRow, ShareRow, UserRow
from smartspaces.store.tables import IncidentCaseRow
from tests.security.conftest import ALERT, OWN, SPARE, World

INJECTIONS = [
    "' OR '1'='1",
    "admin'--",
    '" OR ""="',
    "x'; DROP TABLE users; --",
    "1; SELECT * FROM api_keys",
    "%27%20OR%201%3D1",
    "\x00admin",
]


def reading(sensor: str = "counter-1") -> dict[str, Any]:
    return {
        "sensor_id": sensor,
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 3,
        "observed_at": datetime.now(UTC).isoformat(),
    }


def settled(world: World, expected: int) -> int:
    """The number of stored observations once ``expected`` are there (stored asynchronously)."""
    deadline = time.monotonic() + 10
    while world.store.count("observation") < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return world.store.count("observation")


def counts(world: World) -> tuple[int, ...]:
    """Everything a refused request must leave as it was."""
    with Session(world.store.engine) as session:
        tables = (UserRow, ApiKeyRow, ShareRow, IncidentCaseRow)
        rows = tuple(int(session.scalar(select(func.count()).select_from(t)) or 0) for t in tables)
    versions = world.client.get(
        f"/api/v1/incidents/{world.incident_id}", headers=world.as_role("police_operator")
    ).json()["version"]
    return (*rows, world.store.count("observation"), versions)


def test_a_revoked_or_expired_api_key_is_refused(world: World) -> None:
    accounts = AccountService(world.store.accounts, SecuritySettings())
    now = datetime.now(UTC)
    record, key = accounts.issue_key("bot", "police_operator", OWN, now)
    headers = {"X-API-Key": key}
    assert world.client.get("/api/v1/alerts", headers=headers).status_code == 200
    accounts.revoke_key(record.id, now)
    _, old = accounts.issue_key("old", "police_operator", OWN, now, expires_at=now)
    before = counts(world)
    answer = world.client.post("/api/v1/incidents", json={"alert_id": SPARE.id}, headers=headers)
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
    refused = world.client.get("/api/v1/alerts", headers={"X-API-Key": old})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    for forged in ("ssk_0123456789abcdef_" + "A" * 43, "not-a-key", key[:-1] + "x"):
        assert world.client.get("/api/v1/alerts", headers={"X-API-Key": forged}).status_code == 401
    assert counts(world) == before


def test_a_device_token_is_refused_once_replaced_or_the_device_disabled(world: World) -> None:
    device = world.store.devices.get("gateway-1")
    assert device is not None
    old = {"Authorization": f"Bearer {world.device_token}"}
    url = "/api/v1/observations"
    assert world.client.post(url, json=[reading()], headers=old).status_code == 202
    stored = settled(world, 1)
    fresh = new_token()
    world.store.devices.put(device.model_copy(update={"token_sha256": hash_token(fresh)}))
    replayed = world.client.post(url, json=[reading(sensor="counter-2")], headers=old)
    assert replayed.status_code == 401 and "revoked" in replayed.json()["detail"]
    new = {"Authorization": f"Bearer {fresh}"}
    assert world.client.post(url, json=[], headers=new).status_code == 400  # heard, empty batch
    world.store.devices.put(
        device.model_copy(update={"token_sha256": hash_token(fresh), "status": "disabled"})
    )
    assert world.client.post(url, json=[reading()], headers=new).status_code == 401
    entity = {"id": "urn:ngsi-ld:Device:gateway-1", "type": "Device"}
    assert world.client.post("/ngsi-ld/v1/entities", json=entity, headers=new).status_code == 401
    time.sleep(0.3)  # the pipeline would have stored anything taken by now
    assert world.store.count("observation") == stored


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_sign_in_and_ids_is_just_a_wrong_value(world: World, text: str) -> None:
    before = counts(world)
    login = world.client.post("/api/v1/auth/login", json={"username": text, "password": text})
    assert login.status_code == 401 and login.json()["detail"] == "wrong user name or password"
    login = world.client.post("/api/v1/auth/login", json={"username": "ana", "password": text})
    assert login.status_code == 401
    police = world.as_role("police_operator")
    quoted = text.replace("\x00", "")
    for path in (
        f"/api/v1/incidents/{quoted}",
        f"/api/v1/alerts/{quoted}/cap",
        f"/api/v1/spaces/{quoted}",
        f"/api/v1/events/{quoted}/provenance",
    ):
        assert world.client.get(path, headers=police).status_code in (404, 422), path
    listed = world.client.get("/api/v1/alerts", params={"space_id": quoted}, headers=police)
    assert listed.status_code == 200 and listed.json() == []
    shared = world.client.post(
        f"/api/v1/alerts/{ALERT.id}/shares", json={"agency": text}, headers=police
    )
    assert shared.status_code == 422
    assert (
        world.client.post("/api/v1/incidents", json={"alert_id": text}, headers=police).status_code
        == 404
    )
    assert counts(world) == before


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def json_routes(world: World) -> list[tuple[str, str, dict[str, str]]]:
    police = world.as_role("police_operator")
    device = {"Authorization": f"Bearer {world.device_token}"}
    incident = f"/api/v1/incidents/{world.incident_id}"
    return [
        ("POST", "/api/v1/observations", device),
        ("POST", "/ngsi-ld/v1/entities", device),
        ("POST", "/ngsi-ld/v1/entityOperations/upsert", device),
        ("PATCH", "/ngsi-ld/v1/entities/urn:ngsi-ld:Device:gateway-1/attrs", device),
        ("POST", "/api/v1/auth/login", {}),
        ("POST", "/api/v1/incidents", police),
        ("POST", f"{incident}/transitions", police),
        ("POST", f"{incident}/units", police),
        ("POST", f"{incident}/notes", police),
        ("POST", f"{incident}/measures/patrol-square", police),
        ("POST", f"{incident}/alerts", police),
        ("POST", f"{incident}/shares", police),
        ("POST", f"/api/v1/alerts/{ALERT.id}/shares", police),
    ]


@pytest.mark.parametrize(
    "body", [nested(10_000), nested(300), b'{"a":' * 5_000 + b"1" + b"}" * 5_000]
)
def test_deeply_nested_json_is_refused_on_every_json_route(world: World, body: bytes) -> None:
    before = counts(world)
    for method, path, headers in json_routes(world):
        answer = world.client.request(
            method, path, content=body, headers={**headers, "content-type": "application/json"}
        )
        assert answer.status_code == 400, (path, answer.status_code, answer.text[:200])
        assert "nest" in answer.text, (path, answer.text[:200])
    assert counts(world) == before


def test_oversized_bodies_are_refused_on_every_json_route(world: World) -> None:
    before = counts(world)
    big = json.dumps({"text": "x" * (world.settings.api.max_body_bytes + 10)}).encode()
    for method, path, headers in json_routes(world):
        answer = world.client.request(
            method, path, content=big, headers={**headers, "content-type": "application/json"}
        )
        assert answer.status_code == 413, (path, answer.status_code)
        assert "limit" in answer.json()["detail"]
    assert counts(world) == before


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}é:,'), max_size=6)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=40,
)


@given(value=JSON, limit=st.integers(min_value=2, max_value=12), ascii_only=st.booleans())
def test_the_nesting_check_agrees_with_the_parsed_depth(
    value: Any, limit: int, ascii_only: bool
) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nests_deeper(body, limit) == (depth(value) > limit)


def test_no_account_secret_is_stored_in_clear(world: World) -> None:
    with Session(world.store.engine) as session:
        hashes = list(session.scalars(select(UserRow.password_hash)))
        keys = list(session.scalars(select(ApiKeyRow.secret_sha256)))
        sessions = list(session.scalars(select(SessionRow.id_hash)))
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not set(world.keys.values()) & set(keys)
    assert all(len(k) == 64 for k in keys + sessions)
    assert world.store.accounts.key_by_hash(world.keys[("auditor", OWN)]) is None
    # the expired-session sweep removes only what expired
    assert world.store.accounts.end_expired_sessions(datetime.now(UTC) - timedelta(days=1)) == 0
