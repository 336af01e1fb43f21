"""Short-term density forecast per space (Theil-Sen trend) and early warnings before red.

Method: over the last ``window_s`` seconds, the density trend is the Theil-Sen slope (median of
the slopes between every pair of readings), robust to a third of outliers such as a miscounted
interval. Time until red is (red - trend level now) / slope; the band uses the 10th and 90th
percentiles of the pairwise slopes. A warning is raised when the central estimate says red comes
within ``horizon_s`` and most pairwise slopes agree the density is rising.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from smartspaces.config import ForecastSettings
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.level_of_service import area_use, level_of_service
from smartspaces.detect.crowd.trajectories import FloatArray, IntArray
from smartspaces.events import CrowdState, Detection, Level, SmartSpace

DETECTOR_ID = "crowd.forecast"
REARM_HORIZONS = 2.0


@dataclass(frozen=True)
class Forecast:
    """Where a space's density is heading; seconds are ``inf`` when red is not in sight."""

    at: datetime
    density_p_m2: float  # the trend's value now (robust to the latest reading's noise)
    slope_p_m2_s: float
    rising_share: float  # share of pairwise slopes above zero: how sure the rise is
    seconds_to_red: float
    seconds_to_red_low: float  # earliest plausible (steep end of the band)
    seconds_to_red_high: float  # latest plausible

    @property
    def minutes_to_red(self) -> float:
        return self.seconds_to_red / 60.0


def _seconds_to(level: float, target: float, slope: float) -> float:
    if level >= target:
        return 0.0
    return (target - level) / slope if slope > 0 else math.inf


@functools.lru_cache(maxsize=256)
def _pairs(n: int) -> tuple[IntArray, IntArray]:
    """Indices (i, j) of every pair i < j of n readings (the window holds few sizes)."""
    i, j = np.triu_indices(n, k=1)
    return i.astype(np.int64), j.astype(np.int64)


def _quantile(ordered: FloatArray, q: float) -> float:
    """``np.quantile(values, q)`` (linear interpolation) of already sorted values."""
    position = q * (ordered.size - 1)
    below = int(position)
    above = min(below + 1, ordered.size - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


class DensityForecaster:
    """Forecast for one space: feed readings in time order with ``step``."""

    def __init__(self, settings: ForecastSettings) -> None:
        self._settings = settings
        self._readings: deque[tuple[datetime, float]] = deque()

    def step(self, at: datetime, density_p_m2: float) -> Forecast | None:
        """Add one reading; the forecast once there is enough recent history, else None."""
        if not (math.isfinite(density_p_m2) and density_p_m2 >= 0):
            raise CrowdMeasureError(f"density must be a finite number >= 0, got {density_p_m2!r}")
        if self._readings and at <= self._readings[-1][0]:
            raise CrowdMeasureError(f"readings must move forward in time: {at} came late")
        self._readings.append((at, density_p_m2))
        s = self._settings
        while (at - self._readings[0][0]).total_seconds() > s.window_s:
            self._readings.popleft()
        span = (at - self._readings[0][0]).total_seconds()
        if len(self._readings) < s.min_readings or span < s.min_span_s:
            return None
        t = np.array([(r[0] - at).total_seconds() for r in self._readings])
        y = np.array([r[1] for r in self._readings])
        i, j = _pairs(t.size)
        # One sort serves the median and both band quantiles: numpy's median and quantile
        # would each sort again, and this runs once per space per reading.
        slopes = np.sort((y[j] - y[i]) / (t[j] - t[i]))
        slope = _quantile(slopes, 0.5)
        level = _quantile(np.sort(y - slope * t), 0.5)  # the trend line's value at t = 0 (now)
        low_slope, high_slope = _quantile(slopes, 0.1), _quantile(slopes, 0.9)
        rising = slopes.size - int(np.searchsorted(slopes, 0.0, side="right"))
        return Forecast(
            at=at,
            density_p_m2=level,
            slope_p_m2_s=slope,
            rising_share=rising / slopes.size,
            seconds_to_red=_seconds_to(level, s.red_p_m2, slope),
            seconds_to_red_low=_seconds_to(level, s.red_p_m2, high_slope),
            seconds_to_red_high=_seconds_to(level, s.red_p_m2, low_slope),
        )


class EarlyWarning:
    """Per-space forecasts; a Detection when a space is forecast to turn red soon.

    One warning per approach: it re-arms only once red is out of sight again (beyond twice the
    horizon), so a forecast hovering at the horizon's edge does not warn at every reading.
    """

    def __init__(self, settings: ForecastSettings, source: str = "crowd-forecast") -> None:
        self._settings = settings
        self._source = source
        self._forecasters: dict[str, DensityForecaster] = {}
        self._warned: set[str] = set()

    def step(
        self, space: SmartSpace, at: datetime, occupancy_persons: float, now: datetime
    ) -> list[Detection]:
        """Account for the occupancy of ``space`` at ``at``; returns a warning if one is due."""
        forecaster = self._forecasters.setdefault(space.id, DensityForecaster(self._settings))
        forecast = forecaster.step(at, occupancy_persons / space.area_m2)
        if forecast is None:
            return []
        s = self._settings
        due = (
            0 < forecast.seconds_to_red <= s.horizon_s
            and forecast.rising_share >= s.min_rising_share
        )
        if forecast.seconds_to_red > REARM_HORIZONS * s.horizon_s:
            self._warned.discard(space.id)
        if not due or space.id in self._warned:
            return []
        self._warned.add(space.id)
        return [self._detection(space, forecast, occupancy_persons, now)]

    def _detection(
        self, space: SmartSpace, forecast: Forecast, occupancy: float, now: datetime
    ) -> Detection:
        density = occupancy / space.area_m2
        return Detection(
            source=self._source,
            space_id=space.id,
            observed_at=forecast.at,
            received_at=now,
            location=space.centroid,
            detector=DETECTOR_ID,
            detection_type="crowd.red_forecast",
            level=Level.AMBER,
            confidence=forecast.rising_share,
            summary=(
                f"{space.name}: density {forecast.density_p_m2:.2f} persons/m2 rising "
                f"{forecast.slope_p_m2_s * 60:.2f} per minute; red "
                f"({self._settings.red_p_m2:g}) expected in {forecast.minutes_to_red:.1f} min "
                f"(band {forecast.seconds_to_red_low / 60:.1f}-"
                f"{forecast.seconds_to_red_high / 60:.1f} min)"
            ),
            crowd=CrowdState(
                occupancy_persons=occupancy,
                area_m2=space.area_m2,
                density_p_m2=density,
                level_of_service=level_of_service(density, area_use(space.space_type)),
            ),
        )
