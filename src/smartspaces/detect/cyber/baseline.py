"""Per-device baselines learnt online: a reading far outside what this device usually reports
at this time of day or week, where no fixed rule (limits, steps) can say what is believable.

For each device, quantity and slot of its rhythm (hour of the week, hour of the day, or none)
the rolling quartiles of its last readings are kept (river). The band is the median plus or
minus ``baseline_band_sigmas`` robust sigmas (IQR / 1.349, at least ``baseline_min_spread``);
counts (quantities in ``_count`` or ``_persons``) are taken on log(1 + value), since footfall
varies by a factor, not by a fixed number of people. A reading is anomalous when it lies
outside the band by more than ``baseline_min_excess`` in its own unit. Each reading is judged
before it is learnt, and every reading is learnt: quartiles shrug off a spoofed hour, and a
device moved to a busier spot becomes its new normal within a few weeks.

Meant for hourly or daily readings (the edge aggregates faster ones): an hour-of-week series
keeps up to 168 x ``baseline_window`` values, about 16 kB, and ``max_series`` bounds them all.
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.rolling import IQR_TO_SIGMA, RollingQuartiles
from smartspaces.detect.cyber.telemetry import rhythm_slot, telemetry_detection
from smartspaces.events import AttributeValue, Detection, Level, Observation

DETECTOR_ID = "cyber.telemetry_baseline"
MODEL = "rolling quartiles (river)"


def is_count(quantity: str) -> bool:
    """Whether a quantity counts people or things (its unit suffix says so)."""
    return quantity.endswith(("_count", "_persons"))


class _Series:
    __slots__ = ("slots", "last", "anomaly")

    def __init__(self) -> None:
        self.slots: dict[int, RollingQuartiles] = {}
        self.last: datetime | None = None
        self.anomaly = ""  # "above" or "below" while an anomalous episode lasts


class TelemetryBaselineDetector:
    """Pure: ``step(observation, now)`` judges a reading against its device's own band."""

    def __init__(self, settings: IntegritySettings, assets: AssetMap | None = None) -> None:
        self._s = settings
        self._assets = assets
        self._zone = ZoneInfo(settings.baseline_timezone)
        self._series: dict[tuple[str, str], _Series] = {}

    def step(self, obs: Observation, now: datetime) -> list[Detection]:
        season = self._s.baseline_quantities.get(obs.quantity)
        if season is None:
            return []
        key = (obs.sensor_id, obs.quantity)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self._s.max_series:
                del self._series[next(iter(self._series))]
            series = self._series[key] = _Series()
        if series.last is not None and obs.observed_at <= series.last:
            return []  # replayed or out of order: the integrity detector reports it
        series.last = obs.observed_at
        slot, slot_name = rhythm_slot(obs, season, self._zone)
        quartiles = series.slots.get(slot)
        if quartiles is None:
            quartiles = series.slots[slot] = RollingQuartiles(self._s.baseline_window)
        count = is_count(obs.quantity)
        value = math.log1p(max(obs.value, 0.0)) if count else obs.value
        found: list[Detection] = []
        if quartiles.count >= self._s.baseline_min_readings:
            detection = self._judge(obs, now, series, quartiles, count, season, slot_name)
            if detection is not None:
                found.append(detection)
        quartiles.update(value)
        return found

    def _judge(
        self, obs: Observation, now: datetime, series: _Series, quartiles: RollingQuartiles,
        count: bool, season: str, slot_name: str,
    ) -> Detection | None:  # fmt: skip
        s = self._s
        q1, median, q3 = quartiles.get()
        sigma = max((q3 - q1) / IQR_TO_SIGMA, s.baseline_min_spread)
        low, high = median - s.baseline_band_sigmas * sigma, median + s.baseline_band_sigmas * sigma
        if count:
            expected, low, high = math.expm1(median), max(math.expm1(low), 0.0), math.expm1(high)
        else:
            expected = median
        margin = s.baseline_min_excess.get(obs.quantity, 0.0)
        if obs.value > high + margin:
            direction, excess = "above", obs.value - high
        elif obs.value < low - margin:
            direction, excess = "below", low - obs.value
        else:
            series.anomaly = ""
            return None
        if series.anomaly == direction:
            return None  # the same episode, reported at its first reading
        series.anomaly = direction
        readings = min(quartiles.count, s.baseline_window)
        scale = "log(1 + value)" if count else "the value"
        summary = (
            f"{obs.sensor_id} {obs.quantity} = {obs.value:g} is far {direction} what it "
            f"usually reports for {slot_name}: expected about {expected:.4g}, band "
            f"{low:.4g}..{high:.4g} from its last {readings} readings there ({MODEL}, median "
            f"+/- {s.baseline_band_sigmas:g} robust sigmas of {scale})"
        )
        evidence: dict[str, AttributeValue] = {
            "expected_value": round(expected, 3),
            "expected_low": round(low, 3),
            "expected_high": round(high, 3),
            "direction": direction,
            "excess": round(excess, 3),
            "slot": slot_name,
            "season": season,
            "model": MODEL,
            "scale": "log1p" if count else "linear",
            "band_sigmas": s.baseline_band_sigmas,
            "readings_count": readings,
        }
        return telemetry_detection(DETECTOR_ID, "cyber.telemetry_out_of_baseline", obs, now,
                                   Level.AMBER, summary, evidence, self._assets,
                                   confidence=0.6)  # fmt: skip
