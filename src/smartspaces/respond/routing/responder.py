"""The fastest route for a responder from where it is to an incident, avoiding hazard areas.

The graph is a directed street graph whose nodes carry ``lon``/``lat`` and whose edges carry
``time_s``, ``length_m`` and the edge as a ``line`` (any planar coordinates; only lon/lat are
used here). Hazards are areas the route must not cross (a crush in a square, a street closed
by a fire); the street at the destination itself stays usable, since that is where the
responder must go. Start and goal snap to the nearest node of the graph's largest strongly
connected part, so a route never starts in a dead-end fragment of the export.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import shapely
from shapely.geometry import LineString, Polygon

from smartspaces.errors import SmartspacesError
from smartspaces.events import GeoPolygon

LonLat = tuple[float, float]


class NoRoute(SmartspacesError):
    """No route avoids the hazards (or the points are off the map)."""


@dataclass(frozen=True)
class Route:
    """A route: its length, the time it takes, the path as lon/lat, and what it went around."""

    length_m: float
    travel_time_s: float
    coordinates: tuple[LonLat, ...]
    snapped_start_m: float
    snapped_goal_m: float
    hazards_avoided: int


class ResponderRouter:
    """Routes over one street graph; build once per graph (it indexes the edges)."""

    def __init__(self, graph: nx.DiGraph[int], max_snap_m: float = 300.0) -> None:
        if graph.number_of_nodes() == 0:
            raise NoRoute("the street graph is empty")
        core = max(nx.strongly_connected_components(graph), key=len)
        self._graph = graph.subgraph(core).copy()
        self._max_snap_m = max_snap_m
        self._nodes = list(self._graph.nodes)
        self._lonlat = [
            (self._graph.nodes[n]["lon"], self._graph.nodes[n]["lat"]) for n in self._nodes
        ]
        self._edges = list(self._graph.edges)
        segments = [LineString([self._lonlat_of(u), self._lonlat_of(v)]) for u, v in self._edges]
        self._tree = shapely.STRtree(segments)

    def _lonlat_of(self, node: int) -> LonLat:
        data = self._graph.nodes[node]
        return (data["lon"], data["lat"])

    def route(self, start: LonLat, goal: LonLat, hazards: Sequence[GeoPolygon] = ()) -> Route:
        """The fastest route from ``start`` to ``goal`` that crosses none of ``hazards``."""
        source, source_m = self._snap(start)
        target, target_m = self._snap(goal)
        blocked = self._blocked(hazards, keep={source, target})
        graph = nx.restricted_view(self._graph, [], blocked) if blocked else self._graph
        try:
            path = nx.shortest_path(graph, source, target, weight="time_s")
        except nx.NetworkXNoPath as exc:
            raise NoRoute(
                f"no route from {start} to {goal} avoids the {len(hazards)} hazard area(s)"
            ) from exc
        pairs = list(zip(path, path[1:], strict=False))
        return Route(
            length_m=round(sum(self._graph.edges[e]["length_m"] for e in pairs), 1),
            travel_time_s=round(sum(self._graph.edges[e]["time_s"] for e in pairs), 1),
            coordinates=tuple(self._lonlat_of(n) for n in path),
            snapped_start_m=round(source_m, 1),
            snapped_goal_m=round(target_m, 1),
            hazards_avoided=len(hazards),
        )

    def _snap(self, point: LonLat) -> tuple[int, float]:
        lon, lat = point
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon + lat):
            raise NoRoute(f"({lon}, {lat}) is not a WGS84 longitude, latitude")
        best, best_m = self._nodes[0], math.inf
        for node, (nlon, nlat) in zip(self._nodes, self._lonlat, strict=True):
            d = _metres(lon, lat, nlon, nlat)
            if d < best_m:
                best, best_m = node, d
        if best_m > self._max_snap_m:
            raise NoRoute(f"({lon}, {lat}) is {best_m:.0f} m from the nearest street of the map")
        return best, best_m

    def _blocked(self, hazards: Sequence[GeoPolygon], keep: set[int]) -> list[tuple[int, int]]:
        blocked: list[tuple[int, int]] = []
        for hazard in hazards:
            area = Polygon(hazard.coordinates[0], hazard.coordinates[1:])
            for index in self._tree.query(area, predicate="intersects"):
                u, v = self._edges[int(index)]
                if u not in keep and v not in keep:
                    blocked.append((u, v))
        return blocked


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    # equirectangular: exact enough within a city, and cheap
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000.0 * math.hypot(x, y)
