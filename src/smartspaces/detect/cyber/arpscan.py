"""ARP scans: one host asking who has many addresses of its LAN (host discovery on the wire).

ARP never leaves its segment and is invisible to Zeek's conn.log, so this works on flows from
pcap and argus: an ``arp`` flow goes from the asking address to the asked one (from pcap, its
source port is the opcode, so replies are told apart). Tools such as arp-scan and netdiscover
ask for a whole subnet within seconds; an ordinary host asks for its gateway and the few peers
it talks to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter, listing
from smartspaces.detect.cyber.scans import window_evidence
from smartspaces.detect.cyber.window import WindowMap, escalates, ladder
from smartspaces.events import Detection

DETECTOR_ID = "cyber.arp_scan"
ARP_REPLY = 2
NO_ADDRESS = "0.0.0.0"  # noqa: S104 - the sender of an RFC 5227 probe, not a bind address
"""ARP probes (a host checking its own new address is free) carry no sender address."""


class ArpScanDetector:
    """Counts the distinct addresses each sender asks for within the window."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._windows: WindowMap[str] = WindowMap(settings.max_tracked_keys, settings.window_s)

    def reads(self, proto: str) -> bool:
        return proto == "arp"

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        if (
            flow.proto != "arp"
            or flow.sport == ARP_REPLY
            or flow.src == flow.dst
            or flow.src == NO_ADDRESS
        ):
            return NOTHING  # replies, announcements and probes ask nobody else
        window = self._windows.add(flow.src, flow.ts, flow.dst)
        if window is None:
            return NOTHING
        count = len(window)
        s = self._settings
        level = ladder(count, s.arp_scan_min_targets, s.red_factor)
        if not escalates(window, level) or level is None:
            return NOTHING
        targets = [str(t) for t in window.items()]
        mac = f" (MAC {flow.src_mac})" if flow.src_mac else ""
        summary = (
            f"ARP scan: {{attacker}}{mac} asked for {count} addresses "
            f"({listing(targets)}) within {max(flow.ts - window.first_ts, 0.0):.1f} s "
            f"(window {window.window_s:.0f} s)"
        )
        evidence = {"protocol": "arp", **window_evidence(window, flow.ts)}
        if flow.src_mac:
            evidence["mac"] = flow.src_mac.lower()
        return self._report.detections(
            "cyber.arp_scan", level, flow.ts, now, summary, flow.src, targets, evidence=evidence
        )
