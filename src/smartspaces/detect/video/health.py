"""Camera health and tampering, from the images alone: a frozen image, a covered (or blacked
out) lens, a view that suddenly changed (the camera turned, moved or was swapped), a stream lost.

Pure: ``step(frame, at)`` returns the Findings due. Each fault must last its ``*_after_s``
before it is reported, is reported again every ``repeat_after_s`` while it lasts, and is
forgotten as soon as the image is healthy again.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from smartspaces.config.video_behaviours import HealthSettings
from smartspaces.detect.video.boxes import Frame
from smartspaces.detect.video.findings import DETECTORS, Finding
from smartspaces.events import Level

DETECTOR = DETECTORS["health"]
SIZE = (160, 90)
"""Images are compared at this size: enough for a scene, cheap for every frame."""

HISTOGRAM_BINS = [30, 32]  # hue, saturation
CHANGED_LEVELS = 30
"""A pixel this many grey levels off the learnt scene has changed."""


class _Fault:
    """Since when a fault has lasted, and when it was last reported."""

    def __init__(self, after_s: float, repeat_s: float) -> None:
        self.after_s, self.repeat_s = after_s, repeat_s
        self.since: float | None = None
        self.reported: float | None = None

    def due(self, present: bool, at: float) -> float | None:
        """Seconds the fault has lasted, if it is to be reported now; None otherwise."""
        if not present:
            self.since = self.reported = None
            return None
        if self.since is None:
            self.since = at
        lasted = at - self.since
        if lasted < self.after_s:
            return None
        if self.reported is not None and at - self.reported < self.repeat_s:
            return None
        self.reported = at
        return lasted


class CameraHealth:
    """One camera's image health."""

    def __init__(self, settings: HealthSettings) -> None:
        self._settings = settings
        s = settings
        self._frozen = _Fault(s.frozen_after_s, s.repeat_after_s)
        self._covered = _Fault(s.covered_after_s, s.repeat_after_s)
        self._changed = _Fault(s.scene_change_after_s, s.repeat_after_s)
        self._previous: npt.NDArray[np.uint8] | None = None
        self._scene: npt.NDArray[np.float32] | None = None
        self._scene_grey: npt.NDArray[np.float32] | None = None
        self._last_at: float | None = None

    def step(self, frame: Frame, at: float) -> list[Finding]:
        s = self._settings
        small = np.asarray(cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        out: list[Finding] = []
        # frozen: the same picture again and again, judged at full size where noise shows
        full = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        if self._previous is not None and self._previous.shape == full.shape:
            changed = cv2.countNonZero(cv2.absdiff(full, self._previous)) / full.size
            lasted = self._frozen.due(changed <= s.frozen_changed_max, at)
            if lasted is not None:
                summary = f"the image has not changed for {lasted:.0f} s"
                out.append(self._finding("video.camera_frozen", Level.AMBER, at, lasted, summary))
        self._previous = full
        # covered: no detail left, or black
        detail = float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean())
        blank = detail <= s.covered_detail_max or float(grey.mean()) <= s.dark_mean_max
        lasted = self._covered.due(blank, at)
        if lasted is not None:
            summary = f"the lens looks covered or blacked out for {lasted:.0f} s"
            out.append(self._finding("video.camera_covered", Level.RED, at, lasted, summary))
        # scene changed: colours far from the learnt scene, over most of the view (not judged
        # on a blank image)
        histogram = _histogram(small)
        level = grey.astype(np.float32)
        dt = 0.0 if self._last_at is None else max(at - self._last_at, 0.0)
        self._last_at = at
        if self._scene is None or self._scene_grey is None or blank:
            if self._scene is None or self._scene_grey is None:
                self._scene, self._scene_grey = histogram, level
            self._changed.due(False, at)
            return out
        distance = float(cv2.compareHist(self._scene, histogram, cv2.HISTCMP_BHATTACHARYYA))
        share = float((cv2.absdiff(level, self._scene_grey) > CHANGED_LEVELS).mean())
        changed = distance >= s.scene_change_distance and share >= s.scene_change_share
        lasted = self._changed.due(changed, at)
        if lasted is not None:
            out.append(
                self._finding("video.scene_changed", Level.AMBER, at, lasted,
                              "the camera's view changed: turned, moved or replaced?",
                              {"histogram_distance": distance, "changed_share": share})
            )  # fmt: skip
            self._scene, self._scene_grey = histogram, level  # the new view from now on
        elif not changed:
            weight = 1.0 - float(np.exp(-dt / s.scene_time_constant_s))
            cv2.accumulateWeighted(histogram, self._scene, weight)
            cv2.accumulateWeighted(level, self._scene_grey, weight)
        return out

    def lost(self, at: float, reason: str) -> Finding:
        """The stream is gone (it would not open, stalled or broke)."""
        return self._finding("video.stream_lost", Level.AMBER, at, 0.0, reason)

    @staticmethod
    def _finding(
        kind: str,
        level: Level,
        at: float,
        lasted: float,
        summary: str,
        extra: dict[str, float] | None = None,
    ) -> Finding:
        attributes: dict[str, str | float | int | bool] = {"lasted_s": lasted, **(extra or {})}
        return Finding(kind, DETECTOR, level, at, summary, attributes, confidence=0.9)


def _histogram(small: Frame) -> npt.NDArray[np.float32]:
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1], None, HISTOGRAM_BINS, [0, 180, 0, 256])
    cv2.normalize(histogram, histogram, 1.0, 0.0, cv2.NORM_L1)
    return np.asarray(histogram, dtype=np.float32)
