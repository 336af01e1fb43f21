"""Test clips the tests make from the real corridor video: an object composited onto the
floor for a known interval, frames repeated (a frozen camera), blacked out (a covered lens), or
another real scene spliced in (a turned camera). Written as MJPEG AVI files, so they go through
the same VideoSource as any camera file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from smartspaces.detect.video.boxes import Frame

CLIP_FPS = 5.0


def real_frames(path: Path, indices: Iterable[int]) -> Iterator[Frame]:
    """The frames of ``path`` at ``indices`` (ascending), decoded in one pass."""
    wanted = sorted(set(indices))
    capture = cv2.VideoCapture(str(path))
    index = 0
    try:
        for target in wanted:
            while index < target:
                if not capture.grab():
                    return
                index += 1
            ok, frame = capture.read()
            index += 1
            if not ok:
                return
            yield np.asarray(frame, dtype=np.uint8)
    finally:
        capture.release()


def bag(width: int = 54, height: int = 42, seed: int = 7) -> tuple[Frame, np.ndarray]:
    """A small dark suitcase, textured like a real one, and its mask (1 inside)."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    cv2.rectangle(mask, (2, 10), (width - 3, height - 1), 1, -1)
    cv2.rectangle(mask, (width // 2 - 9, 0), (width // 2 + 9, 12), 1, 3)  # the handle
    body = np.full((height, width, 3), (70, 40, 25), np.uint8)  # navy blue, BGR
    noise = rng.normal(0, 6, (height, width, 1))
    image[:] = np.clip(body + noise, 0, 255).astype(np.uint8)
    cv2.line(image, (4, height // 2), (width - 5, height // 2), (40, 25, 15), 2)  # a seam
    return image, mask


def paste(frame: Frame, thing: tuple[Frame, np.ndarray], at: tuple[int, int]) -> Frame:
    """A copy of ``frame`` with ``thing`` set down with its top-left corner at ``at``."""
    image, mask = thing
    out = frame.copy()
    x, y = at
    h, w = mask.shape
    region = out[y : y + h, x : x + w]
    # a soft contact shadow under the object, then the object itself
    shadow = cv2.GaussianBlur(mask.astype(np.float32), (9, 9), 0)[..., None] * 0.35
    region[:] = (region * (1 - shadow)).astype(np.uint8)
    region[mask > 0] = image[mask > 0]
    return out


def write_clip(path: Path, frames: Iterable[Frame], fps: float = CLIP_FPS) -> Path:
    """Write frames as an MJPEG AVI (decodable by OpenCV's FFmpeg everywhere)."""
    writer: cv2.VideoWriter | None = None
    for frame in frames:
        if writer is None:
            height, width = frame.shape[:2]
            writer = cv2.VideoWriter(
                str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height)
            )
        writer.write(frame)
    if writer is not None:
        writer.release()
    return path


def ping_pong(frames: list[Frame], count: int) -> list[Frame]:
    """``count`` frames going back and forth over ``frames`` (an empty scene, looped without
    a jump)."""
    cycle = frames + frames[-2:0:-1]
    return [cycle[i % len(cycle)] for i in range(count)]
