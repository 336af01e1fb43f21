"""``smartspaces simulate``: the commands as a user runs them (small crowds, short runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartspaces.cli_simulate import simulate

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "SMARTSPACES__STORE__DATA_DIR": str(tmp_path),
        "SMARTSPACES__SIMULATION__DT_S": "0.1",
        "XDG_DATA_HOME": str(tmp_path),
    }


def test_exits_lists_where_the_square_opens(env: dict[str, str]) -> None:
    result = runner.invoke(simulate, ["exits", "--space", "plaza-ayuntamiento"], env=env)
    assert result.exit_code == 0, result.output
    assert "calle-san-vicente" in result.output and "28.7 m" in result.output


def test_egress_prints_both_times_and_keeps_them_for_advice(
    env: dict[str, str], tmp_path: Path
) -> None:
    args = ["egress", "--space", "plaza-ayuntamiento", "--persons", "150"]
    result = runner.invoke(simulate, [*args, "--block", "calle-san-vicente"], env=env)
    assert result.exit_code == 0, result.output
    assert "all exits open:" in result.output
    assert "calle-san-vicente blocked:" in result.output and "flow-capacity bound" in result.output
    kept = (tmp_path / "simulation" / "egress.jsonl").read_text().splitlines()
    assert [json.loads(line)["blocked"] for line in kept] == [[], ["calle-san-vicente"]]
    # a hazard at Sant Vicent: the advice uses the run made with that exit blocked
    advice = runner.invoke(
        simulate,
        ["advise", "--space", "plaza-ayuntamiento", "--persons", "100"]
        + ["--hazard=-0.37666,39.47205"],
        env=env,
    )
    assert advice.exit_code == 0, advice.output
    assert "(simulation)" in advice.output and "avoid Carrer de Sant Vicent" in advice.output


def test_buildup_writes_observations_that_replay_accepts(
    env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "sangre.jsonl"
    args = ["buildup", "--space", "calle-sangre", "--peak-density", "0.3", "--ramp-s", "60"]
    result = runner.invoke(simulate, [*args, "--format", "jsonl", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert {i["sensor_id"] for i in items} == {"sim-plaza-ayuntamiento"}
    assert sum(i["value"] for i in items if i["quantity"] == "entries_count") > 100
    replay = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "smartspaces.cli", "replay", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert replay.returncode == 0, replay.stderr
    assert f"{len(items)} observations replayed, 0 rejected" in replay.stderr


def test_buildup_writes_the_occupancy_per_second(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "mouth.csv"
    args = ["buildup", "--space", "calle-correos", "--near", "plaza-ayuntamiento"]
    args += ["--depth-m", "4", "--peak-density", "1", "--ramp-s", "30", "--out", str(out)]
    result = runner.invoke(simulate, args, env=env)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("t_s,occupancy_persons,density_p_m2") and len(lines) == 31


def test_bad_requests_fail_with_a_reason(env: dict[str, str], tmp_path: Path) -> None:
    unknown = runner.invoke(simulate, ["exits", "--space", "plaza-de-la-reina"], env=env)
    assert unknown.exit_code == 1 and "plaza-ayuntamiento" in unknown.output
    blocked = runner.invoke(
        simulate,
        ["egress", "--space", "calle-correos", "--persons", "5", "--block", "calle-correos"],
        env=env,
    )
    assert blocked.exit_code == 1 and "no exit 'calle-correos'" in blocked.output
    fmt = runner.invoke(
        simulate,
        ["buildup", "--space", "calle-sangre", "--format", "xml", "--out", str(tmp_path / "x")],
        env=env,
    )
    assert fmt.exit_code == 2
    hazard = runner.invoke(
        simulate, ["advise", "--space", "calle-sangre", "--persons", "5", "--hazard", "x"], env=env
    )
    assert hazard.exit_code == 2
