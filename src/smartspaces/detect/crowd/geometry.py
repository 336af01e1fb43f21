"""Validated metric geometry for crowd measures: walkable area, measurement area and line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from smartspaces.detect.crowd.errors import GeometryError

Coords = Sequence[tuple[float, float]]

MIN_AREA_M2 = 1e-6
"""Smaller polygons are treated as zero-area: a density over them is meaningless."""


def polygon(shell: Coords, holes: Sequence[Coords] = (), what: str = "polygon") -> Polygon:
    """A valid polygon in metres (ground coordinates), or a GeometryError saying why not."""
    try:
        rings = [np.asarray(shell, dtype=float)] + [np.asarray(h, dtype=float) for h in holes]
    except (TypeError, ValueError) as exc:
        raise GeometryError(f"{what}: coordinates must be (x, y) number pairs") from exc
    for ring in rings:
        if ring.ndim != 2 or ring.shape[1] != 2 or len(ring) < 3:
            raise GeometryError(f"{what}: a ring needs at least 3 (x, y) points")
        if not np.isfinite(ring).all():
            raise GeometryError(f"{what}: coordinates must be finite numbers")
    if np.linalg.matrix_rank(rings[0] - rings[0].mean(axis=0)) < 2:
        raise GeometryError(f"{what} has zero area: its corners lie on one line")
    result = Polygon(rings[0], rings[1:])
    if not result.is_valid:
        # e.g. "Self-intersection[0.5 0.5]": where the ring crosses itself
        raise GeometryError(f"{what} is not a valid polygon: {shapely.is_valid_reason(result)}")
    if result.area < MIN_AREA_M2:
        raise GeometryError(f"{what} has zero area")
    return result


def measurement_line(points: Coords) -> LineString:
    """A straight measurement line between two distinct points, in metres."""
    try:
        ends = np.asarray(points, dtype=float)
    except (TypeError, ValueError) as exc:
        raise GeometryError("measurement line: coordinates must be (x, y) number pairs") from exc
    if ends.shape != (2, 2) or not np.isfinite(ends).all():
        raise GeometryError("measurement line: give exactly two finite (x, y) points")
    if np.hypot(*(ends[1] - ends[0])) < 1e-6:
        raise GeometryError("measurement line has zero length")
    return LineString(ends)


def covered_mask(area: Polygon, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which points lie inside or on the border of ``area`` (vectorised)."""
    return np.asarray(shapely.intersects_xy(area, x, y), dtype=bool)
