"""New or unknown devices talking on a protected segment, and known addresses on a new MAC."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter
from smartspaces.events import AttributeValue, Detection, Level

DETECTOR_ID = "cyber.unknown_device"


class UnknownDeviceDetector:
    """Reports each unlisted address seen sending on a protected segment, once."""

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._assets = assets
        self._report = Reporter(DETECTOR_ID, assets)
        self._limit = settings.max_tracked_keys
        self._reported: set[tuple[str, str]] = set()
        # sources outside protected segments, or mapped without a MAC to compare
        self._quiet: set[str] = set()

    def reads(self, proto: str) -> bool:
        return True

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        if flow.src in self._quiet:
            return NOTHING
        placement = self._assets.locate(flow.src)
        if not placement.protected or (
            placement.known and self._assets.expected_mac(flow.src) is None
        ):
            # nothing this source sends can be reported: remember that, not its placement
            if len(self._quiet) >= self._limit:
                self._quiet.clear()
            self._quiet.add(flow.src)
            return NOTHING
        expected = ""
        if not placement.known:
            key, kind = (flow.src, ""), "cyber.unknown_device"
        elif (
            flow.src_mac
            and (expected := self._assets.expected_mac(flow.src) or "")
            and expected != flow.src_mac.lower()
        ):
            key, kind = (flow.src, flow.src_mac), "cyber.device_address_spoofed"
        else:
            return NOTHING
        if key in self._reported:
            return NOTHING
        if len(self._reported) >= self._limit:
            self._reported.clear()  # re-reporting beats growing without bound
        self._reported.add(key)
        # the peer is evidence, not a target: the finding belongs to the segment's spaces
        evidence: dict[str, AttributeValue] = {
            "target_ip": flow.dst, "targets_count": 1, "segment_id": placement.segment_id or "",
            "protocol": flow.proto,
        }  # fmt: skip
        if flow.proto != "arp":
            evidence["port"] = flow.dport
        if flow.src_mac:
            evidence["mac"] = flow.src_mac.lower()
        if expected:
            summary = (
                f"{placement.describe()} on protected segment {placement.segment_id} sent "
                f"from MAC {flow.src_mac}, but the asset map lists {expected}: "
                f"another device is using its address"
            )
            # the impersonated device is what is threatened: name it, not the peer
            evidence["expected_mac"] = expected
            evidence["device_id"] = placement.device_id or ""
            if placement.asset_id is not None:
                evidence["asset_id"] = placement.asset_id
        else:
            summary = (
                f"Unknown device {flow.src}{_mac(flow)} is sending on protected segment "
                f"{placement.segment_id}: first seen {_talking(flow)}"
            )
        return self._report.detections(
            kind, Level.AMBER, flow.ts, now, summary, flow.src, [], evidence=evidence
        )


def _mac(flow: Flow) -> str:
    return f" (MAC {flow.src_mac})" if flow.src_mac else ""


def _talking(flow: Flow) -> str:
    if flow.proto == "arp":
        return f"asking (ARP) for {flow.dst}"
    return f"talking to {flow.dst} port {flow.dport}/{flow.proto}"
