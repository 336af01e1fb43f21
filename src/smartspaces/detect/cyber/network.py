"""All network detectors behind one ``step(flow, now)``, listed in an explicit registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.arpscan import ArpScanDetector
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.beacon import BeaconDetector
from smartspaces.detect.cyber.bruteforce import PasswordGuessingDetector
from smartspaces.detect.cyber.flood import FloodDetector
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.newdevice import UnknownDeviceDetector
from smartspaces.detect.cyber.scans import (
    HorizontalScanDetector,
    IcmpSweepDetector,
    VerticalScanDetector,
)
from smartspaces.events import Detection

Step = Callable[[Flow, datetime], Sequence[Detection]]
MAX_PROTOCOLS = 64
"""Protocol names whose detector lists are remembered (a flow CSV may name any protocol)."""


class FlowDetector(Protocol):
    """A pure detector over flows: same flows in the same order, same detections."""

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        """Account for one flow; returns the detections it completed (usually none, as
        ``report.NOTHING``: the shared empty tuple, so the hot path allocates nothing)."""
        ...

    def reads(self, proto: str) -> bool:
        """Whether flows of this protocol can matter to ``step`` (others are not offered;
        ``step`` still ignores them itself when called directly)."""
        ...


NETWORK_DETECTORS: dict[str, Callable[[CyberSettings, AssetMap], FlowDetector]] = {
    "horizontal_port_scan": HorizontalScanDetector,
    "vertical_port_scan": VerticalScanDetector,
    "icmp_sweep": IcmpSweepDetector,
    "arp_scan": ArpScanDetector,
    "password_guessing": PasswordGuessingDetector,
    "flood": FloodDetector,
    "beaconing": BeaconDetector,
    "unknown_device": UnknownDeviceDetector,
}


class NetworkDetectors:
    """Runs every registered network detector (or the named ones) over each flow.

    Each flow is offered only to the detectors that read its protocol: the lists are built
    once per protocol, so a TCP flow costs no call to the ICMP or ARP detectors.
    """

    def __init__(
        self, settings: CyberSettings, assets: AssetMap, only: Iterable[str] | None = None
    ) -> None:
        names = list(NETWORK_DETECTORS) if only is None else list(only)
        self._detectors = [NETWORK_DETECTORS[name](settings, assets) for name in names]
        self._by_proto: dict[str, list[Step]] = {}

    def steps_for(self, proto: str) -> list[Step]:
        """The bound ``step`` of every detector that reads ``proto``, in registry order."""
        steps = self._by_proto.get(proto)
        if steps is None:
            steps = [d.step for d in self._detectors if d.reads(proto)]
            if len(self._by_proto) < MAX_PROTOCOLS:
                self._by_proto[proto] = steps
        return steps

    def step(self, flow: Flow, now: datetime) -> list[Detection]:
        found: list[Detection] = []
        for step in self.steps_for(flow.proto):
            if detections := step(flow, now):
                found.extend(detections)
        return found

    def run(self, flows: Iterable[Flow], now: datetime) -> list[Detection]:
        """Every detection over a finite sequence of flows (tests, replays, benchmarks)."""
        found: list[Detection] = []
        by_proto, steps_for = self._by_proto, self.steps_for
        for flow in flows:
            steps = by_proto.get(flow.proto) or steps_for(flow.proto)
            for step in steps:
                if detections := step(flow, now):
                    found.extend(detections)
        return found
