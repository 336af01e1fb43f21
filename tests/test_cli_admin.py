"""Device and dead-letter administration through the real CLI (typer's runner, same process)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartspaces.cli import app
from smartspaces.config import load_settings, shared_data_dir
from smartspaces.edge.devices import hash_token
from smartspaces.edge.ngsild.schemas import ModelSchemas
from smartspaces.store import Store

SQUARE = "plaza-ayuntamiento"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return CliRunner()


def store() -> Store:
    return Store(load_settings().store.database_url())


def test_add_list_rotate_disable(cli: CliRunner) -> None:
    added = cli.invoke(
        app,
        [
            "devices",
            "add",
            "counter-x",
            "--space",
            SQUARE,
            "--quantity",
            "entries_count",
            "--quantity",
            "exits_count",
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    device = store().devices.get("counter-x")
    assert device is not None and device.token_sha256 == hash_token(token)
    assert device.quantities == ("entries_count", "exits_count")
    assert "counter-x" in cli.invoke(app, ["devices", "list"]).output
    rotated = cli.invoke(app, ["devices", "token", "counter-x"]).output.strip()
    assert rotated != token and store().devices.get("counter-x").token_sha256 == hash_token(rotated)  # type: ignore[union-attr]
    assert cli.invoke(app, ["devices", "disable", "counter-x"]).exit_code == 0
    assert store().devices.get("counter-x").status == "disabled"  # type: ignore[union-attr]


def test_bad_registrations_are_refused(cli: CliRunner) -> None:
    assert cli.invoke(app, ["devices", "add", "c1", "--space", "atlantis"]).exit_code == 2
    assert cli.invoke(app, ["devices", "add", "c/../1", "--space", SQUARE]).exit_code == 2
    assert (
        cli.invoke(app, ["devices", "add", "c1", "--space", SQUARE, "--kind", "drone"]).exit_code
        == 2
    )
    assert cli.invoke(app, ["devices", "token", "nobody"]).exit_code == 2


def test_export_is_valid_smart_data_models_and_imports_back(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(
        app,
        [
            "devices",
            "add",
            "camera-1",
            "--space",
            SQUARE,
            "--kind",
            "camera",
            "--quantity",
            "occupancy_persons",
        ],
    )
    exported = tmp_path / "devices.json"
    assert cli.invoke(app, ["devices", "export", str(exported)]).exit_code == 0
    (entity,) = json.loads(exported.read_text())
    assert "token" not in json.dumps(entity)
    schemas = ModelSchemas(shared_data_dir() / "smart-data-models")
    if schemas.covers("Device"):
        schemas.validate({**entity, "id": entity["id"]})
    before = store().devices.get("camera-1")
    assert cli.invoke(app, ["devices", "import", str(exported)]).exit_code == 0
    assert store().devices.get("camera-1") == before  # round trip, token kept


def test_import_reports_bad_entities_and_keeps_the_good(cli: CliRunner, tmp_path: Path) -> None:
    good = {
        "id": "urn:ngsi-ld:Device:noise-9",
        "type": "Device",
        "controlledProperty": ["noiseLevel"],
        "areaServed": SQUARE,
    }
    bad = [
        {"id": "noise-8", "type": "Device"},
        {"id": "urn:ngsi-ld:Device:x", "type": "Device"},
        {"id": "urn:ngsi-ld:Device:y", "type": "Device", "areaServed": "atlantis"},
    ]
    file = tmp_path / "in.json"
    file.write_text(json.dumps([good, *bad]))
    result = cli.invoke(app, ["devices", "import", str(file)])
    assert result.exit_code == 1
    assert "1 devices imported, 3 refused" in result.output
    imported = store().devices.get("noise-9")
    assert imported is not None and imported.kind == "noise_sensor"
    assert imported.quantities == ("noise_laeq_dba",)


def test_dead_letters_are_listed_and_replayed_after_the_fix(cli: CliRunner) -> None:
    cli.invoke(app, ["devices", "list"])  # creates the store with the default spaces
    item = {
        "sensor_id": "late-1",
        "space_id": SQUARE,
        "quantity": "entries_count",
        "value": 3,
        "observed_at": datetime.now(UTC).isoformat(),
    }
    store().add_dead_letter(
        "http", "item 0: unknown device 'late-1'", json.dumps(item), datetime.now(UTC)
    )
    assert "late-1" in cli.invoke(app, ["dead-letters", "list"]).output
    first = cli.invoke(app, ["dead-letters", "replay"])
    assert "0 replayed, 1 still refused" in first.output
    cli.invoke(app, ["devices", "add", "late-1", "--space", SQUARE])
    second = cli.invoke(app, ["dead-letters", "replay"])
    assert "1 replayed, 0 still refused" in second.output
    assert store().count("observation") == 1
