"""All network detectors behind one ``step(flow, now)``, listed in an explicit registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from smartspaces.config import CyberSettings
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


class FlowDetector(Protocol):
    """A pure detector over flows: same flows in the same order, same detections."""

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        """Account for one flow; returns the detections it completed (usually none, as
        ``report.NOTHING``: the shared empty tuple, so the hot path allocates nothing)."""
        ...


NETWORK_DETECTORS: dict[str, Callable[[CyberSettings, AssetMap], FlowDetector]] = {
    "horizontal_port_scan": HorizontalScanDetector,
    "vertical_port_scan": VerticalScanDetector,
    "icmp_sweep": IcmpSweepDetector,
    "password_guessing": PasswordGuessingDetector,
    "flood": FloodDetector,
    "beaconing": BeaconDetector,
    "unknown_device": UnknownDeviceDetector,
}


class NetworkDetectors:
    """Runs every registered network detector (or the named ones) over each flow."""

    def __init__(
        self, settings: CyberSettings, assets: AssetMap, only: Iterable[str] | None = None
    ) -> None:
        names = list(NETWORK_DETECTORS) if only is None else list(only)
        self._detectors = [NETWORK_DETECTORS[name](settings, assets) for name in names]
        self._steps = [detector.step for detector in self._detectors]  # bound once, not per flow

    def step(self, flow: Flow, now: datetime) -> list[Detection]:
        found: list[Detection] = []
        for step in self._steps:
            if detections := step(flow, now):
                found.extend(detections)
        return found

    def run(self, flows: Iterable[Flow], now: datetime) -> list[Detection]:
        """Every detection over a finite sequence of flows (tests, replays, benchmarks)."""
        found: list[Detection] = []
        steps = self._steps
        for flow in flows:
            for step in steps:
                if detections := step(flow, now):
                    found.extend(detections)
        return found
