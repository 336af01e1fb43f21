"""Voronoi density in a measurement area, computed for all frames at once (PedPy's method).

Each person owns the part of the walkable area closer to them than to anyone else; their
individual density is 1 / area of that cell. The Voronoi density of a measurement area is the
sum of individual densities weighted by how much of each cell lies in the area, divided by the
area's size. Same definition as PedPy, but the cells of every frame come from one vectorised
GEOS call, and only the cells that reach the measurement area are clipped and measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.errors import GEOSException
from shapely.geometry import Polygon

from smartspaces.detect.crowd.errors import GeometryError, TrajectoryError
from smartspaces.detect.crowd.geometry import covered_mask
from smartspaces.detect.crowd.measures import FrameSeries
from smartspaces.detect.crowd.trajectories import FloatArray, IntArray, Trajectories

GeomArray = npt.NDArray[np.object_]

_POLYGON = 3  # GEOS type id


@dataclass(frozen=True)
class Cutoff:
    """Largest extent of a cell: a circle of ``radius_m`` (``quad_segments`` per quarter)."""

    radius_m: float
    quad_segments: int = 3


def voronoi_density(
    traj: Trajectories,
    walkable: Polygon,
    area: Polygon,
    cutoff: Cutoff | None = None,
) -> FrameSeries:
    """Voronoi density (persons/m^2) in ``area`` per frame, cells bounded by ``walkable``."""
    frames, rows, cells = _cells_by_frame(traj, walkable)
    shapely.prepare(area)
    # Only cells that reach the area count; they are a small part of a large crowd.
    near = np.flatnonzero(shapely.intersects(area, cells))
    cells, rows = cells[near], rows[near]
    points = shapely.points(traj.x[rows], traj.y[rows])
    shapely.prepare(walkable)
    # A cell already inside the walkable area needs no clipping, the costly step.
    outside = np.flatnonzero(~shapely.contains(walkable, cells))
    cells[outside] = _part_holding(shapely.intersection(cells[outside], walkable), points[outside])
    if cutoff is not None:
        if not cutoff.radius_m > 0 or cutoff.quad_segments < 1:
            raise GeometryError("cutoff needs a positive radius and at least one segment")
        circles = shapely.buffer(points, cutoff.radius_m, quad_segs=cutoff.quad_segments)
        cells = _part_holding(shapely.intersection(cells, circles), points)
    share = shapely.area(_intersect_area(cells, area)) / shapely.area(cells)
    slot = traj.frames[rows] - frames[0]
    total = np.bincount(slot, weights=share, minlength=frames.size)
    return FrameSeries(frames, total / area.area)


def individual_voronoi_areas(traj: Trajectories, walkable: Polygon) -> FloatArray:
    """Area (m^2) of every row's Voronoi cell within ``walkable``, aligned with the rows."""
    _, rows, cells = _cells_by_frame(traj, walkable)
    points = shapely.points(traj.x[rows], traj.y[rows])
    clipped = _part_holding(shapely.intersection(cells, walkable), points)
    areas = np.empty(len(traj))
    areas[rows] = shapely.area(clipped)
    return areas


def _cells_by_frame(traj: Trajectories, walkable: Polygon) -> tuple[IntArray, IntArray, GeomArray]:
    """(all frames, row of each cell, unclipped cells), one cell per row, grouped by frame."""
    if not isinstance(walkable, Polygon) or walkable.is_empty or not walkable.area > 0:
        raise GeometryError("the walkable area must be a polygon with a positive area")
    outside = ~covered_mask(walkable, traj.x, traj.y)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise TrajectoryError(
            f"{int(outside.sum())} positions lie outside the walkable area, the first of person "
            f"{traj.ids[i]} in frame {traj.frames[i]} at ({traj.x[i]:.2f}, {traj.y[i]:.2f})"
        )
    rows = np.lexsort((traj.ids, traj.frames))
    frame_of_row = traj.frames[rows]
    _check_distinct_positions(traj, rows)
    frames = np.arange(frame_of_row[0], frame_of_row[-1] + 1, dtype=np.int64)
    _, group = np.unique(frame_of_row, return_inverse=True)
    people = shapely.multipoints(np.column_stack((traj.x[rows], traj.y[rows])), indices=group)
    try:
        # ordered=True: the cells of a frame come in the order of its points, i.e. of ``rows``
        tessellations = shapely.voronoi_polygons(people, extend_to=walkable, ordered=True)
    except GEOSException as exc:
        raise TrajectoryError(f"no Voronoi tessellation for these positions: {exc}") from exc
    cells = shapely.get_parts(tessellations)
    if cells.size != rows.size:
        raise TrajectoryError("the Voronoi tessellation lost people (positions too close?)")
    return frames, rows, cells


def _check_distinct_positions(traj: Trajectories, rows: IntArray) -> None:
    """Two people on one spot in a frame have no cells to tell apart: refuse clearly."""
    order = rows[np.lexsort((traj.y[rows], traj.x[rows], traj.frames[rows]))]
    same = (
        (np.diff(traj.frames[order]) == 0)
        & (np.diff(traj.x[order]) == 0)
        & (np.diff(traj.y[order]) == 0)
    )
    if same.any():
        i = int(order[np.flatnonzero(same)[0]])
        raise TrajectoryError(
            f"two people share position ({traj.x[i]:.3f}, {traj.y[i]:.3f}) in frame "
            f"{traj.frames[i]}: Voronoi cells need distinct positions"
        )


def _part_holding(clipped: GeomArray, points: GeomArray) -> GeomArray:
    """Where clipping split a cell (walls of a non-convex area), keep the part with the person."""
    split = np.flatnonzero(shapely.get_type_id(clipped) != _POLYGON)
    if split.size == 0:
        return clipped
    parts, owner = shapely.get_parts(clipped[split], return_index=True)
    keep = (shapely.get_type_id(parts) == _POLYGON) & shapely.covers(parts, points[split][owner])
    chosen = np.full(split.size, -1)
    # reversed so that the first covering part wins, as in PedPy
    chosen[owner[keep][::-1]] = np.flatnonzero(keep)[::-1]
    if (chosen < 0).any():
        raise TrajectoryError("a person stands where their Voronoi cell has no area (on a wall?)")
    result = clipped.copy()
    result[split] = parts[chosen]
    return result


def _intersect_area(cells: GeomArray, area: Polygon) -> GeomArray:
    """Cells cut to the measurement area; an upright rectangle takes GEOS's fast clip."""
    box = shapely.box(*area.bounds)
    if shapely.equals(area, box) and len(area.exterior.coords) == 5:
        return np.asarray(shapely.clip_by_rect(cells, *area.bounds))
    return np.asarray(shapely.intersection(cells, area))
