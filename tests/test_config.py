"""One settings object: defaults, TOML file, environment variables, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from smartspaces.config import Settings, load_settings
from smartspaces.errors import ConfigError


def test_defaults_are_the_documented_ladder_and_an_embedded_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = load_settings()
    assert (settings.crowd.amber_p_m2, settings.crowd.red_p_m2, settings.crowd.critical_p_m2) == (
        2.0,
        4.0,
        5.0,
    )
    assert settings.store.database_url() == f"sqlite:///{tmp_path}/smartspaces/smartspaces.sqlite3"
    assert settings.api.max_body_bytes == 1_048_576


def test_environment_beats_file_beats_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "smartspaces.toml"
    config.write_text("[crowd]\nred_p_m2 = 3.5\namber_p_m2 = 1.5\n[api]\nport = 9000\n")
    monkeypatch.setenv("SMARTSPACES__CROWD__RED_P_M2", "3.8")
    settings = load_settings(config)
    assert settings.crowd.red_p_m2 == 3.8
    assert settings.crowd.amber_p_m2 == 1.5
    assert settings.api.port == 9000
    monkeypatch.setenv("SMARTSPACES_CONFIG", str(config))
    assert load_settings().api.port == 9000


def test_thresholds_must_rise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTSPACES__CROWD__RED_P_M2", "6")
    with pytest.raises(ValidationError, match="amber < red < critical"):
        load_settings()


def test_unknown_settings_and_missing_files_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[crowd]\nred_p_m = 3\n")
    with pytest.raises(ValidationError, match="red_p_m"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")
    with pytest.raises(ValidationError):
        Settings(api={"port": 70000})  # type: ignore[arg-type]
