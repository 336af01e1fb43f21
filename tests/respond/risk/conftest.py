"""Risk fixtures: a small town around the test square, and the events that drive risk."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from smartspaces.city import CityModel, parse_city_yaml
from smartspaces.events import CrowdState, Detection, Level, SmartSpace
from tests.conftest import T0, square

TOWN = """
name: town
assets:
  - {id: substation-s, name: Substation S, kind: substation, location: [-0.3740, 39.4699],
     criticality: 5}
  - {id: substation-t, name: Substation T, kind: substation, location: [-0.3741, 39.4695],
     criticality: 5}
  - {id: metro-m, name: Metro M, kind: metro_station, location: [-0.3763, 39.4699],
     serves: [plaza], criticality: 4}
  - {id: camera-c, name: Camera C, kind: camera, location: [-0.3762, 39.4700], serves: [plaza],
     criticality: 2}
  - {id: hospital-h, name: Hospital H, kind: hospital, location: [-0.3761, 39.4698],
     serves: [plaza], criticality: 5, backup_s: {power: 28800}}
dependencies:
  - {supplier: substation-s, dependent: metro-m, service: power, delay_s: 60}
  - {supplier: metro-m, dependent: camera-c, service: data, delay_s: 30}
  - {supplier: substation-s, dependent: hospital-h, service: power}
"""
"""Substation S feeds Metro M (the loss reaches it after 60 s) and Hospital H (8 h of backup
power); the metro's network carries Camera C's video (30 s). Substation T feeds nothing yet."""

REDUNDANT = TOWN + "  - {supplier: substation-t, dependent: metro-m, service: power, delay_s: 10}\n"
"""The same town with a second power feed into Metro M, from Substation T."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def spaces() -> dict[str, SmartSpace]:
    return {"plaza": square("plaza"), "calle": square("calle")}


@pytest.fixture
def town(spaces: dict[str, SmartSpace]) -> CityModel:
    return parse_city_yaml(TOWN, spaces.values(), source="town.yaml")


@pytest.fixture
def redundant(spaces: dict[str, SmartSpace]) -> CityModel:
    return parse_city_yaml(REDUNDANT, spaces.values(), source="town.yaml")


def infra(kind: str, asset_id: str, seconds: float, space: str = "plaza") -> Detection:
    """An ``infra.asset_down``/``infra.asset_up`` report, as the SCADA adapter sends it."""
    return Detection(
        source="infra.scada",
        space_id=space,
        observed_at=at(seconds),
        received_at=at(seconds),
        detector="infra.scada",
        detection_type=f"infra.asset_{kind}",
        level=Level.RED if kind == "down" else Level.NORMAL,
        summary=f"{asset_id} reported {kind}",
        attributes={"asset_id": asset_id},
    )


def crowd(level: Level, seconds: float, density: float, space: str = "plaza") -> Detection:
    """A crowd density detection carrying its crowd measure (area 1000 m2)."""
    return Detection(
        source="crowd.density",
        space_id=space,
        observed_at=at(seconds),
        received_at=at(seconds),
        derived_from=(f"obs-{seconds}",),
        detector="crowd.density",
        detection_type="crowd.density_level",
        level=level,
        summary=f"density {density} persons/m2",
        crowd=CrowdState(
            occupancy_persons=density * 1000,
            area_m2=1000,
            density_p_m2=density,
            level_of_service="E" if density >= 2 else "B",
        ),
    )


def event(
    level: Level,
    seconds: float,
    kind: str = "cyber.port_scan",
    confidence: float = 1.0,
    space: str = "plaza",
) -> Detection:
    """An event-like detection (no crowd measure): its weight fades with age."""
    return Detection(
        source="cyber",
        space_id=space,
        observed_at=at(seconds),
        received_at=at(seconds),
        detector="cyber",
        detection_type=kind,
        level=level,
        confidence=confidence,
        summary=f"{kind} {level.value}",
    )
