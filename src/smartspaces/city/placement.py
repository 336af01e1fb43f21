"""Where assets stand relative to the smart spaces: distances in metres, checked at load.

An asset serves a space from inside it or from nearby: a substation 300 m away feeds the square,
a metro station at the end of the street brings its crowd. So an asset passes when it is within
its reach (``reach_m``, default the model's) of every space it serves, or, when it serves none
directly, of at least one known space. Farther than that is almost always a swapped longitude and
latitude or a wrong space id, which is what this check is for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon

from smartspaces.city.model import Asset
from smartspaces.events import SmartSpace

DEFAULT_REACH_M = 500.0
"""How far from a space an asset may serve it unless the model or the asset says otherwise:
a few city blocks, the walk from a metro exit to a square."""


def _utm_epsg(lon: float, lat: float) -> int:
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def _describe(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 2000 else f"{metres:.0f} m"


def check_placement(
    assets: Iterable[Asset], spaces: Mapping[str, SmartSpace], reach_m: float
) -> tuple[dict[str, str], list[str]]:
    """Per asset the nearest known space, and a problem for each asset placed out of reach
    or serving a space nobody knows."""
    assets = list(assets)
    problems: list[str] = []
    for asset in assets:
        for space_id in asset.serves:
            if space_id not in spaces:
                problems.append(f"asset '{asset.id}' serves unknown space '{space_id}'")
    if not assets or not spaces:
        if assets and not spaces:
            problems.append("no smart spaces are known to place the assets in")
        return {}, problems
    lon0, lat0 = next(iter(spaces.values())).centroid.coordinates
    # One metric projection for the whole model: a city fits in one UTM zone, and a few metres
    # of distortion at its edge do not matter against a reach of hundreds of metres.
    project = Transformer.from_crs(4326, _utm_epsg(lon0, lat0), always_xy=True).transform
    areas = {
        space_id: shapely.transform(
            Polygon(space.geometry.coordinates[0], space.geometry.coordinates[1:]),
            project,
            interleaved=False,
        )
        for space_id, space in spaces.items()
    }
    ids = list(areas)
    column = {space_id: j for j, space_id in enumerate(ids)}
    xs, ys = project(
        np.array([a.location.coordinates[0] for a in assets]),
        np.array([a.location.coordinates[1] for a in assets]),
    )
    points = shapely.points(np.column_stack((xs, ys)))
    # distances[i, j]: asset i to space j, 0 inside it
    distances = np.column_stack([shapely.distance(points, areas[s]) for s in ids])
    nearest: dict[str, str] = {}
    for row, asset in enumerate(assets):
        reach = asset.reach_m if asset.reach_m is not None else reach_m
        closest = int(np.argmin(distances[row]))
        nearest[asset.id] = ids[closest]
        served = [s for s in asset.serves if s in areas]
        for space_id in served:
            metres = float(distances[row, column[space_id]])
            if metres > reach:
                problems.append(
                    f"asset '{asset.id}' is {_describe(metres)} from space '{space_id}' it "
                    f"serves, beyond its reach of {reach:.0f} m (location is lon, lat)"
                )
        if not asset.serves and float(distances[row, closest]) > reach:
            problems.append(
                f"asset '{asset.id}' serves no space directly and is "
                f"{_describe(float(distances[row, closest]))} from the nearest known space "
                f"'{ids[closest]}', beyond its reach of {reach:.0f} m (location is lon, lat)"
            )
    return nearest, problems
