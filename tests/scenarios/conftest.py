"""Scenario test fixtures: the shared OSM export (or a printed skip), the shipped layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartspaces.config import ScenarioSettings
from smartspaces.scenarios.valencia import ValenciaScenario
from smartspaces.scenarios.valencia.scenario import OSM_RELATIVE
from tests.conftest import shared_data


@pytest.fixture(scope="session")
def osm_path() -> Path:
    """The real OSM export under the shared data folder; see ``shared_data``."""
    return shared_data(*OSM_RELATIVE.parts)


@pytest.fixture(scope="session")
def real_scenario(osm_path: Path) -> ValenciaScenario:
    """The scenario built from the real OSM export."""
    scenario = ValenciaScenario(ScenarioSettings(data_dir=osm_path.parent.parent))
    assert scenario.from_shared_data
    return scenario


@pytest.fixture()
def shipped_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScenarioSettings:
    """Settings pointing at an empty data folder, so the shipped GeoJSON is used."""
    monkeypatch.delenv("SMARTSPACES_DATA", raising=False)
    return ScenarioSettings(data_dir=tmp_path / "no-shared-data")


@pytest.fixture(scope="session")
def shipped_scenario(tmp_path_factory: pytest.TempPathFactory) -> ValenciaScenario:
    """The scenario from the shipped GeoJSON (no shared data needed), built once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SMARTSPACES_DATA", raising=False)
        settings = ScenarioSettings(data_dir=tmp_path_factory.mktemp("no-shared-data"))
        scenario = ValenciaScenario(settings)
    assert not scenario.from_shared_data
    return scenario
