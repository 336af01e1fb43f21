"""Plane geometry shared by settings validation and the video stage (no I/O, numpy only)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]


def spans_a_plane(points: Sequence[Point] | npt.NDArray[np.float64]) -> bool:
    """Whether some four of the points have no three on one line (what a homography needs),
    judged relative to the points' own scale, so pixels and metres are treated alike."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(array) < 4:
        return False
    scale = float(np.ptp(array, axis=0).max())
    if scale <= 0 or not math.isfinite(scale):
        return False
    tolerance = 1e-3 * scale * scale
    for quad in combinations(range(len(array)), 4):
        if all(
            _twice_area(array[a], array[b], array[c]) > tolerance
            for a, b, c in combinations(quad, 3)
        ):
            return True
    return False


def _twice_area(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], c: npt.NDArray[np.float64]
) -> float:
    return abs(float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])))
