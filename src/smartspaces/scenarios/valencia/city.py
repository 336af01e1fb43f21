"""The infrastructure model shipped with the València scenario (``city.yaml``), validated against
the scenario's spaces. Illustrative figures, not the real grid: see the file's header."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from smartspaces.city import CityModel, parse_city_yaml
from smartspaces.events import SmartSpace

CITY_FILE = "city.yaml"


def shipped_city_text() -> str:
    """The text of the shipped ``city.yaml``."""
    files = resources.files("smartspaces.scenarios.valencia")
    return files.joinpath(CITY_FILE).read_text(encoding="utf-8")


def valencia_city_model(spaces: Iterable[SmartSpace] | None = None) -> CityModel:
    """The old town's assets and dependencies, checked against ``spaces`` (default: the shipped
    layout's); raises ``CityModelError`` if they do not fit."""
    if spaces is None:
        from smartspaces.scenarios.valencia.scenario import shipped_layout

        spaces = shipped_layout().spaces
    return parse_city_yaml(shipped_city_text(), spaces, source=CITY_FILE)
