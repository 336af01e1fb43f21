"""Periodic beaconing: a host calling the same outside address at a machine-regular interval."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter
from smartspaces.detect.cyber.scans import PORTLESS
from smartspaces.detect.cyber.window import forget_oldest
from smartspaces.events import AttributeValue, Detection, Level

DETECTOR_ID = "cyber.beaconing"
MAX_REMEMBERED = 65_536
"""Destinations whose place in the asset map is remembered (then forgotten all at once)."""


class BeaconDetector:
    """Flags (source, destination, port) pairs whose connection starts are evenly spaced.

    Regularity is judged robustly: the median absolute deviation of the intervals over their
    median, so one late call does not hide a beacon. Destinations in the asset map are the
    city's own services (telemetry every minute is expected there) and are not judged.
    """

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._assets = assets
        self._report = Reporter(DETECTOR_ID, assets)
        self._keep = settings.beacon_min_events
        # per pair, its last call times as a tuple of floats: far smaller than a deque, and
        # invisible to the garbage collector; () once reported
        self._calls: dict[tuple[str, str, int, str], tuple[float, ...]] = {}
        intervals = self._keep - 1
        # a median interval of at least m needs the upper half of the intervals at least m,
        # so calls spanning less than this cannot be a beacon: rejected without sorting
        self._min_span = (intervals - intervals // 2) * settings.beacon_min_interval_s
        self._internal: dict[str, bool] = {}  # destination -> in the asset map

    def reads(self, proto: str) -> bool:
        return proto not in PORTLESS

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        internal = self._internal.get(flow.dst)
        if internal is None:
            internal = self._remember(flow.dst)
        if internal or flow.proto in PORTLESS:
            return NOTHING
        key = (flow.src, flow.dst, flow.dport, flow.proto)
        calls = self._calls
        times = calls.get(key)
        if times is None:
            if len(calls) >= self._settings.max_tracked_keys:
                self._calls = calls = forget_oldest(calls, self._settings.max_tracked_keys)
            calls[key] = (flow.ts,)
            return NOTHING
        if not times:
            return NOTHING  # reported already
        # every start counts: skipping close ones would carve a fake period out of a burst
        times = calls[key] = (*times[1 - self._keep :], flow.ts)
        if len(times) < self._keep or max(times) - min(times) < self._min_span:
            return NOTHING
        return self._judge(flow, now, key, times)

    def _remember(self, address: str) -> bool:
        # asked once per destination, not per flow: this detector reads every flow
        if len(self._internal) >= MAX_REMEMBERED:
            self._internal.clear()
        internal = self._internal[address] = self._assets.is_internal(address)
        return internal

    def _judge(
        self, flow: Flow, now: datetime, key: tuple[str, str, int, str], times: tuple[float, ...]
    ) -> Sequence[Detection]:
        ordered = sorted(times)
        intervals = sorted(b - a for a, b in zip(ordered, ordered[1:], strict=False))
        median = intervals[len(intervals) // 2]
        if median < self._settings.beacon_min_interval_s:
            return NOTHING
        spread = sorted(abs(i - median) for i in intervals)[len(intervals) // 2]
        if spread / median > self._settings.beacon_max_jitter:
            return NOTHING
        self._calls[key] = ()
        summary = (
            f"Periodic beaconing: {{attacker}} contacted {flow.dst} port "
            f"{flow.dport}/{flow.proto} {len(times)} times every {median:.1f} s "
            f"(+/- {spread:.1f} s) over {ordered[-1] - ordered[0]:.0f} s"
        )
        evidence: dict[str, AttributeValue] = {
            "protocol": flow.proto, "port": flow.dport, "ports_count": 1,
            "calls_count": len(times), "interval_s": round(median, 3),
            "jitter_s": round(spread, 3), "span_s": round(ordered[-1] - ordered[0], 3),
        }  # fmt: skip
        return self._report.detections(
            "cyber.beaconing",
            Level.AMBER,
            flow.ts,
            now,
            summary,
            flow.src,
            [flow.dst],
            0.6,
            evidence,
        )
