"""Anonymising snapshots: every person box pixelated and blurred before a frame may leave.

Raw frames never leave the video package. The only image that may is ``snapshot``'s: people
blurred beyond recognition, then checked with OpenCV's stock face *detector* (a Haar cascade,
used only to find faces a person detector missed, blur them too, and prove there is no face
left to see; nothing is ever recognised). ``write_snapshot`` is the one place that writes such
an image to disk, in two views: the blurred snapshot, and the same with every person covered
by an opaque shaded box (``shaded_path``), which is what an operator sees until they confirm a
threat.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from smartspaces.detect.video.boxes import Box, Frame
from smartspaces.detect.video.errors import VideoError
from smartspaces.detect.video.snapshot_files import shaded_path

MARGIN = 0.15
"""Boxes are grown by this share of their size: detector boxes often clip heads and hands."""

BLOCKS = 6
"""A blurred person keeps at most this many blocks across: a shape, never a face."""

SHADE = (96, 72, 56)
"""BGR fill of a shaded person (slate blue), and its lighter outline below."""
SHADE_EDGE = (200, 170, 140)


class SnapshotRefused(VideoError):
    """A snapshot still showed a face after blurring; it is not released."""


def blur_people(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """A copy of the frame with every box (grown by MARGIN) pixelated then blurred."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for x1, y1, x2, y2 in _grown(boxes, width, height):
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
    """Write ``snapshot(frame, boxes)`` as ``folder/name.jpg`` and its shaded view (people as
    opaque boxes) beside it (``shaded_path``); SnapshotRefused if a face would show in either,
    VideoError if they cannot be written. Returns the blurred snapshot's file."""
    safe = snapshot(frame, boxes)
    shaded = shade_people(safe, boxes)
    if count_faces(shaded):  # cannot show more than the blurred view, but checked all the same
        raise SnapshotRefused("a face is detectable in the shaded view: not released")
    path = folder / f"{name}.jpg"
    # the shaded view first: a blurred snapshot never exists without the view shown by default
    for target, image in ((shaded_path(path), shaded), (path, safe)):
        _write(target, image)
    return path


def _write(path: Path, image: Frame) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        written = cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    except (OSError, cv2.error) as error:
        raise VideoError(f"cannot write snapshot {path}: {error}") from error
    if not written:
        raise VideoError(f"cannot write snapshot {path}")


def shade_people(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """A copy of the frame with every box (grown by MARGIN, as blurring does) filled with an
    opaque shade: where a person is and how big, nothing of how they look."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for x1, y1, x2, y2 in _grown(boxes, width, height):
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), SHADE, thickness=-1)
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), SHADE_EDGE, thickness=2)
    return out


def _grown(boxes: Sequence[Box], width: int, height: int) -> list[tuple[int, int, int, int]]:
    regions = []
    for box in boxes:
        mx, my = box.width * MARGIN, box.height * MARGIN
        x1, y1 = max(int(box.x1 - mx), 0), max(int(box.y1 - my), 0)
        x2, y2 = min(int(box.x2 + mx) + 1, width), min(int(box.y2 + my) + 1, height)
        if x2 > x1 and y2 > y1:
            regions.append((x1, y1, x2, y2))
    return regions


def _grow(face: Box) -> Box:
    # a face box from the cascade is tight: take in hair, ears and chin
    return Box(face.x1 - face.width / 2, face.y1 - face.height / 2,
               face.x2 + face.width / 2, face.y2 + face.height)  # fmt: skip
