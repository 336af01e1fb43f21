"""Matching helpers: which events a condition accepts, which spaces they count for, the maths."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from smartspaces.detect.fusion.ruleset import Condition, Scope
from smartspaces.events import Detection, Device, Observation, SmartSpace

Evidence = Observation | Detection


@cache
def compile_patterns(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for detection type patterns where ``*`` matches anything."""
    parts = [".*".join(re.escape(piece) for piece in p.split("*")) for p in patterns]
    return re.compile("|".join(f"(?:{part})" for part in parts) or "(?!)")


def heading_deg(event: Evidence) -> float | None:
    """The direction of movement a detection reports (attributes.heading_deg), 0-360."""
    if not isinstance(event, Detection):
        return None
    value = event.attributes.get("heading_deg")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) % 360.0


def heading_spread(headings: Iterable[float]) -> float:
    """The smallest arc (degrees) that holds every heading: 360 minus the largest gap.

    Circular on purpose: 350 and 10 degrees are 20 degrees apart, not 340."""
    ordered = sorted(h % 360.0 for h in headings)
    if len(ordered) < 2:
        return 0.0
    inner = max(b - a for a, b in zip(ordered, ordered[1:], strict=False))
    span = ordered[-1] - ordered[0]
    # the largest gap is either between neighbours or across north; subtracting from 360 only
    # in the first case keeps equal headings at exactly 0
    return span if 360.0 - span >= inner else 360.0 - inner


def noisy_or(confidences: Iterable[float]) -> float:
    """Belief that at least one of several independent pieces of evidence is right."""
    disbelief = 1.0
    for confidence in confidences:
        disbelief *= 1.0 - min(max(confidence, 0.0), 1.0)
    return 1.0 - disbelief


class Places:
    """Which watched smart spaces an event counts for, by scope (precomputed, so it is cheap)."""

    def __init__(
        self,
        spaces: Sequence[SmartSpace],
        devices: Mapping[str, Device],
        asset_spaces: Mapping[str, frozenset[str]],
    ) -> None:
        self.spaces = {space.id: space for space in spaces}
        self._own = {space_id: (space_id,) for space_id in self.spaces}
        near: dict[str, set[str]] = {space_id: {space_id} for space_id in self.spaces}
        for space in spaces:
            # neighbourhood is symmetric even when only one side lists the other
            for other in space.neighbours:
                if other in near:
                    near[space.id].add(other)
                    near[other].add(space.id)
        self._near = {space_id: tuple(sorted(ids)) for space_id, ids in near.items()}
        self._assets = {
            asset: tuple(sorted(s for s in served if s in self.spaces))
            for asset, served in asset_spaces.items()
        }
        self._devices = devices

    def anchors(self, scope: Scope, event: Evidence) -> tuple[str, ...]:
        """The watched spaces in which ``event`` is evidence for a condition of this scope."""
        if scope == "space":
            return self._own.get(event.space_id, ())
        if scope == "neighbours":
            return self._near.get(event.space_id, ())
        own = self._own.get(event.space_id, ())
        if not isinstance(event, Detection) or not event.attributes:
            return own
        extra: tuple[str, ...] = ()
        asset = event.attributes.get("asset_id")
        if isinstance(asset, str):
            extra = self._assets.get(asset, ())
        device = self._devices.get(str(event.attributes.get("device_id", "")))
        if device is not None and device.space_id in self.spaces:
            extra = (*extra, device.space_id)
        return tuple(dict.fromkeys((*own, *extra))) if extra else own


class Matcher:
    """The field checks of conditions, against the devices and asset kinds the engine knows."""

    def __init__(self, devices: Mapping[str, Device], asset_kinds: Mapping[str, str]) -> None:
        self._devices, self._asset_kinds = devices, asset_kinds

    def accepts(self, cond: Condition, event: Evidence) -> bool:
        """Whether ``event`` (already of the condition's type or quantity) passes its checks."""
        if cond.source is not None and event.source != cond.source:
            return False
        if isinstance(event, Observation):
            if cond.min_value is not None and event.value < cond.min_value:
                return False
            if cond.max_value is not None and event.value > cond.max_value:
                return False
            return (
                cond.device_kind is None or self._device_kind(event.sensor_id) == cond.device_kind
            )
        rank = event.level.rank
        if cond.min_level is not None and rank < cond.min_level.rank:
            return False
        if cond.max_level is not None and rank > cond.max_level.rank:
            return False
        if event.confidence < cond.min_confidence:
            return False
        attributes = event.attributes
        if cond.asset_kind is not None:
            asset = attributes.get("asset_id")
            if not isinstance(asset, str) or self._asset_kinds.get(asset) != cond.asset_kind:
                return False
        if cond.device_kind is not None:
            if self._device_kind(str(attributes.get("device_id", ""))) != cond.device_kind:
                return False
        return cond.min_heading_spread_deg is None or heading_deg(event) is not None

    def _device_kind(self, device_id: str) -> str | None:
        device = self._devices.get(device_id)
        return device.kind if device is not None else None


def subject(event: Evidence, latest: bool) -> str:
    """What one piece of evidence is about, so that repeats are not counted twice.

    In a window: a sensor (its repeated readings are one witness) or the detection itself. For
    ``holds: latest``: the asset, sensor or device whose newest state counts, else the detector
    in its space (a space's crowd level, say)."""
    if isinstance(event, Observation):
        return event.sensor_id
    if not latest:
        return event.id
    attributes = event.attributes
    for key in ("asset_id", "device_id"):
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return f"{key}:{value}"
    return f"{event.detector}@{event.space_id}"
