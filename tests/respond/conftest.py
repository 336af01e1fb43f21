"""Fixtures of the respond tests: the OASIS CAP schemas (or a printed skip), València's spaces."""

from __future__ import annotations

from importlib import resources

import pytest

from smartspaces.events import SmartSpace
from smartspaces.respond.alerts.cap_xml import CapSchemas
from smartspaces.scenarios.valencia.layout import layout_from_geojson
from tests.conftest import shared_data


@pytest.fixture(scope="session")
def cap_schemas() -> CapSchemas:
    return CapSchemas.from_dir(shared_data("cap", "schema"))


@pytest.fixture(scope="session")
def valencia_spaces() -> dict[str, SmartSpace]:
    """The demo's smart spaces from the shipped layout (no shared data needed)."""
    files = resources.files("smartspaces") / "scenarios" / "valencia" / "valencia-spaces.geojson"
    layout = layout_from_geojson(files.read_bytes())
    return {space.id: space for space in layout.spaces}
