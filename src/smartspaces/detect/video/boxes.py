"""Person boxes in image pixels, and the overlap measure the tracker matches them with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""A decoded image, height x width x 3 (BGR, as OpenCV gives it)."""


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in image pixels (x right, y down) with the detector's score."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float = 1.0

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where a standing person touches the ground."""
        return ((self.x1 + self.x2) / 2, self.y2)

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy, self.score)


def iou(a: Box, b: Box) -> float:
    """Intersection over union, 0 for disjoint or degenerate boxes."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def suppress_overlaps(boxes: list[Box], threshold: float) -> list[Box]:
    """Greedy non-maximum suppression: keep the best-scoring box of each overlapping group."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(iou(box, k) < threshold for k in kept):
            kept.append(box)
    return kept
