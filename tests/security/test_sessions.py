"""COP sessions: cookie flags, CSRF on changes, expiry, sign-out, lock-out after failed sign-ins,
the demo users of development, and what production refuses at start-up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.api import create_app
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.config.security import DEVELOPMENT_DEMO_PASSWORD
from smartspaces.errors import ConfigError
from smartspaces.store import Store
from smartspaces.store.tables import AuditRow
from tests.api.conftest import PASSWORD, add_user, seed, sign_in
from tests.conftest import T0
from tests.security.conftest import ALERT, OWN, SPARE, world_settings

SECRET = "a-long-random-production-secret-0123456789"  # noqa: S105 - a test value


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


def prepared(settings: Settings) -> None:
    seed(settings)
    store = Store(settings.store.database_url())
    store.append_events([ALERT, SPARE])
    add_user(store, "ana", "police_operator", OWN)
    store.close()


@pytest.fixture
def client(tmp_path: Path, clock: SimulatedClock) -> Iterator[TestClient]:
    settings = world_settings(tmp_path, session_ttl_s=3600, session_idle_s=600)
    prepared(settings)
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def login(client: TestClient, username: str = "ana", password: str = PASSWORD) -> int:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return answer.status_code


def test_the_session_cookie_is_httponly_strict_and_the_csrf_token_readable(
    client: TestClient,
) -> None:
    answer = client.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    assert answer.status_code == 200
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("smartspaces_session="))
    csrf = next(c for c in cookies if c.startswith("smartspaces_csrf="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
    assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
    assert "Secure" not in session  # development over plain http; production: see below
    body = answer.json()
    assert body["name"] == "ana" and body["roles"] == ["police_operator"]
    assert body["csrf_token"] == answer.cookies["smartspaces_csrf"]
    assert client.get("/api/v1/auth/me").json()["csrf_token"] == body["csrf_token"]


def test_changes_need_the_csrf_token(client: TestClient) -> None:
    headers = sign_in(client, "ana")
    cookie = {"Cookie": headers["Cookie"]}
    body = {"alert_id": SPARE.id}
    missing = client.post("/api/v1/incidents", json=body, headers=cookie)
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["detail"]
    wrong = client.post(
        "/api/v1/incidents", json=body, headers={**cookie, "X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403 and "CSRF" in wrong.json()["detail"]
    other_cookie = {**headers, "Cookie": headers["Cookie"] + "; smartspaces_csrf=" + "1" * 64}
    assert client.post("/api/v1/incidents", json=body, headers=other_cookie).status_code == 403
    assert client.get("/api/v1/incidents", headers=cookie).json() == []  # reads need none
    opened = client.post("/api/v1/incidents", json=body, headers=headers)
    assert opened.status_code == 201
    assert opened.json()["timeline"][0]["actor"] == "ana"
    logout = client.post("/api/v1/auth/logout", headers=cookie)
    assert logout.status_code == 403  # signing out is a change too


def test_forged_expired_and_ended_sessions_are_401(
    client: TestClient, clock: SimulatedClock
) -> None:
    forged = {"Cookie": "smartspaces_session=" + "A" * 43}
    answer = client.get("/api/v1/alerts", headers=forged)
    assert answer.status_code == 401 and "sign in" in answer.json()["detail"]
    huge = {"Cookie": "smartspaces_session=" + "x" * 4000}
    assert client.get("/api/v1/alerts", headers=huge).status_code == 401
    idle = sign_in(client, "ana")
    clock.advance(601)  # unused longer than the idle timeout
    assert client.get("/api/v1/alerts", headers=idle).status_code == 401
    busy = sign_in(client, "ana")
    for _ in range(7):  # used every 9 minutes, yet over its one-hour lifetime
        clock.advance(540)
        status = client.get("/api/v1/alerts", headers=busy).status_code
    assert status == 401
    ended = sign_in(client, "ana")
    assert client.post("/api/v1/auth/logout", headers=ended).status_code == 204
    answer = client.get("/api/v1/alerts", headers=ended)
    assert answer.status_code == 401


def test_a_disabled_user_is_signed_out(client: TestClient) -> None:
    headers = sign_in(client, "ana")
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    client.app.state.auth.accounts.set_disabled("ana", True)  # type: ignore[attr-defined]
    assert client.get("/api/v1/alerts", headers=headers).status_code == 401
    assert login(client) == 401
    assert store.accounts.user("ana") is not None


def test_repeated_failures_lock_the_name_for_a_while(
    client: TestClient, clock: SimulatedClock
) -> None:
    for _ in range(5):
        assert login(client, "ana", "not the password") == 401
    locked = client.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    assert locked.status_code == 429 and "try again" in locked.json()["detail"]
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert login(client, "ANA", PASSWORD) == 429  # names are locked whatever their case
    for _ in range(5):  # an unknown name locks the same way: locks tell no names apart
        login(client, "nobody", "guess-guess-guess")
    assert login(client, "nobody", "guess-guess-guess") == 429
    clock.advance(901)
    assert login(client) == 200
    store: Store = client.app.state.services.store  # type: ignore[attr-defined]
    with Session(store.engine) as session:
        actions = list(
            session.scalars(select(AuditRow.action).where(AuditRow.action.like("auth.%")))
        )
    assert actions.count("auth.failed") == 10 and "auth.locked_out" in actions
    assert actions[-1] == "auth.signed_in"


def test_one_client_guessing_many_names_is_locked_too(tmp_path: Path) -> None:
    settings = world_settings(tmp_path, login_client_max_failures=8)
    prepared(settings)
    with TestClient(create_app(settings)) as client:
        for index in range(8):
            assert login(client, f"name-{index}", "guess-guess-guess") == 401
        assert login(client) == 429  # even a right password, from this client, for a while


def test_secrets_never_reach_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = client.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
    session = answer.cookies["smartspaces_session"]
    login(client, "ana", "the wrong password, logged nowhere")
    client.get("/api/v1/alerts", headers={"X-API-Key": "ssk_0123456789abcdef_" + "S" * 43})
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err
    for secret in (PASSWORD, session, "the wrong password", "S" * 43, answer.json()["csrf_token"]):
        assert secret not in text


def test_demo_users_exist_in_development_only(tmp_path: Path) -> None:
    development = world_settings(tmp_path / "dev")
    prepared(development)
    with TestClient(create_app(development)) as client:
        for name in ("admin", "police", "city", "emergency", "infra", "auditor"):
            assert login(client, name, DEVELOPMENT_DEMO_PASSWORD) == 200
        assert client.get("/api/v1/auth/me").json()["agency"] == "valencia-audit"
    off = world_settings(tmp_path / "off", demo_users=False)
    prepared(off)
    with TestClient(create_app(off)) as client:
        assert login(client, "police", DEVELOPMENT_DEMO_PASSWORD) == 401


def test_production_refuses_default_secrets_at_start(tmp_path: Path) -> None:
    base = {"store": {"data_dir": tmp_path}, "mqtt": {"enabled": False}}
    with pytest.raises(ConfigError, match="session_secret"):
        create_app(Settings(environment="production", **base))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="demo password"):
        create_app(
            Settings(  # type: ignore[arg-type]
                environment="production",
                security={"session_secret": SECRET, "demo_users": True},
                **base,
            )
        )
    with pytest.raises(ValueError, match="32 characters"):
        Settings(security={"session_secret": "short"})  # type: ignore[arg-type]


def test_production_cookies_are_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[arg-type]
        environment="production",
        store={"data_dir": tmp_path},
        mqtt={"enabled": False},
        security={"session_secret": SECRET, "alert_agencies": [OWN]},
    )
    prepared(settings)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert login(client, "police", DEVELOPMENT_DEMO_PASSWORD) == 401  # no demo users
        answer = client.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD})
        assert answer.status_code == 200
        assert all("Secure" in c for c in answer.headers.get_list("set-cookie"))
        hsts = client.get("/healthz").headers["strict-transport-security"]
        assert hsts.startswith("max-age=63072000")


def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    closed = world_settings(tmp_path / "closed")
    prepared(closed)
    with TestClient(create_app(closed)) as client:
        answer = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in answer.headers
        preflight = client.options(
            "/api/v1/alerts",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in preflight.headers
    partner = "https://cop.policia.valencia.example"
    opened = world_settings(tmp_path / "open", cors_origins=[partner])
    prepared(opened)
    with TestClient(create_app(opened)) as client:
        allowed = client.get("/healthz", headers={"Origin": partner})
        assert allowed.headers["access-control-allow-origin"] == partner
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    for bad in (["*"], ["https://*.example"], ["cop.example"], ["https://cop.example/path"]):
        with pytest.raises(ValueError, match="origin"):
            Settings(security={"cors_origins": bad})  # type: ignore[arg-type]


def test_the_stream_checks_who_opens_it(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/api/v1/stream"):
            pass
    assert closed.value.code == 4401
    headers = sign_in(client, "ana")
    cookie = {"Cookie": headers["Cookie"]}
    with pytest.raises(WebSocketDisconnect) as closed:  # another site's page, our cookie
        with client.websocket_connect(
            "/api/v1/stream", headers={**cookie, "Origin": "https://evil.example"}
        ):
            pass
    assert closed.value.code == 4403
    same = {**cookie, "Origin": "http://testserver"}
    with client.websocket_connect("/api/v1/stream", headers=same) as stream:
        stream.close()


def test_an_open_stream_ends_with_its_credentials(tmp_path: Path) -> None:
    from starlette.websockets import WebSocketDisconnect

    settings = world_settings(tmp_path, stream_recheck_s=0.2)
    prepared(settings)
    with TestClient(create_app(settings)) as client:
        headers = sign_in(client, "ana")
        with client.websocket_connect("/api/v1/stream", headers=headers) as stream:
            assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
            with pytest.raises(WebSocketDisconnect) as closed:
                stream.receive_text()
        assert closed.value.code == 4401


def test_signing_in_again_ends_the_browsers_previous_session(client: TestClient) -> None:
    first = sign_in(client, "ana")
    client.cookies.set("smartspaces_session", first["Cookie"].split("=", 1)[1])
    assert login(client) == 200
    assert client.get("/api/v1/alerts", headers=first).status_code == 401
    assert client.get("/api/v1/alerts").status_code == 200  # the new one, from the jar
