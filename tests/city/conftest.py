"""City model fixtures: the demo's real spaces, and a small model around the test square."""

from __future__ import annotations

import pytest

from smartspaces.events import SmartSpace
from smartspaces.scenarios.valencia.scenario import shipped_layout
from tests.conftest import square

SMALL = """
name: test-town
assets:
  - {id: substation-a, name: Substation A, kind: substation, location: [-0.3740, 39.4699]}
  - {id: metro-a, name: Metro A, kind: metro_station, location: [-0.3763, 39.4699],
     serves: [plaza], criticality: 4}
  - {id: camera-a, name: Camera A, kind: camera, location: [-0.3762, 39.4700], serves: [plaza],
     depends_on: [{supplier: metro-a, service: data, delay_s: 30}]}
dependencies:
  - {supplier: substation-a, dependent: metro-a, service: power, delay_s: 60}
"""
"""Three assets: a substation 170 m east of the square feeding a metro station in it, whose
network carries a camera's video."""


@pytest.fixture(scope="session")
def valencia_spaces() -> list[SmartSpace]:
    """The demo's seven spaces, from the shipped valencia-spaces.geojson."""
    return list(shipped_layout().spaces)


@pytest.fixture
def plaza() -> list[SmartSpace]:
    return [square("plaza"), square("calle")]
