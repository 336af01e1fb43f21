"""The city model: infrastructure assets, the spaces they serve, and their dependencies.

Shared vocabulary of detect (fusion correlates cyber and physical events through
``CityModel.asset_spaces()``) and respond (risk cascades over ``CityModel.graph``); it imports
nothing of ours but the event language and the root error.
"""

from smartspaces.city.errors import CityModelError
from smartspaces.city.load import load_city_model, parse_city_geojson, parse_city_yaml
from smartspaces.city.model import (
    Asset,
    AssetKind,
    CityModel,
    Dependency,
    Service,
    ServiceFeeds,
)
from smartspaces.city.placement import DEFAULT_REACH_M

__all__ = [
    "DEFAULT_REACH_M",
    "Asset",
    "AssetKind",
    "CityModel",
    "CityModelError",
    "Dependency",
    "Service",
    "ServiceFeeds",
    "load_city_model",
    "parse_city_geojson",
    "parse_city_yaml",
]
