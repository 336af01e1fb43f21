"""Theil-Sen trends (the median of the slopes between every pair of readings), shared by the
rate of rise and the forecast: robust to a third of outliers, such as a miscounted interval."""

from __future__ import annotations

import functools

import numpy as np

from smartspaces.detect.crowd.trajectories import FloatArray, IntArray


@functools.lru_cache(maxsize=256)
def pairs(n: int) -> tuple[IntArray, IntArray]:
    """Indices (i, j) of every pair i < j of n readings (a window holds few sizes: cached)."""
    i, j = np.triu_indices(n, k=1)
    return i.astype(np.int64), j.astype(np.int64)


def quantile_sorted(ordered: FloatArray, q: float) -> float:
    """``np.quantile(values, q)`` (linear interpolation) of already sorted values."""
    position = q * (ordered.size - 1)
    below = int(position)
    above = min(below + 1, ordered.size - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))
