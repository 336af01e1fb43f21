"""The responder units shipped with the València demo (``units.yaml``): who is out there, of
which agency, where, in what state. Illustrative, not real deployments: see the file's header.

The API starts from these and applies the changes operators make (each one audited); a site
with real units feeds them the same way, through ``PATCH /api/v1/units/{unit_id}``.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartspaces.events import GeoPoint, Identifier
from smartspaces.scenarios.valencia.errors import ScenarioDataError

UNITS_FILE = "units.yaml"
UnitKind = Literal["police", "ambulance", "fire", "civil_protection", "stewards"]
UnitState = Literal["available", "en_route", "on_scene", "out_of_service"]
Agency = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._\-]{0,63}$")]


class ResponderUnit(BaseModel):
    """A unit (patrol, ambulance, fire crew, stewards) as shipped: its starting place and state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Identifier
    callsign: str = Field(min_length=1, max_length=24, description="Shown on the map")
    kind: UnitKind
    agency: Agency = Field(description="The agency that commands it (and alone may move it)")
    state: UnitState
    location: GeoPoint


class _UnitsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    units: tuple[ResponderUnit, ...]


def parse_units(text: str, source: str = UNITS_FILE) -> tuple[ResponderUnit, ...]:
    """The units of a ``units.yaml`` text; ``ScenarioDataError`` names what is wrong with it."""
    try:
        raw = yaml.safe_load(text) or {}
        if isinstance(raw, dict):
            raw["units"] = [
                {**u, "location": {"coordinates": u.get("location")}} if isinstance(u, dict) else u
                for u in raw.get("units") or []
            ]
        units = _UnitsFile.model_validate(raw).units
    except (yaml.YAMLError, ValidationError) as error:
        raise ScenarioDataError(f"{source}: {error}") from error
    seen: set[str] = set()
    for unit in units:
        if unit.id in seen:
            raise ScenarioDataError(f"{source}: unit {unit.id!r} is listed twice")
        seen.add(unit.id)
    return units


def shipped_units() -> tuple[ResponderUnit, ...]:
    """The demo's units, from the packaged ``units.yaml``."""
    files = resources.files("smartspaces.scenarios.valencia")
    return parse_units(files.joinpath(UNITS_FILE).read_text(encoding="utf-8"))
