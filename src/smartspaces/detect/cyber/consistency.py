"""Correlated sensors that disagree: a people counter says the space is (near) empty while the
camera zone count of the same space sees a crowd. One of the two is faulty or spoofed.

Pairs are configured (``IntegritySettings.correlated_sensors``); their usual ratio is learnt
online as the rolling median of recent agreeing readings, so a counter for a whole square and a
camera that sees a third of it are compared fairly. Each reading is judged once per pair,
against its partner's latest reading if that is recent enough.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.rolling import RollingMedian
from smartspaces.detect.cyber.telemetry import rhythm_slot, telemetry_detection
from smartspaces.events import AttributeValue, Detection, Level, Observation

DETECTOR_ID = "cyber.telemetry_consistency"
Series = tuple[str, str]
"""(sensor_id, quantity)"""


class _Pair:
    """What is known of one pair: their usual ratio, and the disagreement episode if any."""

    __slots__ = ("first", "second", "ratios", "misses", "reported", "judged")

    def __init__(self, first: Series, second: Series) -> None:
        self.first, self.second = first, second
        self.ratios: dict[int, RollingMedian] = {}  # of first / second, per rhythm slot
        self.misses = 0  # inconsistent comparisons in a row
        self.reported = False
        self.judged = ("", "")  # ids of the readings last compared


def _series(name: str) -> Series:
    sensor, _, quantity = name.partition("/")
    return sensor, quantity


class SensorConsistencyDetector:
    """Pure: ``step(observation, now)`` compares a reading with its partners' latest ones."""

    def __init__(self, settings: IntegritySettings, assets: AssetMap | None = None) -> None:
        self._s = settings
        self._assets = assets
        self._pairs_of: dict[Series, list[_Pair]] = {}
        for first, second in settings.correlated_sensors:
            pair = _Pair(_series(first), _series(second))
            for side in (pair.first, pair.second):
                self._pairs_of.setdefault(side, []).append(pair)
        self._last: dict[Series, Observation] = {}
        self._zone = ZoneInfo(settings.baseline_timezone)

    def step(self, obs: Observation, now: datetime) -> list[Detection]:
        key = (obs.sensor_id, obs.quantity)
        pairs = self._pairs_of.get(key)
        if pairs is None:
            return []
        last = self._last.get(key)
        if last is not None and obs.observed_at <= last.observed_at:
            return []  # a stale or replayed reading: the integrity detector reports those
        self._last[key] = obs
        found: list[Detection] = []
        for pair in pairs:
            a, b = self._last.get(pair.first), self._last.get(pair.second)
            if a is None or b is None:
                continue
            if a.id == pair.judged[0] or b.id == pair.judged[1]:
                continue  # each reading is compared once: the partner's next one is due
            skew = abs((a.observed_at - b.observed_at).total_seconds())
            if skew > self._s.consistency_max_skew_s:
                continue
            pair.judged = (a.id, b.id)
            detection = self._judge(pair, a, b, now)
            if detection is not None:
                found.append(detection)
        return found

    def _judge(
        self, pair: _Pair, a: Observation, b: Observation, now: datetime
    ) -> Detection | None:
        s = self._s
        first, second = max(a.value, 0.0), max(b.value, 0.0)
        slot, slot_name = rhythm_slot(b, s.consistency_season, self._zone)
        ratios = pair.ratios.get(slot)
        if ratios is None:
            ratios = pair.ratios[slot] = RollingMedian(s.consistency_window)
        ratio = ratios.get()
        if ratios.count < s.consistency_warmup or ratio <= 0:
            self._learn(ratios, first, second)
            return None
        # in the second sensor's unit, with the floor on both sides: few against few agree
        factor = (first / ratio + s.consistency_floor) / (second + s.consistency_floor)
        apart = max(factor, 1 / factor)
        if apart < s.consistency_factor:
            self._learn(ratios, first, second)
            pair.misses, pair.reported = 0, False
            return None
        pair.misses += 1
        if pair.reported or pair.misses < s.consistency_min_readings:
            return None
        pair.reported = True
        return self._report(pair, a, b, now, ratio, apart, slot_name)

    def _learn(self, ratios: RollingMedian, first: float, second: float) -> None:
        if second >= self._s.consistency_floor:
            ratios.update(first / second)

    def _report(
        self, pair: _Pair, a: Observation, b: Observation, now: datetime, ratio: float,
        apart: float, slot_name: str,
    ) -> Detection:  # fmt: skip
        expected = ratio * b.value
        lower = a.value < expected
        claim = "far lower" if lower else "far higher"
        summary = (
            f"{a.sensor_id} {a.quantity} = {a.value:g} while {b.sensor_id} {b.quantity} = "
            f"{b.value:g}: {a.sensor_id} reads {claim} than its partner implies (about "
            f"{expected:.0f}, since it usually reads {ratio:.3g} x {b.sensor_id}"
            f"{'' if slot_name == 'any time' else ' at ' + slot_name}); "
            f"{apart:.1f} times apart for {pair.misses} readings in a row. One of the two "
            f"is faulty or spoofed"
        )
        level = Level.RED if apart >= self._s.consistency_factor**2 else Level.AMBER
        evidence: dict[str, AttributeValue] = {
            "reference_device_id": b.sensor_id,
            "reference_quantity": b.quantity,
            "reference_value": b.value,
            "expected_value": round(expected, 3),
            "expected_ratio": round(ratio, 6),
            "disagreement_factor": round(apart, 3),
            "direction": "below" if lower else "above",
            "readings_count": pair.misses,
            "slot": slot_name,
            "skew_s": abs((a.observed_at - b.observed_at).total_seconds()),
        }
        reference_asset = self._assets.asset_of_device(b.sensor_id) if self._assets else None
        if reference_asset is not None:
            evidence["reference_asset_id"] = reference_asset
        return telemetry_detection(
            DETECTOR_ID, "cyber.telemetry_inconsistent", a, now, level, summary, evidence,
            self._assets, at=max(a.observed_at, b.observed_at), also=(b,), confidence=0.8,
        )  # fmt: skip
