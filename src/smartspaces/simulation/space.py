"""The walkable area of a smart space and its exits, from the real València geometry (metres).

How exits are chosen: an exit is where the space's boundary meets a neighbouring smart space
(the layout's ``neighbours``; for the Plaça de l'Ajuntament, the six counted access streets,
where its people counters stand). Its edge is the stretch of the boundary within ``TOUCH_M`` of
that neighbour and its width the stretch's length: 28.7, 17.8, 11.0, 9.5, 6.8 and 6.1 m for the
square, about 80 m in all. Where a boundary touches a neighbour in several places, the longest
stretch is the exit. Openings onto streets that are no smart space (Passeig de Russafa,
Periodista Azzati, Roger de Llòria, Barcelonina) are not exits here, so a what-if errs on the
slow side.

``near`` cuts a smaller space out of a large one, the part within some metres of one of its
exits, for runs too large at full size; the cut becomes an exit too (onto the rest of the space).
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from smartspaces.events import SmartSpace
from smartspaces.scenarios.valencia.geometry import (
    geo_point,
    geo_polygon,
    largest_polygon,
    metric_polygon,
)
from smartspaces.scenarios.valencia.layout import Layout
from smartspaces.simulation.errors import SimulationError, UnknownExit

TOUCH_M = 0.5
"""Spaces closer than this share a boundary (stored coordinates are rounded to about 1 cm)."""
MIN_EXIT_M = 1.0
"""Shorter shared stretches are slivers of the polygons' rounding, not ways through."""
PRECISION_M = 0.01


@dataclass(frozen=True)
class SimExit:
    """A way out of (and into) a space: its id, its name, its edge on the boundary."""

    id: str
    name: str
    edge: LineString

    @property
    def width_m(self) -> float:
        return float(self.edge.length)


@dataclass(frozen=True)
class SimSpace:
    """A smart space ready to simulate: its walkable polygon (EPSG:25830) and exits."""

    space: SmartSpace
    walkable: Polygon
    exits: tuple[SimExit, ...]

    @property
    def area_m2(self) -> float:
        return float(self.walkable.area)

    def exit(self, exit_id: str) -> SimExit:
        for candidate in self.exits:
            if candidate.id == exit_id:
                return candidate
        known = ", ".join(e.id for e in self.exits) or "none"
        raise UnknownExit(f"{self.space.id} has no exit {exit_id!r} (its exits: {known})")

    def strip(self, exit_id: str, depth_m: float) -> Polygon:
        """The part of the walkable area within ``depth_m`` of an exit's edge."""
        edge = self.exit(exit_id).edge
        band = edge.buffer(depth_m)
        return largest_polygon(self.walkable.intersection(band))


def _longest_line(geom: BaseGeometry) -> LineString | None:
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, LineString)]
    if len(parts) > 1:
        merged = linemerge(parts)
        parts = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, LineString)]
    parts = [p for p in parts if p.length >= MIN_EXIT_M]
    return max(parts, key=lambda p: p.length) if parts else None


def _walkable(polygon: Polygon, what: str) -> Polygon:
    clean = largest_polygon(shapely.make_valid(shapely.set_precision(polygon, PRECISION_M)))
    if clean.is_empty or clean.area < 1.0:
        raise SimulationError(f"{what} has no walkable area")
    return clean


def from_layout(layout: Layout, space_id: str) -> SimSpace:
    """The space ``space_id`` of the layout, with an exit onto each neighbouring space."""
    try:
        space = layout.space(space_id)
    except KeyError as exc:
        known = ", ".join(s.id for s in layout.spaces)
        raise SimulationError(f"no space {space_id!r} (known: {known})") from exc
    walkable = _walkable(metric_polygon(space.geometry), space_id)
    exits = []
    for neighbour_id in space.neighbours:
        try:
            neighbour = layout.space(neighbour_id)
        except KeyError:
            continue  # a neighbour outside the layout: no geometry to meet
        shared = metric_polygon(neighbour.geometry).buffer(TOUCH_M).intersection(walkable.boundary)
        edge = _longest_line(shared)
        if edge is not None:
            exits.append(SimExit(neighbour.id, neighbour.name, edge))
    if not exits:
        raise SimulationError(f"{space_id} meets no neighbouring space: it has no exit")
    return SimSpace(space, walkable, tuple(exits))


def near(space: SimSpace, exit_id: str, depth_m: float) -> SimSpace:
    """The part of ``space`` within ``depth_m`` of exit ``exit_id``, as a space of its own
    (id ``<space>-near-<exit>``) whose exits are the old ones it still meets and the cut."""
    if not depth_m > 0:
        raise SimulationError("the depth of a part must be a positive number of metres")
    part = _walkable(space.strip(exit_id, depth_m), f"{space.space.id} near {exit_id}")
    exits = []
    for old in space.exits:
        edge = _longest_line(old.edge.intersection(part.buffer(TOUCH_M)))
        if edge is not None:
            exits.append(SimExit(old.id, old.name, edge))
    cut = _longest_line(part.boundary.difference(space.walkable.boundary.buffer(TOUCH_M)))
    part_id = f"{space.space.id}-near-{exit_id}"[:64]
    if cut is not None:
        exits.append(SimExit(f"{part_id}-beyond", f"rest of {space.space.name}", cut))
    name = f"{space.space.name}, {depth_m:g} m from {space.exit(exit_id).name}"
    smart = space.space.model_copy(
        update={
            "id": part_id,
            "name": name[:200],
            "area_m2": round(part.area, 1),
            "geometry": geo_polygon(part),
            "centroid": geo_point(part.centroid),
            "neighbours": tuple(e.id for e in exits if e.id != f"{part_id}-beyond"),
        }
    )
    return SimSpace(smart, part, tuple(exits))
