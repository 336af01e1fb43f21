"""Rolling quantiles of a sensor's recent readings, learnt online with river.

river is wrapped here and nowhere else, so the detectors see three typed methods and a change
of library touches one file.
"""

from __future__ import annotations

from river import stats

IQR_TO_SIGMA = 1.349
"""The inter-quartile range of normally distributed values is this many standard deviations."""


class RollingQuartiles:
    """Lower quartile, median and upper quartile of the last ``window`` values (exact)."""

    __slots__ = ("_low", "_median", "_high", "count")

    def __init__(self, window: int) -> None:
        self._low = stats.RollingQuantile(0.25, window_size=window)
        self._median = stats.RollingQuantile(0.5, window_size=window)
        self._high = stats.RollingQuantile(0.75, window_size=window)
        self.count = 0  # values learnt so far (the window holds at most ``window`` of them)

    def update(self, value: float) -> None:
        self._low.update(value)
        self._median.update(value)
        self._high.update(value)
        self.count += 1

    def get(self) -> tuple[float, float, float]:
        """(lower quartile, median, upper quartile); only meaningful once ``count`` > 0."""
        return (float(self._low.get() or 0.0), float(self._median.get() or 0.0),
                float(self._high.get() or 0.0))  # fmt: skip


class RollingMedian:
    """The median of the last ``window`` values."""

    __slots__ = ("_median", "count")

    def __init__(self, window: int) -> None:
        self._median = stats.RollingQuantile(0.5, window_size=window)
        self.count = 0

    def update(self, value: float) -> None:
        self._median.update(value)
        self.count += 1

    def get(self) -> float:
        return float(self._median.get() or 0.0)
