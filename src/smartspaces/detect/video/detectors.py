"""Person detectors behind one small interface, chosen by name in the settings.

- ``hog``: OpenCV's built-in HOG + linear SVM people detector; bundled with OpenCV, CPU only,
  the zero-dependency default.
- ``ssdlite``: the SSDLite MobileNetV2 pedestrian model (``ssdlite.py``), OpenCV DNN, CPU.
- ``onnx``: any detector model file given by path (``onnx_detector.py``), onnxruntime, on the
  GPU where onnxruntime has CUDA.

Nothing is downloaded at run time. Example::

    detector = build_detector(VideoSettings())
    boxes = detector.detect(frame)  # person boxes in the frame's own pixels
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from smartspaces.config.video import VideoSettings
from smartspaces.detect.video.boxes import Box, Frame, suppress_overlaps
from smartspaces.detect.video.errors import DetectorError
from smartspaces.detect.video.frames import check_frame
from smartspaces.detect.video.onnx_detector import OnnxPersonDetector
from smartspaces.detect.video.ssdlite import SsdLitePersonDetector


class PersonDetector(Protocol):
    """Finds people in one frame. Pure with respect to the frame: it is neither kept nor
    changed, so the same frame always gives the same boxes."""

    name: str

    def detect(self, frame: Frame) -> list[Box]:
        """Person boxes in the frame's pixel coordinates, best first."""
        ...


HOG_WINDOW = (64, 128)
HOG_BORDER_PX = 40
"""Border added around the scaled frame: the HOG window (64x128 with a margin around the body)
must fit around a person whose head or feet touch the frame's edge, common at close range."""


class HogPersonDetector:
    """OpenCV's default people detector on a frame scaled to ``analysis_height_px``."""

    name = "hog"

    def __init__(self, settings: VideoSettings) -> None:
        self._height = settings.analysis_height_px
        self._score_min = settings.score_min
        self._settings = settings
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(
            np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
        )

    def detect(self, frame: Frame) -> list[Box]:
        check_frame(frame, self._settings)
        scale = self._height / frame.shape[0]
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        b = HOG_BORDER_PX
        padded = cv2.copyMakeBorder(small, b, b, b, b, cv2.BORDER_REPLICATE)
        rects, weights = self._hog.detectMultiScale(
            padded, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        height, width = frame.shape[:2]
        boxes = []
        for (x, y, w, h), weight in zip(
            np.asarray(rects).reshape(-1, 4), np.asarray(weights).reshape(-1), strict=True
        ):
            score = float(weight)
            if score < self._score_min:
                continue
            # back to the frame's pixels, clipped to the frame (the border is not the scene)
            x1, y1 = max((x - b) / scale, 0.0), max((y - b) / scale, 0.0)
            x2, y2 = min((x + w - b) / scale, float(width)), min((y + h - b) / scale, float(height))
            if x2 > x1 and y2 > y1:
                boxes.append(Box(float(x1), float(y1), float(x2), float(y2), score))
        return suppress_overlaps(boxes, self._settings.nms_iou)


DETECTORS: dict[str, Callable[[VideoSettings], PersonDetector]] = {
    "hog": HogPersonDetector,
    "ssdlite": SsdLitePersonDetector,
    "onnx": OnnxPersonDetector,
}
"""Every detector by its settings name: an explicit registry, no import-time discovery."""


def build_detector(settings: VideoSettings) -> PersonDetector:
    """The detector the settings name; raises DetectorError if it cannot be built."""
    factory = DETECTORS.get(settings.detector)
    if factory is None:
        raise DetectorError(f"unknown person detector {settings.detector!r}")
    return factory(settings)
