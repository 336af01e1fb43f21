"""A small piece of València for the fusion tests: spaces, devices, assets, event factories."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from smartspaces.config import FusionSettings
from smartspaces.detect.fusion import FusionEngine, RuleSet, load_rules
from smartspaces.events import (
    AttributeValue,
    Detection,
    Device,
    Level,
    Observation,
    Situation,
)
from tests.conftest import T0, square

# the plaza lists the market as its neighbour (the market does not list it back); the cathedral
# square and the station are further away
SPACES = (
    square("plaza", area_m2=8000.0, neighbours=("market",)),
    square("market", area_m2=3000.0),
    square("cathedral", area_m2=5000.0),
    square("station", area_m2=4000.0),
)
DEVICES = {
    d.id: d
    for d in (
        Device(id="cam-plaza-1", kind="camera", space_id="plaza"),
        Device(id="cam-plaza-2", kind="camera", space_id="plaza"),
        Device(id="counter-plaza-1", kind="people_counter", space_id="plaza"),
        Device(id="cam-cathedral-1", kind="camera", space_id="cathedral"),
        Device(id="counter-cathedral-1", kind="people_counter", space_id="cathedral"),
    )
}
# what the city model computes: the spaces each asset serves, directly or through dependencies
ASSET_SPACES = {
    "sub-north": frozenset({"plaza", "market"}),
    "sub-south": frozenset({"cathedral"}),
    "telecom-3": frozenset({"plaza"}),
    "lamp-7": frozenset({"plaza"}),
}
ASSET_KINDS = {
    "sub-north": "substation",
    "sub-south": "substation",
    "telecom-3": "telecom_node",
    "lamp-7": "lighting",
}
DETECTORS = {
    "crowd.density_level": "crowd.density",
    "crowd.density_rising_fast": "crowd.rate_of_rise",
    "crowd.red_forecast": "crowd.forecast",
}


def at(minutes: float = 0.0, seconds: float = 0.0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def det(
    detection_type: str,
    when: datetime,
    space: str = "plaza",
    level: Level = Level.AMBER,
    confidence: float = 0.9,
    **attributes: AttributeValue,
) -> Detection:
    """A detection as its producer would send it."""
    detector = DETECTORS.get(detection_type, detection_type.rsplit("_", 1)[0])
    return Detection(
        source=detector,
        space_id=space,
        observed_at=when,
        received_at=when,
        detector=detector,
        detection_type=detection_type,
        level=level,
        confidence=confidence,
        summary=f"{detection_type} in {space}",
        attributes=attributes,
    )


def obs(
    sensor: str,
    quantity: str,
    value: float,
    when: datetime,
    space: str | None = None,
    source: str = "edge",
) -> Observation:
    """A reading; its space is the device's unless given."""
    device = DEVICES.get(sensor)
    space_id = space or (device.space_id if device else "plaza")
    return Observation(
        source=source,
        space_id=space_id,
        sensor_id=sensor,
        quantity=quantity,
        value=value,
        observed_at=when,
        received_at=when,
    )


def silence(camera: str, when: datetime) -> Observation:
    """What edge health reports when a device stops talking."""
    return obs(camera, "device_silence_s", 95.0, when, source="edge.health")


def density(level: Level, when: datetime, space: str = "plaza") -> Detection:
    return det("crowd.density_level", when, space, level=level, confidence=1.0)


def engine(rules: RuleSet | None = None, **settings: int) -> FusionEngine:
    return FusionEngine(
        rules or load_rules(),
        SPACES,
        DEVICES,
        ASSET_SPACES,
        ASSET_KINDS,
        FusionSettings(**settings),
    )


def feed(
    fusion: FusionEngine, events: Iterable[Observation | Detection], delay_s: float = 1.0
) -> list[Situation]:
    """Every event through the engine, received ``delay_s`` after it happened."""
    found: list[Situation] = []
    for event in events:
        found += fusion.step(event, event.observed_at + timedelta(seconds=delay_s))
    return found


def of_type(situations: Iterable[Situation], situation_type: str) -> list[Situation]:
    return [s for s in situations if s.situation_type == situation_type]


@pytest.fixture
def fusion() -> FusionEngine:
    return engine()
