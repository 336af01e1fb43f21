"""The telemetry detectors as one live stage: integrity, correlated sensors and baselines over
the observation stream, idempotent under the bus's redeliveries (at-least-once).

Why a stage and not the three detectors side by side: the bus delivers a reading again when a
worker died before acking it or a batch was nak'd, and the integrity detector, seeing a reading
that is not newer than the last, calls it a replay (red). The stage tells the two apart:

- *the same message again*: the same event id **and** the same content (value, ``received_at``,
  interval). Readings are identified by source, space, sensor, quantity and time, and the edge
  stamps ``received_at`` when a reading arrives, so only the bus hands over an identical copy.
  It is answered with the detections the first delivery gave (same ids, so publishing them
  again is a no-op), whatever ``num_delivered`` says: after a restart the embedded bus counts
  from 1 again, and ``restore`` has put the stored readings back in memory;
- *a redelivery the stage has forgotten* (evicted, or a restart on an engine that keeps
  counting): ``redelivered`` is true and the reading is not newer than its series' last. It was
  judged when it first came, so it is skipped, and counted;
- *a new message with an old time* (a new id, or the same id with other content: an attacker
  replaying a recorded reading, a spoofed gateway): judged as usual, so the replay is reported.

Hostile readings are reported once and kept out of the detectors' state: NaN, infinities and
magnitudes past ``max_abs_value`` (``invalid_value``), and a time far ahead of the moment the
reading was received (``future_timestamp``), which would otherwise make every honest reading
after it look replayed.

Example::

    stage = TelemetryIntegrityStage(IntegritySettings())
    found = stage.step(observation, now, redelivered=delivery.num_delivered > 1)
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.baseline import TelemetryBaselineDetector
from smartspaces.detect.cyber.consistency import SensorConsistencyDetector
from smartspaces.detect.cyber.integrity import DETECTOR_ID, TelemetryIntegrityDetector
from smartspaces.detect.cyber.telemetry import telemetry_detection
from smartspaces.events import AttributeValue, Detection, Level, Observation

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""Readings dated before this are a reset clock, not a measurement (and local times of dates
near year 1 cannot even be computed)."""

_Key = tuple[str, str, datetime, float | None]
"""(event id, repr of the value, received_at, interval_s): one message, as the bus stored it."""


class TelemetryIntegrityStage:
    """Pure: ``step(observation, now, redelivered)`` runs the telemetry detectors once per
    message; ``restore(stored readings)`` rebuilds their state after a restart.

    Memory is bounded: ``max_series`` series per detector, ``seen_readings`` remembered
    messages (with the few detections each gave; most give none).
    """

    def __init__(self, settings: IntegritySettings, assets: AssetMap | None = None) -> None:
        self._s = settings
        self._assets = assets
        self._integrity = TelemetryIntegrityDetector(settings, assets)
        self._consistency = SensorConsistencyDetector(settings, assets)
        self._baseline = TelemetryBaselineDetector(settings, assets)
        self._seen: OrderedDict[_Key, tuple[Detection, ...]] = OrderedDict()
        self._future = timedelta(seconds=settings.max_future_s)
        self.counts: Counter[str] = Counter()
        """judged, repeated (same message again), stale_redelivery (skipped), rejected."""

    @property
    def restore_limit(self) -> int:
        """How many of the newest stored readings ``restore`` can use."""
        return min(self._s.restore_readings, self._s.seen_readings)

    @property
    def remembered_count(self) -> int:
        """Messages remembered now (at most ``seen_readings``)."""
        return len(self._seen)

    def step(self, obs: Observation, now: datetime, redelivered: bool = False) -> list[Detection]:
        """The detections this reading gives; the same ones again for the same message.

        ``redelivered``: the bus says this message was delivered before (``num_delivered > 1``).
        """
        if obs.quantity.startswith(self._s.skip_quantity_prefixes):
            return []
        key: _Key = (obs.id, repr(float(obs.value)), obs.received_at, obs.interval_s)
        known = self._seen.get(key)
        if known is not None:
            self._seen.move_to_end(key)
            self.counts["repeated"] += 1
            return list(known)
        if redelivered:
            last = self._integrity.last_observed_at(obs.sensor_id, obs.quantity)
            if last is not None and obs.observed_at <= last:
                # judged when it first came; its detections, if any, were published then
                self.counts["stale_redelivery"] += 1
                return []
        found = self._judge(obs, now)
        self._seen[key] = tuple(found)
        if len(self._seen) > self._s.seen_readings:
            self._seen.popitem(last=False)
        return found

    def restore(self, readings: Iterable[Observation]) -> int:
        """Replay stored readings (any order; the newest ``restore_limit`` are used) into a
        fresh stage, so that the bus delivering them again after a restart is recognised and
        the windows and baselines go on from where they were. Returns how many were used."""
        ordered = sorted(readings, key=lambda o: (o.observed_at, o.received_at, o.id))
        used = ordered[len(ordered) - self.restore_limit :] if self.restore_limit else []
        for obs in used:
            self.step(obs, obs.received_at)  # detections kept for redeliveries, not returned
        return len(used)

    def _judge(self, obs: Observation, now: datetime) -> list[Detection]:
        rejected = self._reject(obs, now)
        if rejected is not None:
            self.counts["rejected"] += 1
            return [rejected]
        self.counts["judged"] += 1
        found = self._integrity.step(obs, now)
        found += self._consistency.step(obs, now)
        if obs.interval_s is not None and obs.interval_s >= self._s.baseline_min_interval_s:
            found += self._baseline.step(obs, now)  # baselines are for aggregates (see there)
        return found

    def _reject(self, obs: Observation, now: datetime) -> Detection | None:
        name, value = f"{obs.sensor_id} {obs.quantity}", obs.value
        if not math.isfinite(value) or abs(value) > self._s.max_abs_value:
            evidence: dict[str, AttributeValue] = {
                "value_text": repr(value)[:64],
                "max_abs_value": self._s.max_abs_value,
            }
            return self._hostile(obs, now, "invalid_value",
                f"{name} sent {value!r}, which no sensor measures (at most "
                f"{self._s.max_abs_value:g} in magnitude): garbage, a unit mix-up or a probe",
                evidence)  # fmt: skip
        if obs.observed_at > obs.received_at + self._future:
            ahead = (obs.observed_at - obs.received_at).total_seconds()
            evidence = {"value": value, "ahead_s": ahead, "max_future_s": self._s.max_future_s}
            return self._hostile(obs, now, "future_timestamp",
                f"{name} sent a reading dated {obs.observed_at.isoformat()}, {ahead:.0f} s after "
                f"it was received: a wrong clock or a forged time; not judged, so the readings "
                f"after it are not taken for replays",
                evidence)  # fmt: skip
        if obs.observed_at < EARLIEST:
            return self._hostile(obs, now, "invalid_timestamp",
                f"{name} sent a reading dated {obs.observed_at.isoformat()}, before "
                f"{EARLIEST.year}: a reset clock", {"value": value})  # fmt: skip
        return None

    def _hostile(
        self, obs: Observation, now: datetime, kind: str, summary: str,
        evidence: dict[str, AttributeValue],
    ) -> Detection:  # fmt: skip
        # dated when it arrived: a detection dated in the far future would drag event-time
        # consumers (fusion, the alert policy) along with it
        evidence = {"observed_at_text": obs.observed_at.isoformat(), **evidence}
        return telemetry_detection(DETECTOR_ID, f"cyber.telemetry_{kind}", obs, now,
                                   Level.AMBER, summary, evidence, self._assets,
                                   at=obs.received_at, confidence=0.9)  # fmt: skip
