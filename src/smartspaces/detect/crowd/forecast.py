"""Short-term density forecast per space (Theil-Sen trend) and early warnings before red.

Method: over the last ``window_s`` seconds, the density trend is the Theil-Sen slope (median of
the slopes between every pair of readings), robust to a third of outliers such as a miscounted
interval. Time until red is (red - trend level now) / slope; the band uses the 10th and 90th
percentiles of the pairwise slopes. A warning is raised when the central estimate says red comes
within ``horizon_s`` and most pairwise slopes agree the density is rising.

A rise that is slowing down is not extrapolated at its old pace: the warning reads the slower of
the window's slope and the slope of its second half alone. A gathering that fills quickly and
then levels off (1.5 persons/m2 within eight minutes) would otherwise be forecast red at its
early pace; a build-up that keeps going, or speeds up, is warned as before.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from smartspaces.config import ForecastSettings
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.level_of_service import area_use, level_of_service
from smartspaces.detect.crowd.theil_sen import pairs as _pairs
from smartspaces.detect.crowd.theil_sen import quantile_sorted as _quantile
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
    # at the slower of the window's and its second half's slope; worked out only where the
    # window's slope puts red within the horizon (elsewhere it equals seconds_to_red)
    sustained_seconds_to_red: float

    @property
    def minutes_to_red(self) -> float:
        return self.seconds_to_red / 60.0


def _seconds_to(level: float, target: float, slope: float) -> float:
    if level >= target:
        return 0.0
    return (target - level) / slope if slope > 0 else math.inf


class DensityForecaster:
    """Forecast for one space: feed readings in time order with ``step``."""

    def __init__(self, settings: ForecastSettings) -> None:
        self._settings = settings
        self._readings: deque[tuple[float, float]] = deque()  # (POSIX seconds, density)
        self._last: datetime | None = None

    def step(self, at: datetime, density_p_m2: float) -> Forecast | None:
        """Add one reading; the forecast once there is enough recent history, else None."""
        if not (math.isfinite(density_p_m2) and density_p_m2 >= 0):
            raise CrowdMeasureError(f"density must be a finite number >= 0, got {density_p_m2!r}")
        if self._last is not None and at <= self._last:
            raise CrowdMeasureError(f"readings must move forward in time: {at} came late")
        self._last = at
        now_s = at.timestamp()
        readings = self._readings
        readings.append((now_s, density_p_m2))
        s = self._settings
        while now_s - readings[0][0] > s.window_s:
            readings.popleft()
        if len(readings) < s.min_readings or now_s - readings[0][0] < s.min_span_s:
            return None
        ty = np.array(readings)
        t, y = ty[:, 0] - now_s, ty[:, 1]
        i, j = _pairs(t.size)
        # One sort serves the median and both band quantiles: numpy's median and quantile
        # would each sort again, and this runs once per space per reading.
        slopes = np.sort((y[j] - y[i]) / (t[j] - t[i]))
        slope = _quantile(slopes, 0.5)
        level = _quantile(np.sort(y - slope * t), 0.5)  # the trend line's value at t = 0 (now)
        low_slope, high_slope = _quantile(slopes, 0.1), _quantile(slopes, 0.9)
        rising = slopes.size - int(np.searchsorted(slopes, 0.0, side="right"))
        seconds = _seconds_to(level, s.red_p_m2, slope)
        sustained = seconds
        recent = int(np.count_nonzero(t >= -s.window_s / 2))
        if 0 < seconds <= s.horizon_s and recent >= s.min_readings:
            a, b = _pairs(recent)
            tr, yr = t[-recent:], y[-recent:]  # readings are in time order
            half = _quantile(np.sort((yr[b] - yr[a]) / (tr[b] - tr[a])), 0.5)
            sustained = _seconds_to(level, s.red_p_m2, min(slope, half))
        return Forecast(
            at=at,
            density_p_m2=level,
            slope_p_m2_s=slope,
            rising_share=rising / slopes.size,
            seconds_to_red=seconds,
            seconds_to_red_low=_seconds_to(level, s.red_p_m2, high_slope),
            seconds_to_red_high=_seconds_to(level, s.red_p_m2, low_slope),
            sustained_seconds_to_red=sustained,
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
        self,
        space: SmartSpace,
        at: datetime,
        occupancy_persons: float,
        now: datetime,
        derived_from: tuple[str, ...] = (),
    ) -> list[Detection]:
        """Account for the occupancy of ``space`` at ``at``; returns a warning if one is due
        (naming ``derived_from``, the observations behind the occupancy, as its sources)."""
        forecaster = self._forecasters.setdefault(space.id, DensityForecaster(self._settings))
        forecast = forecaster.step(at, occupancy_persons / space.area_m2)
        if forecast is None:
            return []
        s = self._settings
        due = (
            0 < forecast.sustained_seconds_to_red <= s.horizon_s
            and forecast.rising_share >= s.min_rising_share
        )
        if forecast.seconds_to_red > REARM_HORIZONS * s.horizon_s:
            self._warned.discard(space.id)
        if not due or space.id in self._warned:
            return []
        self._warned.add(space.id)
        return [self._detection(space, forecast, occupancy_persons, now, derived_from)]

    def warned(self, space_id: str) -> bool:
        """Whether the space was warned and red has not gone out of sight since (not re-armed)."""
        return space_id in self._warned

    def mark_warned(self, space_id: str) -> None:
        """Resume a warning raised before a restart: no second one for the same approach."""
        self._warned.add(space_id)

    def _detection(
        self,
        space: SmartSpace,
        forecast: Forecast,
        occupancy: float,
        now: datetime,
        derived_from: tuple[str, ...],
    ) -> Detection:
        density = occupancy / space.area_m2
        return Detection(
            source=self._source,
            space_id=space.id,
            observed_at=forecast.at,
            received_at=now,
            location=space.centroid,
            derived_from=derived_from,
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
