"""New or unknown devices talking on a protected segment, and known addresses on a new MAC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter
from smartspaces.events import Detection, Level

DETECTOR_ID = "cyber.unknown_device"


class UnknownDeviceDetector:
    """Reports each unlisted address seen sending on a protected segment, once."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._assets = assets
        self._report = Reporter(DETECTOR_ID, assets)
        self._limit = settings.max_tracked_keys
        self._reported: set[tuple[str, str]] = set()

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        placement = self._assets.locate(flow.src)
        if not placement.protected:
            return NOTHING
        if not placement.known:
            key, kind = (flow.src, ""), "cyber.unknown_device"
            summary = (
                f"Unknown device {flow.src}{_mac(flow)} is sending on protected segment "
                f"{placement.segment_id}: first seen talking to {flow.dst} port "
                f"{flow.dport}/{flow.proto}"
            )
        elif (
            flow.src_mac
            and (expected := self._assets.expected_mac(flow.src))
            and expected != flow.src_mac.lower()
        ):
            key, kind = (flow.src, flow.src_mac), "cyber.device_address_spoofed"
            summary = (
                f"{placement.describe()} on protected segment {placement.segment_id} sent "
                f"from MAC {flow.src_mac}, but the asset map lists {expected}: "
                f"another device is using its address"
            )
        else:
            return NOTHING
        if key in self._reported:
            return NOTHING
        if len(self._reported) >= self._limit:
            self._reported.clear()  # re-reporting beats growing without bound
        self._reported.add(key)
        return self._report.detections(kind, Level.AMBER, flow.ts, now, summary, flow.src, [])


def _mac(flow: Flow) -> str:
    return f" (MAC {flow.src_mac})" if flow.src_mac else ""
