"""`smartspaces cyber analyse` on the real slips-ids captures, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartspaces.cli import app
from smartspaces.store import Store
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata
runner = CliRunner()


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_the_horizontal_scan_is_listed_with_its_attacker() -> None:
    log = shared_data("slips-ids", "port-scans", "horizontal", "conn.log")
    result = runner.invoke(app, ["cyber", "analyse", str(log), "--format", "zeek", "--json"])
    assert result.exit_code == 0, result.output
    found = lines(result.stdout)
    scans = [d for d in found if d["detection_type"] == "cyber.horizontal_port_scan"]
    assert scans and all(d["attributes"]["attacker_ip"] == "10.0.2.112" for d in scans)  # type: ignore[index]


def test_the_ssh_brute_force_pcap_is_read_as_a_stream() -> None:
    pcap = shared_data("slips-ids", "test19-malicious-ssh", "malicious-ssh-bruteforce.pcap")
    result = runner.invoke(app, ["cyber", "analyse", str(pcap), "--format", "pcap", "--json"])
    assert result.exit_code == 0, result.output
    kinds = {d["detection_type"] for d in lines(result.stdout)}
    assert "cyber.ssh_password_guessing" in kinds


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b"\x00" * 4096, "pcap"),
        (b"#fields\tfoo\tbar\n1\t2\n", "zeek"),
        (b"\xff\xfe\x00garbage", "flows"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_clearly(
    tmp_path: Path, content: bytes, fmt: str
) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(content)
    result = runner.invoke(app, ["cyber", "analyse", str(bad), "--format", fmt])
    assert result.exit_code == 1
    assert result.output.strip() and "Traceback" not in result.output


def test_published_detections_reach_the_store_for_the_space_the_asset_map_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTSPACES__STORE__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARTSPACES__MQTT__ENABLED", "false")
    assets = tmp_path / "assets.json"
    # the scanning host's subnet serves the square: the scan threatens it
    assets.write_text(
        json.dumps(
            {
                "segments": [
                    {"id": "lab", "network": "10.0.2.0/24", "spaces": ["plaza-ayuntamiento"]}
                ]
            }
        )
    )
    log = shared_data("slips-ids", "port-scans", "horizontal", "conn.log")
    args = ["cyber", "analyse", str(log), "--format", "zeek", "--assets", str(assets), "--publish"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "handed to the pipeline" in result.output
    store = Store(f"sqlite:///{tmp_path / 'smartspaces.sqlite3'}")
    try:
        stored = store.recent("detection", 100, "plaza-ayuntamiento")
        assert any(getattr(d, "detection_type", "") == "cyber.horizontal_port_scan" for d in stored)
        risks = store.recent("risk_level", 10, "plaza-ayuntamiento")
        assert risks  # the scan counts in the square's risk
    finally:
        store.close()
