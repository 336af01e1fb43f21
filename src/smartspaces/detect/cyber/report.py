"""Builds explained Detections for network findings, placed in the spaces the hosts serve."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.events import AttributeValue, Detection, Level, derive_id

MAX_SPACES = 8
"""A finding touching more spaces than this is reported in the first ones (bounded fan-out)."""

NOTHING: tuple[Detection, ...] = ()
"""What a detector's step returns for an ordinary flow: shared, so the hot path allocates
nothing (a tuple, so no caller can append to it)."""

MAX_LISTED = 10
"""Targets or ports named in a summary; the rest are counted."""

Evidence = Mapping[str, AttributeValue]
"""A detector's own typed evidence (``ports_count``, ``window_s`` ...), merged into the
attributes every network detection carries."""


def listing(values: Iterable[object]) -> str:
    """'a, b, c' for the first MAX_LISTED values sorted, then '... (+n more)'."""
    ordered = sorted({str(v) for v in values}, key=_natural)
    text = ", ".join(ordered[:MAX_LISTED])
    extra = len(ordered) - MAX_LISTED
    return f"{text} (+{extra} more)" if extra > 0 else text


def _natural(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


class Reporter:
    """Turns one finding into one Detection per smart space its hosts serve.

    Every detection carries the same core attributes, so fusion and operators can rely on
    them whatever the detector: ``attacker_ip``, ``target_ip`` (the first or main target),
    ``targets_count``, and where the asset map knows them ``asset_id`` / ``device_id`` of the
    target (the first target that belongs to an asset) and ``attacker_device_id`` /
    ``attacker_asset_id`` (a compromised city device attacking others).
    """

    def __init__(self, detector_id: str, assets: AssetMap) -> None:
        self.detector_id = detector_id
        self.assets = assets

    def detections(
        self,
        detection_type: str,
        level: Level,
        at_ts: float,
        now: datetime,
        summary: str,
        attacker: str,
        targets: Sequence[str],
        confidence: float = 0.9,
        evidence: Evidence | None = None,
    ) -> list[Detection]:
        # the threatened side's spaces first: a scan of camera 12 threatens what it watches
        spaces: list[str] = []
        for address in (*targets[:MAX_LISTED], attacker):
            for space in self.assets.locate(address).spaces:
                if space not in spaces:
                    spaces.append(space)
        if not spaces:
            spaces.append(self.assets.default_space_id)
        at = datetime.fromtimestamp(at_ts, UTC)
        attacker_text = self.assets.locate(attacker).describe()
        target_key = ",".join(sorted(targets)[:MAX_LISTED])
        attributes = {**self.core_attributes(attacker, targets), **(evidence or {})}
        return [
            Detection(
                # attacker and targets are part of the identity: two scans found in the same
                # second are two detections, and a replayed log yields the same ids again
                id=derive_id(
                    "det", self.detector_id, detection_type, space, at, level, attacker, target_key
                ),
                source=self.detector_id,
                space_id=space,
                observed_at=at,
                received_at=now,
                detector=self.detector_id,
                detection_type=detection_type,
                level=level,
                confidence=confidence,
                summary=summary.replace("{attacker}", attacker_text)[:2000],
                attributes=attributes,
            )
            for space in spaces[:MAX_SPACES]
        ]

    def core_attributes(self, attacker: str, targets: Sequence[str]) -> dict[str, AttributeValue]:
        """The attributes every network detection carries (see the class docstring)."""
        attributes: dict[str, AttributeValue] = {"attacker_ip": attacker}
        if targets:
            attributes["target_ip"] = targets[0]
        attributes["targets_count"] = len(targets)
        # the main target's asset if it has one, else the first listed target that does
        for address in targets[:MAX_LISTED]:
            placement = self.assets.locate(address)
            if placement.asset_id is not None:
                attributes["asset_id"] = placement.asset_id
                if placement.device_id is not None:
                    attributes["device_id"] = placement.device_id
                break
        else:
            if targets and (device := self.assets.locate(targets[0]).device_id) is not None:
                attributes["device_id"] = device
        source = self.assets.locate(attacker)
        if source.device_id is not None:
            attributes["attacker_device_id"] = source.device_id
        if source.asset_id is not None:
            attributes["attacker_asset_id"] = source.asset_id
        return attributes
