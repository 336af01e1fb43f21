"""Telemetry integrity: readings outside physics, stuck, jumping, replayed, flapping or silent."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.telemetry import telemetry_detection
from smartspaces.events import AttributeValue, Detection, Level, Observation

DETECTOR_ID = "cyber.telemetry_integrity"
Evidence = dict[str, AttributeValue]


@dataclass
class _Series:
    last: Observation | None = None
    values: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    gaps: deque[float] = field(default_factory=lambda: deque(maxlen=16))
    seen: dict[tuple[float, ...], datetime] = field(default_factory=dict)
    stuck_reported: bool = False
    flap_reported: bool = False
    replay_reported: bool = False
    silent_reported: bool = False


class TelemetryIntegrityDetector:
    """Pure: ``step(observation, now)`` judges a reading; ``check_silence(now)`` the quiet ones.

    With an asset map, detections name the asset the sensor belongs to (``asset_id``).
    """

    def __init__(self, settings: IntegritySettings, assets: AssetMap | None = None) -> None:
        self._s = settings
        self._assets = assets
        self._series: dict[tuple[str, str], _Series] = {}

    def last_observed_at(self, sensor_id: str, quantity: str) -> datetime | None:
        """When the newest reading judged for this series was taken (None: none known)."""
        series = self._series.get((sensor_id, quantity))
        return series.last.observed_at if series is not None and series.last else None

    def step(self, obs: Observation, now: datetime) -> list[Detection]:
        key = (obs.sensor_id, obs.quantity)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= self._s.max_series:
                del self._series[next(iter(self._series))]
            series = self._series[key] = _Series()
        found: list[Detection] = []
        last, name = series.last, f"{obs.sensor_id} {obs.quantity}"
        if last is not None and obs.observed_at <= last.observed_at:
            found.append(self._detect(obs, now, "replayed_timestamp", Level.RED,
                f"{name} sent a reading dated {obs.observed_at.isoformat()}, not after its "
                f"previous one ({last.observed_at.isoformat()}): replayed or spoofed",
                {"previous_observed_at": last.observed_at.isoformat()}))  # fmt: skip
            return found  # an out-of-order reading must not move the series' state
        limits = self._s.limits.get(obs.quantity)
        if limits is not None and not limits[0] <= obs.value <= limits[1]:
            found.append(self._detect(obs, now, "out_of_limits", Level.AMBER,
                f"{name} = {obs.value:g} is outside the physically possible "
                f"{limits[0]:g}..{limits[1]:g}",
                {"limit_low": limits[0], "limit_high": limits[1]}))  # fmt: skip
        step = self._s.max_step.get(obs.quantity)
        if step is not None and last is not None and abs(obs.value - last.value) > step:
            found.append(self._detect(obs, now, "impossible_change", Level.AMBER,
                f"{name} changed by {obs.value - last.value:+g} in one reading "
                f"({last.value:g} -> {obs.value:g}; at most {step:g} is believable)",
                {"previous_value": last.value, "change": obs.value - last.value,
                 "max_step": step}))  # fmt: skip
        if last is not None:
            series.gaps.append((obs.observed_at - last.observed_at).total_seconds())
        series.last, series.silent_reported = obs, False
        series.values.append(obs.value)
        found.extend(self._patterns(obs, now, series, name, limits))
        return found

    def _patterns(
        self,
        obs: Observation,
        now: datetime,
        series: _Series,
        name: str,
        limits: tuple[float, float] | None,
    ) -> list[Detection]:
        found: list[Detection] = []
        values = list(series.values)
        run = self._s.stuck_repeats
        stuck = len(values) >= run and len(set(values[-run:])) == 1
        if stuck and obs.quantity.endswith("_count") and values[-1] < self._s.stuck_min_count:
            # a few people (or nobody) per interval repeats by chance on a quiet street; a
            # counter silenced while the camera sees people is the consistency check's to find
            stuck = False
        if stuck and not series.stuck_reported:
            found.append(self._detect(obs, now, "stuck_value", Level.AMBER,
                f"{name} reported {obs.value:g} {run} times in a row",
                {"repeats_count": run}))  # fmt: skip
        series.stuck_reported = stuck
        n = self._s.replay_length
        window = tuple(values[-n:]) if len(values) >= n and not stuck else ()
        # a window of few distinct values (small counts at night, a sensor at rest) repeats by
        # chance; only one with enough distinct readings is a fingerprint worth matching
        replaying = False
        if len(set(window)) >= self._s.replay_min_distinct:
            first = series.seen.get(window)
            replaying = first is not None
            # reported when the replay starts, not again on every reading while it lasts
            if first is not None and not series.replay_reported:
                found.append(self._detect(obs, now, "replayed_sequence", Level.RED,
                    f"{name}'s last {n} readings repeat exactly those it sent up to "
                    f"{first.isoformat()}: a replayed recording?",
                    {"readings_count": n, "first_sent_at": first.isoformat()}))  # fmt: skip
            elif first is None and len(series.seen) < 10_000:
                series.seen[window] = obs.observed_at
        series.replay_reported = replaying
        if limits is not None:
            found.extend(self._flapping(obs, now, series, name, limits))
        return found

    def _flapping(
        self, obs: Observation, now: datetime, series: _Series, name: str,
        limits: tuple[float, float],
    ) -> list[Detection]:  # fmt: skip
        k, values = self._s.flap_reversals, series.values
        if len(values) < k + 2:
            return []
        recent = list(values)[-k - 2 :]
        steps = [b - a for a, b in zip(recent, recent[1:], strict=False)]
        least = (limits[1] - limits[0]) * self._s.flap_min_step_fraction
        flapping = all(abs(d) >= least for d in steps) and all(
            a * b < 0 for a, b in zip(steps, steps[1:], strict=False)
        )
        # reported when the swinging starts, not again on every reading while it lasts
        report = flapping and not series.flap_reported
        series.flap_reported = flapping
        if not report:
            return []
        return [self._detect(obs, now, "flapping", Level.AMBER,
            f"{name} swung up and down by at least {least:g} {k} times in a row "
            f"(last values {', '.join(f'{v:g}' for v in recent)})",
            {"reversals_count": k, "min_step": least})]  # fmt: skip

    def check_silence(self, now: datetime) -> list[Detection]:
        """Series that stopped reporting: no reading for ``silence_factor`` usual intervals."""
        found: list[Detection] = []
        for (sensor, quantity), series in self._series.items():
            last = series.last
            if last is None or series.silent_reported or len(series.gaps) < 3:
                continue
            usual = sorted(series.gaps)[len(series.gaps) // 2]
            quiet = (now - last.observed_at).total_seconds()
            if usual > 0 and quiet > usual * self._s.silence_factor:
                series.silent_reported = True
                found.append(self._detect(last, now, "silence", Level.AMBER,
                    f"{sensor} {quantity} has been silent for {quiet:.0f} s since "
                    f"{last.observed_at.isoformat()} (it usually reports every {usual:.0f} s)",
                    {"silent_s": quiet, "usual_interval_s": usual,
                     "last_observed_at": last.observed_at.isoformat()},
                    at=now))  # fmt: skip
        return found

    def _detect(
        self, obs: Observation, now: datetime, kind: str, level: Level, summary: str,
        evidence: Evidence, at: datetime | None = None,
    ) -> Detection:  # fmt: skip
        return telemetry_detection(DETECTOR_ID, f"cyber.telemetry_{kind}", obs, now, level,
                                   summary, evidence, self._assets, at=at)  # fmt: skip
