"""The account commands through typer's runner: users and API keys made, listed, disabled,
revoked, and what they can then do against the API."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from smartspaces.api import create_app
from smartspaces.cli_accounts import register
from smartspaces.config import load_settings

app = typer.Typer()
register(app)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("SMARTSPACES__MQTT__ENABLED", "false")
    monkeypatch.setenv("SMARTSPACES__SECURITY__DEMO_USERS", "false")
    monkeypatch.setenv("COLUMNS", "200")  # tables are not cut
    return CliRunner()


def test_users_are_added_listed_disabled_and_re_enabled(cli: CliRunner) -> None:
    args = ["users", "add", "ruiz.j", "--role", "police_operator", "--agency", "valencia-police"]
    added = cli.invoke(app, [*args, "--password-stdin"], input="a fine long password\n")
    assert added.exit_code == 0, added.output
    assert cli.invoke(app, [*args, "--password-stdin"], input="x" * 20 + "\n").exit_code == 2
    weak = ["users", "add", "lee", "--role", "city_operator", "--agency", "valencia-city"]
    short = cli.invoke(app, [*weak, "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "12 characters" in short.output
    bad_role = ["users", "add", "x", "--role", "device", "--agency", "a", "--password-stdin"]
    assert cli.invoke(app, bad_role, input="a fine long password\n").exit_code == 2
    listed = cli.invoke(app, ["users", "list"])
    assert "ruiz.j" in listed.output and "a fine long password" not in listed.output
    with TestClient(create_app(load_settings())) as client:
        body = {"username": "ruiz.j", "password": "a fine long password"}
        assert client.post("/api/v1/auth/login", json=body).status_code == 200
        assert cli.invoke(app, ["users", "disable", "ruiz.j"]).exit_code == 0
        assert client.get("/api/v1/auth/me").status_code == 401  # the session ended
        assert client.post("/api/v1/auth/login", json=body).status_code == 401
        assert cli.invoke(app, ["users", "enable", "ruiz.j"]).exit_code == 0
        changed = "another long one!"
        new = cli.invoke(
            app, ["users", "password", "ruiz.j", "--password-stdin"], input=changed + "\n"
        )
        assert new.exit_code == 0
        assert client.post("/api/v1/auth/login", json=body).status_code == 401
        body["password"] = changed
        assert client.post("/api/v1/auth/login", json=body).status_code == 200
    assert cli.invoke(app, ["users", "disable", "nobody"]).exit_code == 2


def test_api_keys_are_shown_once_and_revoked(cli: CliRunner) -> None:
    issued = cli.invoke(
        app,
        ["api-keys", "add", "dispatch", "--role", "emergency_services", "--agency", "bomberos"],
    )
    assert issued.exit_code == 0, issued.output
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("ssk_")
    key_id = key.split("_")[1]
    listed = cli.invoke(app, ["api-keys", "list"])
    assert key_id in listed.output and key not in listed.output
    with TestClient(create_app(load_settings())) as client:
        me = client.get("/api/v1/auth/me", headers={"X-API-Key": key})
        assert me.json()["agency"] == "bomberos" and me.json()["roles"] == ["emergency_services"]
        assert cli.invoke(app, ["api-keys", "revoke", key_id]).exit_code == 0
        assert client.get("/api/v1/auth/me", headers={"X-API-Key": key}).status_code == 401
    assert cli.invoke(app, ["api-keys", "revoke", "0000"]).exit_code == 2
