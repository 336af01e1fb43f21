"""The real street graph of València's old town from the OpenStreetMap export, for responder
routing: one directed graph per mode, edges in metres with a travel speed.

Speeds are planning figures for an emergency vehicle in a dense historic centre (narrow streets,
pedestrian zones it may enter at walking pace) and for responders on foot; they rank routes, they
do not promise arrival times to the second.
"""

from __future__ import annotations

from typing import Literal

import networkx as nx
from shapely.geometry import LineString, MultiPoint

from smartspaces.scenarios.valencia.geometry import to_metric
from smartspaces.scenarios.valencia.osm import OsmData, OsmWay

Mode = Literal["vehicle", "foot"]

VEHICLE_SPEED_M_S = {
    "primary": 11.1,  # 40 km/h
    "primary_link": 11.1,
    "secondary": 9.7,  # 35 km/h
    "secondary_link": 9.7,
    "tertiary": 8.3,  # 30 km/h
    "tertiary_link": 8.3,
    "unclassified": 6.9,
    "residential": 6.9,  # 25 km/h
    "service": 4.2,
    "living_street": 2.8,  # 10 km/h: shared with people
    "pedestrian": 2.8,  # emergency vehicles may enter, at walking pace
}
FOOT_SPEED_M_S = 1.4
"""A responder walking briskly; running responders are faster but cannot keep it up."""
FOOT_EXTRA = frozenset({"footway", "path", "steps", "cycleway", "corridor", "track"})


def _speed(way: OsmWay, mode: Mode) -> float | None:
    highway = way.tags.get("highway")
    if highway is None or way.tags.get("area") == "yes":
        return None
    if way.tags.get("access") in {"no", "private"} and mode == "vehicle":
        return None
    if mode == "foot":
        known = highway in VEHICLE_SPEED_M_S or highway in FOOT_EXTRA
        return FOOT_SPEED_M_S if known and way.tags.get("foot") != "no" else None
    return VEHICLE_SPEED_M_S.get(highway)


def street_graph(osm: OsmData, mode: Mode) -> nx.DiGraph[int]:
    """Nodes are OSM node ids with metric ``x``/``y`` (EPSG:25830) and ``lon``/``lat``; each
    edge has ``length_m``, ``speed_m_s``, ``time_s``, the metric ``line`` and the ``way`` id.
    Vehicles keep to one-way streets (``oneway=yes``/``-1``); people on foot do not."""
    graph: nx.DiGraph[int] = nx.DiGraph()
    ids = list(osm.nodes)
    projected = to_metric(MultiPoint([osm.nodes[i] for i in ids])) if ids else MultiPoint()
    metric = {i: (p.x, p.y) for i, p in zip(ids, projected.geoms, strict=True)}
    for way in osm.ways.values():
        speed = _speed(way, mode)
        if speed is None or len(way.refs) < 2:
            continue
        oneway = way.tags.get("oneway") if mode == "vehicle" else None
        refs = list(way.refs)
        if oneway == "-1":
            refs.reverse()
        for a, b in zip(refs, refs[1:], strict=False):
            if a == b or a not in osm.nodes or b not in osm.nodes:
                continue
            line = LineString([metric[a], metric[b]])
            for u, v, seg in ((a, b, line), (b, a, line.reverse())):
                for node in (u, v):
                    if node not in graph:
                        lon, lat = osm.nodes[node]
                        x, y = metric[node]
                        graph.add_node(node, lon=lon, lat=lat, x=x, y=y)
                attrs = {
                    "length_m": seg.length,
                    "speed_m_s": speed,
                    "time_s": seg.length / speed,
                    "line": seg,
                    "way": way.id,
                }
                graph.add_edge(u, v, **attrs)
                if oneway in {"yes", "1", "true", "-1"}:
                    break  # only the first direction
    return graph
