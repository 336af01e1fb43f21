"""The demo and replay, end to end, as a user runs them: the real CLI in a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smartspaces.config import ScenarioSettings
from smartspaces.scenarios.valencia.scenario import ValenciaScenario
from tests.conftest import delete_nats_streams, drop_schema, postgres_url, private_schema

CLI = [sys.executable, "-m", "smartspaces.cli"]
SQUARE = "plaza-ayuntamiento"


def run(args: list[str], data_home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_DATA_HOME": str(data_home), **env}
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        CLI + args, capture_output=True, text=True, env=environment, timeout=300, check=False
    )


def alerts_of(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def escalation(alert: dict[str, Any]) -> bool:
    return str(alert["headline"]).startswith("NOT ACKNOWLEDGED")


def level_changes(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts that report a new level (not the reminders of unacknowledged ones)."""
    return [a for a in alerts if not escalation(a)]


@pytest.fixture(scope="module")
def headless(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    home = tmp_path_factory.mktemp("demo")
    record = home / "scenario.jsonl"
    result = run(["demo", "--headless", "--speed", "max", "--json", "--record", str(record)], home)
    assert result.returncode == 0, result.stderr
    return alerts_of(result.stdout), record


def test_red_alert_fires_when_the_scripted_density_first_crosses_red(
    headless: tuple[list[dict[str, Any]], Path],
) -> None:
    alerts, _ = headless
    scenario = ValenciaScenario(ScenarioSettings())
    expected = scenario.first_crossing(SQUARE, 4.0)
    assert expected is not None
    red = [a for a in level_changes(alerts) if a["space_id"] == SQUARE and a["level"] == "red"]
    assert red, "no red alert for the square"
    fired = datetime.fromisoformat(red[0]["observed_at"])
    assert abs(fired - expected) <= timedelta(seconds=scenario.step_s)
    assert red[0]["severity"] == "Severe" and red[0]["msg_type"] == "Update"


def test_every_alert_is_explained_back_to_counter_observations(
    headless: tuple[list[dict[str, Any]], Path],
) -> None:
    alerts, _ = headless
    square_alerts = [a for a in level_changes(alerts) if a["space_id"] == SQUARE]
    assert [a["level"] for a in square_alerts][:3] == ["amber", "red", "critical"]
    assert square_alerts[-1]["msg_type"] == "Cancel"
    reminders = [a for a in alerts if escalation(a)]
    assert reminders, "nobody acknowledges in the demo: the alert must be escalated"
    for reminder in reminders:  # a reminder is explained by the alert it repeats
        assert reminder["provenance"][0]["kind"] == "alert"
        assert reminder["msg_type"] == "Update" and reminder["references"]
    for alert in square_alerts:
        kinds = [e["kind"] for e in alert["provenance"]]
        assert kinds[:2] == ["risk_level", "detection"]
        observations = [e for e in alert["provenance"] if e["kind"] == "observation"]
        assert observations, alert["id"]
        assert all(o["sensor_id"].startswith("counter-") for o in observations)
        assert {o["quantity"] for o in observations} <= {"entries_count", "exits_count"}
        detection = alert["provenance"][1]
        assert set(detection["derived_from"]) == {o["id"] for o in observations}


def test_replaying_the_recording_gives_the_same_alerts(
    headless: tuple[list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    alerts, record = headless
    result = run(["replay", str(record), "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert [a["id"] for a in alerts_of(result.stdout)] == [a["id"] for a in alerts]
    assert "0 rejected" in result.stderr


def test_replay_keeps_valid_lines_and_dead_letters_bad_ones(
    headless: tuple[list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    alerts, record = headless
    lines = record.read_text().splitlines()
    future = json.loads(lines[10]) | {"observed_at": "2099-01-01T00:00:00+00:00"}
    hostile = [
        "{not json",
        json.dumps(json.loads(lines[5]) | {"value": -40}),
        json.dumps(future),
        json.dumps(json.loads(lines[7]) | {"space_id": "x'; DROP TABLE alerts;--"}),
        "x" * 70_000,
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(lines[:300] + hostile + lines[300:]) + "\n")
    result = run(["replay", str(mixed), "--json"], tmp_path)
    assert result.returncode == 1  # something was rejected: the exit code says so
    assert f"{len(lines)} observations replayed, {len(hostile)} rejected" in result.stderr
    assert [a["id"] for a in alerts_of(result.stdout)] == [a["id"] for a in alerts]


def test_demo_falls_back_to_shipped_geometry_without_the_data_folder(tmp_path: Path) -> None:
    result = run(
        ["demo", "--headless", "--speed", "max", "--json"],
        tmp_path,
        SMARTSPACES_DATA=str(tmp_path / "absent"),
    )
    assert result.returncode == 0, result.stderr
    levels = [
        a["level"] for a in level_changes(alerts_of(result.stdout)) if a["space_id"] == SQUARE
    ]
    assert levels[:3] == ["amber", "red", "critical"]


def test_speed_must_be_a_number_or_max(tmp_path: Path) -> None:
    result = run(["demo", "--headless", "--speed", "fast"], tmp_path)
    assert result.returncode == 2
    assert "or 'max'" in result.stderr


def test_serve_answers_on_the_configured_port_and_seeds_the_default_spaces(tmp_path: Path) -> None:
    import socket
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path),
        "SMARTSPACES__API__PORT": str(port),
    }
    server = subprocess.Popen(  # noqa: S603 - our own CLI
        [*CLI, "serve"], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        assert health["spaces"] == 7
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/spaces").status_code == 401  # the API needs a sign-in
        demo = {"username": "police", "password": "smartspaces-demo"}  # development demo user
        login = httpx.post(f"{base}/api/v1/auth/login", json=demo)
        assert login.status_code == 200, login.text
        spaces = httpx.get(f"{base}/api/v1/spaces", cookies=login.cookies).json()
        assert SQUARE in {s["id"] for s in spaces}
    finally:
        server.terminate()
        server.wait(10)
    assert (tmp_path / "smartspaces" / "smartspaces.sqlite3").exists()


@pytest.mark.postgres
def test_the_demo_runs_unchanged_on_nats_and_postgresql(
    headless: tuple[list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    """The distributed deployment: NATS JetStream for the bus, PostgreSQL for the store (a
    schema of its own): the same alerts, with the same ids, as on the embedded defaults."""
    schema = private_schema()
    try:
        args = ["demo", "--headless", "--speed", "max", "--json", "--bus", "nats"]
        result = run([*args, "--store", postgres_url(schema)], tmp_path)
        assert result.returncode == 0, result.stderr
        embedded, _ = headless
        assert [a["id"] for a in alerts_of(result.stdout)] == [a["id"] for a in embedded]
    finally:
        drop_schema(schema)
        asyncio.run(delete_nats_streams("DEMO"))


def test_an_unknown_bus_is_refused(tmp_path: Path) -> None:
    result = run(["demo", "--headless", "--bus", "carrier-pigeon"], tmp_path)
    assert result.returncode != 0 and "memory, nats or kafka" in result.stderr
