"""Anonymising snapshots: every person box pixelated and blurred before a frame may leave.

Raw frames never leave the video package. The only image that may is ``snapshot``'s: people
blurred beyond recognition, then checked with OpenCV's stock face *detector* (a Haar cascade,
used only to find faces a person detector missed, blur them too, and prove there is no face
left to see; nothing is ever recognised). ``write_snapshot`` is the one place that writes such
an image to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from smartspaces.detect.video.boxes import Box, Frame
from smartspaces.detect.video.errors import VideoError

MARGIN = 0.15
"""Boxes are grown by this share of their size: detector boxes often clip heads and hands."""

BLOCKS = 6
"""A blurred person keeps at most this many blocks across: a shape, never a face."""


class SnapshotRefused(VideoError):
    """A snapshot still showed a face after blurring; it is not released."""


def blur_people(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """A copy of the frame with every box (grown by MARGIN) pixelated then blurred."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for box in boxes:
        mx, my = box.width * MARGIN, box.height * MARGIN
        x1, y1 = max(int(box.x1 - mx), 0), max(int(box.y1 - my), 0)
        x2, y2 = min(int(box.x2 + mx) + 1, width), min(int(box.y2 + my) + 1, height)
        if x2 <= x1 or y2 <= y1:
            continue
        region = out[y1:y2, x1:x2]
        across = max(1, min(BLOCKS, x2 - x1))
        down = max(1, min(BLOCKS * 3, y2 - y1))
        # pixelating first destroys detail a blur alone can leave recoverable
        coarse = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(coarse, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        out[y1:y2, x1:x2] = cv2.blur(blocky, (max(3, (x2 - x1) // 4) | 1, 3))
    return out


_FACES: cv2.CascadeClassifier | None = None


def find_faces(frame: Frame) -> list[Box]:
    """Frontal faces the stock Haar cascade finds (detection only, never recognition)."""
    global _FACES  # noqa: PLW0603 - the cascade is loaded once, it is read-only afterwards
    if _FACES is None:
        _FACES = cv2.CascadeClassifier(
            str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        )
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    found = _FACES.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(16, 16))
    return [Box(x, y, x + w, y + h) for x, y, w, h in np.asarray(found).reshape(-1, 4).tolist()]


def count_faces(frame: Frame) -> int:
    """How many frontal faces the stock Haar cascade finds (detection only)."""
    return len(find_faces(frame))


def snapshot(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """The only image that may leave the package: people blurred, then any face the person
    detector missed blurred too, then checked to show no face at all."""
    blurred = blur_people(frame, boxes)
    missed = find_faces(blurred)
    if missed:
        blurred = blur_people(blurred, [_grow(f) for f in missed])
    faces = count_faces(blurred)
    if faces:
        raise SnapshotRefused(f"{faces} face(s) still detectable after blurring: not released")
    return blurred


def write_snapshot(frame: Frame, boxes: Sequence[Box], folder: Path, name: str) -> Path:
    """Write ``snapshot(frame, boxes)`` as ``folder/name.jpg``; SnapshotRefused if a face
    would show, VideoError if it cannot be written. Returns the file written."""
    safe = snapshot(frame, boxes)
    path = folder / f"{name}.jpg"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = cv2.imwrite(str(path), safe, [cv2.IMWRITE_JPEG_QUALITY, 85])
    except (OSError, cv2.error) as error:
        raise VideoError(f"cannot write snapshot {path}: {error}") from error
    if not written:
        raise VideoError(f"cannot write snapshot {path}")
    return path


def _grow(face: Box) -> Box:
    # a face box from the cascade is tight: take in hair, ears and chin
    return Box(face.x1 - face.width / 2, face.y1 - face.height / 2,
               face.x2 + face.width / 2, face.y2 + face.height)  # fmt: skip
