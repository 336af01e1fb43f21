"""Floods / denial of service: far more packets or connections to one host than it can serve."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter, listing
from smartspaces.detect.cyber.window import forget_oldest
from smartspaces.events import AttributeValue, Detection, Level

DETECTOR_ID = "cyber.flood"
_INF = float("inf")


BUCKET_S = 1.0
"""Traffic to a host is counted per second of flow time: memory stays flat however hard the
flood, and the window slides a bucket at a time (so it may hold up to a second more)."""
MAX_SOURCES = 256
"""Senders counted by name per second; more (a spoofed flood) are counted, not named."""


Bucket = tuple[float, int, int, dict[str, int], int]
"""A finished second: (start, unanswered packets, flows, flows per named sender, unnamed)."""


class _Target:
    """Packets and connections to one host within the window, and who sent them.

    The current second is counted in place and finished seconds kept as tuples, made only
    when a host gets traffic in a second second: most hosts never do, and a host that does
    costs the garbage collector one object, not one per second.
    """

    __slots__ = ("start", "packets_now", "flows_now", "sources", "unnamed", "past",
                 "packets", "flows", "level")  # fmt: skip

    def __init__(self) -> None:
        self.start = -_INF  # of the current second
        self.packets_now = self.flows_now = self.unnamed = 0
        self.sources: dict[str, int] = {}
        self.past: deque[Bucket] | None = None
        self.packets = self.flows = 0  # totals over the window, the current second included
        self.level: Level | None = None

    def next_second(self, ts: float, horizon: float) -> None:
        """Finish the current second, forget the seconds before ``horizon``, start at ``ts``."""
        past = self.past
        if self.flows_now:
            if past is None:
                past = self.past = deque()
            past.append((self.start, self.packets_now, self.flows_now, self.sources,
                         self.unnamed))  # fmt: skip
        while past and past[0][0] < horizon:
            _, packets, flows, _, _ = past.popleft()
            self.packets -= packets
            self.flows -= flows
        if not past:
            self.level = None  # the previous flood, if any, is over
        self.start, self.packets_now, self.flows_now, self.unnamed = ts, 0, 0, 0
        self.sources = {}

    def seconds(self) -> list[Bucket]:
        now = (self.start, self.packets_now, self.flows_now, self.sources, self.unnamed)
        return [*(self.past or ()), now]


class FloodDetector:
    """Per target host: unanswered packets and all connections over a sliding window."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._targets: dict[str, _Target] = {}
        self._window_s = settings.window_s
        self._min_packets, self._min_flows = settings.flood_min_packets, settings.flood_min_flows

    def reads(self, proto: str) -> bool:
        return True

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        target = self._targets.get(flow.dst)
        if target is None:
            target = self._new_target(flow.dst)
        ts = flow.ts
        if ts >= target.start + BUCKET_S:
            target.next_second(ts, ts - self._window_s)
        # a late flow joins the current second: it can only expire later, never be lost
        # only one-sided traffic weighs as packets: a busy camera stream to its recorder is
        # answered, a SYN or UDP flood is not (connection floods are caught by their count)
        packets = 0 if flow.resp_bytes or flow.answered else max(flow.orig_pkts, 1)
        target.packets_now += packets
        target.flows_now += 1
        sources = target.sources
        if flow.src in sources:
            sources[flow.src] += 1
        elif len(sources) < MAX_SOURCES:
            sources[flow.src] = 1
        else:
            target.unnamed += 1
        target.packets += packets
        target.flows += 1
        if target.packets < self._min_packets and target.flows < self._min_flows:
            return NOTHING
        return self._judge(flow, now, target)

    def _new_target(self, address: str) -> _Target:
        if len(self._targets) >= self._settings.max_tracked_keys:
            self._targets = forget_oldest(self._targets, self._settings.max_tracked_keys)
        target = self._targets[address] = _Target()
        return target

    def _judge(self, flow: Flow, now: datetime, target: _Target) -> Sequence[Detection]:
        s = self._settings
        ratio = max(target.packets / s.flood_min_packets, target.flows / s.flood_min_flows)
        level = Level.RED if ratio >= s.red_factor else Level.AMBER
        if target.level is not None and level.rank <= target.level.rank:
            return NOTHING
        target.level = level
        # who sent it is counted only now, when it matters: rare, and keeps the hot path lean
        sources: Counter[str] = Counter()
        unnamed = 0
        for _, _, _, named, others in target.seconds():
            sources.update(named)
            unnamed += others
        top = sources.most_common(3)
        victim = self._report.assets.locate(flow.dst).describe()
        senders = f"{len(sources)}" if not unnamed else f"more than {len(sources)}"
        summary = (
            f"Flood against {victim}: {target.packets} unanswered packets, {target.flows} "
            f"connections from {senders} source(s) within {s.window_s:.0f} s; busiest sources "
            f"{listing(f'{src} ({n})' for src, n in top)}"
        )
        evidence: dict[str, AttributeValue] = {
            "packets_count": target.packets, "flows_count": target.flows,
            "sources_count": len(sources), "sources_all_named": not unnamed,
            "window_s": s.window_s, "protocol": flow.proto, "port": flow.dport,
        }  # fmt: skip
        return self._report.detections(
            "cyber.flood",
            level,
            flow.ts,
            now,
            summary,
            top[0][0],
            [flow.dst],
            evidence=evidence,
        )
