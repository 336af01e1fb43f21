"""Unattended objects: something new that stays put with nobody near it.

Two running-average backgrounds of the scene are kept (Porikli's dual foreground): a short-term
one that takes in a still object within seconds, and a long-term one that takes minutes. A pixel
off the long-term background but matching the short-term one shows something that arrived and
then stopped moving; people walking by differ from both. Such pixels form blobs; a blob inside
a person's box is that person standing still and is ignored. A blob that persists becomes a
candidate, and a candidate with no person within ``attended_radius_m`` for ``delay_s`` is
reported, once.

When the blob first shows, the object has already been there for as long as the short-term
background took to absorb it; that time is estimated from the object's contrast (the background
approaches it exponentially) and counted in, so the delay runs from when the object was set down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from smartspaces.config.video import ZoneSettings
from smartspaces.config.video_behaviours import BehaviourSettings, UnattendedSettings
from smartspaces.detect.video.analytics import inside
from smartspaces.detect.video.boxes import Box, Frame, contained, iou
from smartspaces.detect.video.calibration import GroundPlane
from smartspaces.detect.video.findings import DETECTORS, Finding
from smartspaces.events import AttributeValue, Level

Grey = npt.NDArray[np.float32]

MATCH_IOU = 0.3
"""A blob overlapping a candidate this much is the same object seen again."""

PERSON_SHARE = 0.5
"""A blob lying this much inside a person's (grown) box is part of that person."""


@dataclass
class Candidate:
    """A static new object being watched."""

    box: Box  # frame pixels
    since: float  # when it was (estimated to be) set down
    last_seen: float
    unattended_since: float | None
    reported: bool = False


class UnattendedObjects:
    """``step(frame, at, people)`` -> Findings of objects left unattended."""

    def __init__(
        self,
        settings: UnattendedSettings,
        behaviour: BehaviourSettings,
        plane: GroundPlane | None,
        zones: Sequence[ZoneSettings] = (),
    ) -> None:
        self._settings = settings
        self._zones = zones
        self._person_height_m = behaviour.person_height_m
        self._plane = plane
        self._short: Grey | None = None
        self._long: Grey | None = None
        self._last_at = 0.0
        self._scale = 1.0
        self.candidates: list[Candidate] = []

    def step(self, frame: Frame, at: float, people: list[Box]) -> list[Finding]:
        """Account for one frame at ``at`` (seconds) with the person boxes seen near then."""
        grey = self._grey(frame)
        if self._short is None or self._long is None or grey.shape != self._short.shape:
            self._short, self._long, self._last_at = grey.copy(), grey.copy(), at
            return []
        s = self._settings
        dt = max(at - self._last_at, 0.0)
        self._last_at = at
        off_long = np.asarray(cv2.absdiff(grey, self._long), dtype=np.float32)
        off_short = np.asarray(cv2.absdiff(grey, self._short), dtype=np.float32)
        raw = ((off_long > s.difference_min) & (off_short <= s.difference_min)).astype(np.uint8)
        opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        static = np.asarray(
            cv2.morphologyEx(opened, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)), dtype=np.uint8
        )
        for model, tau in (
            (self._short, s.short_time_constant_s),
            (self._long, s.long_time_constant_s),
        ):
            cv2.accumulateWeighted(grey, model, 1.0 - math.exp(-dt / tau))
        blobs = self._blobs(static, off_long, people, at)
        return self._follow(blobs, people, at, max(2.0, 3 * dt))

    def _grey(self, frame: Frame) -> Grey:
        height, width = frame.shape[:2]
        self._scale = min(1.0, self._settings.analysis_width_px / width)
        small = cv2.resize(
            frame, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA
        )
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)

    def _blobs(
        self, static: npt.NDArray[np.uint8], contrast: Grey, people: list[Box], at: float
    ) -> list[tuple[Box, float]]:
        """Static blobs as (box in frame pixels, estimated time set down)."""
        s = self._settings
        count, labels, stats, _ = cv2.connectedComponentsWithStats(static, connectivity=8)
        area_all = static.shape[0] * static.shape[1]
        grown = [_grow(p, 0.1) for p in people]
        out = []
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            if not s.min_area_fraction <= area / area_all <= s.max_area_fraction:
                continue
            k = 1.0 / self._scale
            box = Box(x * k, y * k, (x + w) * k, (y + h) * k)
            if any(contained(box, p) >= PERSON_SHARE for p in grown):
                continue  # a person standing still
            # the short-term background closes in on the object as exp(-t / tau); it stops
            # showing as new when the gap falls to the threshold: t = tau * ln(contrast / min)
            gap = float(np.median(contrast[labels == i]))
            age = s.short_time_constant_s * math.log(max(gap / s.difference_min, 1.0))
            out.append((box, at - age))
        return out

    def _follow(
        self, blobs: list[tuple[Box, float]], people: list[Box], at: float, grace_s: float
    ) -> list[Finding]:
        for box, since in blobs:
            match = max(self.candidates, key=lambda c: iou(c.box, box), default=None)
            if match is not None and iou(match.box, box) >= MATCH_IOU:
                match.box, match.last_seen = box, at
            else:
                self.candidates.append(Candidate(box, since, at, since))
        # an object hidden behind a passer-by for a moment is still there
        self.candidates = [c for c in self.candidates if at - c.last_seen <= grace_s]
        out = []
        for c in self.candidates:
            if any(self._near(c.box, p) for p in people):
                c.unattended_since = None
                continue
            if c.unattended_since is None:
                c.unattended_since = at
            alone_s = at - c.unattended_since
            if not c.reported and alone_s >= self._settings.delay_s:
                c.reported = True
                zone = next((z for z in self._zones if inside(c.box.foot, z.polygon)), None)
                attributes: dict[str, AttributeValue] = {
                    "static_s": at - c.since,
                    "unattended_s": alone_s,
                }
                if zone is not None:
                    attributes["zone_id"] = zone.id
                out.append(
                    Finding(
                        "video.unattended_object", DETECTORS["unattended"], Level.RED, at,
                        f"an object left unattended for {alone_s:.0f} s", attributes,
                        zone.space_id if zone else None, key=f"{c.box.x1:.0f},{c.box.y1:.0f}",
                        confidence=0.7,
                    )
                )  # fmt: skip
        return out

    def _near(self, thing: Box, person: Box) -> bool:
        radius = self._settings.attended_radius_m
        if self._plane is not None:
            (ax, ay), (bx, by) = (
                self._plane.to_ground(thing.foot),
                self._plane.to_ground(person.foot),
            )
            return math.hypot(ax - bx, ay - by) <= radius
        # uncalibrated: the person's box height is the metre stick, edge to edge
        gap_x = max(thing.x1 - person.x2, person.x1 - thing.x2, 0.0)
        gap_y = max(thing.y1 - person.y2, person.y1 - thing.y2, 0.0)
        metres_per_px = self._person_height_m / max(person.height, 1.0)
        return math.hypot(gap_x, gap_y) * metres_per_px <= radius


def _grow(box: Box, share: float) -> Box:
    dx, dy = box.width * share, box.height * share
    return Box(box.x1 - dx, box.y1 - dy, box.x2 + dx, box.y2 + dy, box.score)
