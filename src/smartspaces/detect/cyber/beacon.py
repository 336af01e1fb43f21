"""Periodic beaconing: a host calling the same outside address at a machine-regular interval."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import Reporter
from smartspaces.detect.cyber.window import BoundedStates
from smartspaces.events import Detection, Level

DETECTOR_ID = "cyber.beaconing"


class _Calls:
    __slots__ = ("times", "reported")

    def __init__(self, keep: int) -> None:
        self.times: deque[float] = deque(maxlen=keep)
        self.reported = False


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
        keep = settings.beacon_min_events
        self._calls: BoundedStates[tuple[str, str, int, str], _Calls] = BoundedStates(
            settings.max_tracked_keys, lambda: _Calls(keep)
        )

    def step(self, flow: Flow, now: datetime) -> list[Detection]:
        if flow.proto == "icmp" or self._assets.is_internal(flow.dst):
            return []
        calls = self._calls.get((flow.src, flow.dst, flow.dport, flow.proto))
        times = calls.times
        # every start counts: skipping close ones would carve a fake period out of a burst
        times.append(flow.ts)
        if calls.reported or len(times) < self._settings.beacon_min_events:
            return []
        ordered = sorted(times)
        intervals = sorted(b - a for a, b in zip(ordered, ordered[1:], strict=False))
        median = intervals[len(intervals) // 2]
        if median < self._settings.beacon_min_interval_s:
            return []
        spread = sorted(abs(i - median) for i in intervals)[len(intervals) // 2]
        if spread / median > self._settings.beacon_max_jitter:
            return []
        calls.reported = True
        summary = (
            f"Periodic beaconing: {{attacker}} contacted {flow.dst} port "
            f"{flow.dport}/{flow.proto} {len(times)} times every {median:.1f} s "
            f"(+/- {spread:.1f} s) over {ordered[-1] - ordered[0]:.0f} s"
        )
        return self._report.detections(
            "cyber.beaconing", Level.AMBER, flow.ts, now, summary, flow.src, [flow.dst], 0.6
        )
