"""Port scans (one port on many hosts, many ports on one host) and ICMP sweeps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Evidence, Reporter, listing
from smartspaces.detect.cyber.window import DistinctWindow, WindowMap, escalates, ladder
from smartspaces.events import Detection

DETECTOR_ID = "cyber.port_scan"
PORTLESS = frozenset({"icmp", "arp"})
"""Protocols without ports: ICMP has its sweep detector, ARP its scan detector."""


def _window_text(window: DistinctWindow, ts: float) -> str:
    return f"within {max(ts - window.first_ts, 0.0):.1f} s (window {window.window_s:.0f} s)"


def window_evidence(window: DistinctWindow, ts: float) -> Evidence:
    """How long the episode has lasted, in what window, with how many probes."""
    return {
        "window_s": window.window_s,
        "span_s": round(max(ts - window.first_ts, 0.0), 3),
        "probes_count": window.events,
    }


class HorizontalScanDetector:
    """One source probing the same port on many hosts that never answer it."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._windows: WindowMap[tuple[str, str, int]] = WindowMap(
            settings.max_tracked_keys, settings.window_s
        )

    def reads(self, proto: str) -> bool:
        return proto not in PORTLESS

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        # answered flows are ordinary traffic; a scan shows as attempts nobody completed
        # (a reply with payload is answered: tested first, it spares most flows a call)
        if flow.resp_bytes or flow.proto in PORTLESS or flow.answered:
            return NOTHING
        window = self._windows.add((flow.src, flow.proto, flow.dport), flow.ts, flow.dst)
        if window is None:
            return NOTHING
        count = len(window)
        s = self._settings
        level = ladder(count, s.horizontal_min_targets, s.red_factor)
        if not escalates(window, level) or level is None:
            return NOTHING
        targets = [str(t) for t in window.items()]
        summary = (
            f"Horizontal port scan: {{attacker}} probed {flow.dport}/{flow.proto} on {count} "
            f"hosts that did not answer ({listing(targets)}) {_window_text(window, flow.ts)}"
        )
        evidence = {"protocol": flow.proto, "port": flow.dport, "ports_count": 1,
                    **window_evidence(window, flow.ts)}  # fmt: skip
        return self._report.detections(
            "cyber.horizontal_port_scan",
            level,
            flow.ts,
            now,
            summary,
            flow.src,
            targets,
            evidence=evidence,
        )


class VerticalScanDetector:
    """One source probing many ports of one host, the ports refused or unanswered."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._windows: WindowMap[tuple[str, str, str]] = WindowMap(
            settings.max_tracked_keys, settings.window_s
        )

    def reads(self, proto: str) -> bool:
        return proto not in PORTLESS

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        if flow.resp_bytes or flow.proto in PORTLESS or flow.answered:
            return NOTHING
        window = self._windows.add((flow.src, flow.dst, flow.proto), flow.ts, flow.dport)
        if window is None:
            return NOTHING
        count = len(window)
        s = self._settings
        level = ladder(count, s.vertical_min_ports, s.red_factor)
        if not escalates(window, level) or level is None:
            return NOTHING
        target = self._report.assets.locate(flow.dst).describe()
        summary = (
            f"Vertical port scan: {{attacker}} probed {count} {flow.proto} ports of {target} "
            f"that were refused or unanswered ({listing(window.items())}) "
            f"{_window_text(window, flow.ts)}"
        )
        ports = sorted(port for port in window.items() if isinstance(port, int))
        evidence = {"protocol": flow.proto, "ports_count": count, "port_low": ports[0],
                    "port_high": ports[-1], **window_evidence(window, flow.ts)}  # fmt: skip
        return self._report.detections(
            "cyber.vertical_port_scan",
            level,
            flow.ts,
            now,
            summary,
            flow.src,
            [flow.dst],
            evidence=evidence,
        )


class IcmpSweepDetector:
    """One source sending echo requests to many hosts (host discovery before an attack)."""

    ECHO_REQUEST = 8  # Zeek puts the ICMP type in orig_p

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter("cyber.icmp_sweep", assets)
        self._windows: WindowMap[str] = WindowMap(settings.max_tracked_keys, settings.window_s)

    def reads(self, proto: str) -> bool:
        return proto == "icmp"

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        if flow.proto != "icmp" or flow.sport != self.ECHO_REQUEST:
            return NOTHING
        window = self._windows.add(flow.src, flow.ts, flow.dst)
        if window is None:
            return NOTHING
        count = len(window)
        s = self._settings
        level = ladder(count, s.icmp_sweep_min_targets, s.red_factor)
        if not escalates(window, level) or level is None:
            return NOTHING
        targets = [str(t) for t in window.items()]
        summary = (
            f"ICMP sweep: {{attacker}} sent echo requests to {count} hosts "
            f"({listing(targets)}) {_window_text(window, flow.ts)}"
        )
        evidence = {"protocol": "icmp", **window_evidence(window, flow.ts)}
        return self._report.detections(
            "cyber.icmp_sweep",
            level,
            flow.ts,
            now,
            summary,
            flow.src,
            targets,
            evidence=evidence,
        )
