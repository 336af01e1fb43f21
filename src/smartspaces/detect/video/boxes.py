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


def contained(a: Box, b: Box) -> float:
    """The share of ``a``'s area that lies inside ``b`` (0 to 1)."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    area = a.width * a.height
    return w * h / area if w > 0 and h > 0 and area > 0 else 0.0


def suppress_overlaps(boxes: list[Box], threshold: float, inside: float = 1.01) -> list[Box]:
    """Greedy non-maximum suppression: keep the best-scoring box of each overlapping group;
    a box lying at least ``inside`` within a kept one also goes (a person cut in two by a
    tile's edge shows up as a part inside the whole)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: b.score, reverse=True):
        if all(iou(box, k) < threshold and contained(box, k) < inside for k in kept):
            kept.append(box)
    return kept


def square_windows(width: int, height: int) -> list[tuple[int, int, int]]:
    """Square windows (x, y, side) covering a frame, evenly overlapping along its long side.

    Square-input detectors squash a wide frame, and people squashed thin go unseen; a square
    window of the short side's size keeps their proportions."""
    side = min(width, height)
    length = max(width, height)
    count = -(-length // side)  # ceiling
    step = (length - side) / (count - 1) if count > 1 else 0.0
    starts = [round(i * step) for i in range(count)]
    return [(s, 0, side) if width >= height else (0, s, side) for s in starts]
