"""Floods / denial of service: far more packets or connections to one host than it can serve."""

from __future__ import annotations

from collections import Counter, deque
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import Reporter, listing
from smartspaces.detect.cyber.window import BoundedStates
from smartspaces.events import Detection, Level

DETECTOR_ID = "cyber.flood"


class _Target:
    """Packets and connections to one host within the window, and who sent them."""

    __slots__ = ("flows", "packets", "level")

    def __init__(self) -> None:
        self.flows: deque[tuple[float, int, str]] = deque()
        self.packets = 0
        self.level: Level | None = None


class FloodDetector:
    """Per target host: unanswered packets and all connections over a sliding window."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._targets: BoundedStates[str, _Target] = BoundedStates(
            settings.max_tracked_keys, _Target
        )

    def step(self, flow: Flow, now: datetime) -> list[Detection]:
        s = self._settings
        target = self._targets.get(flow.dst)
        horizon = flow.ts - s.window_s
        flows = target.flows
        while flows and flows[0][0] < horizon:
            target.packets -= flows.popleft()[1]
        if not flows:
            target.level = None  # the previous flood, if any, is over
        # only one-sided traffic weighs as packets: a busy camera stream to its recorder is
        # answered, a SYN or UDP flood is not (connection floods are caught by their count)
        packets = 0 if flow.answered else max(flow.orig_pkts, 1)
        flows.append((flow.ts, packets, flow.src))
        target.packets += packets
        ratio = max(target.packets / s.flood_min_packets, len(flows) / s.flood_min_flows)
        if ratio < 1:
            return []
        level = Level.RED if ratio >= s.red_factor else Level.AMBER
        if target.level is not None and level.rank <= target.level.rank:
            return []
        target.level = level
        # who sent it is counted only now, when it matters: rare, and keeps the hot path lean
        sources = Counter(src for _, _, src in flows)
        top = sources.most_common(3)
        victim = self._report.assets.locate(flow.dst).describe()
        summary = (
            f"Flood against {victim}: {target.packets} unanswered packets, {len(flows)} "
            f"connections "
            f"from {len(sources)} source(s) within {s.window_s:.0f} s; busiest sources "
            f"{listing(f'{src} ({n})' for src, n in top)}"
        )
        attacker = top[0][0]
        return self._report.detections(
            "cyber.flood", level, flow.ts, now, summary, attacker, [flow.dst]
        )
