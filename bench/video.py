"""Video analytics on the real Intel corridor sample (768x432, 10 fps), per person detector, CPU.

For each detector (hog, ssdlite, onnx):
- video.<detector>.fps_per_core: frames per second one core detects people in, decoding
  included, one thread (quick: the first 60 frames; full: the first 600).
- video.<detector>.cameras_per_core_at_5fps: the same figure over 5, the issue's per-camera rate.
- video.<detector>.people_count_abs_error (full only): |people counted crossing the exit line -
  people a human counted watching the frames (6)|, full pipeline, whole video at 5 fps.

The detectors: hog is OpenCV's HOG people detector at 176 px analysis height; ssdlite is the
SSDLite MobileNetV2 pedestrian model (OpenCV DNN, two 300x300 square windows per frame); onnx is
that same SSDLite model exported to ONNX by ``ssdlite_export`` (the one real detector model that
can be built here, nothing downloaded) and run by onnxruntime with one thread, two windows.

Run alone with ``python bench/video.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2

from smartspaces.config import shared_data_dir
from smartspaces.config.video import CameraSettings, LineSettings, VideoSettings
from smartspaces.config.video_detectors import OnnxSettings, SsdLiteSettings
from smartspaces.detect.video.camera import observe_camera
from smartspaces.detect.video.detectors import build_detector
from smartspaces.detect.video.frames import AnalysisSchedule, VideoSource
from smartspaces.detect.video.ssdlite_export import export_onnx

SAMPLE = "intel-sample-videos/one-by-one-person-detection.mp4"
HAND_COUNT = 6  # tests/detect/video/conftest.py records each person's frames
START = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
NOTES = {
    "hog": "768x432, HOG at 176 px height, decode included, 1 thread, CPU",
    "ssdlite": "768x432, SSDLite MobileNetV2 (OpenCV DNN), 2 windows of 300x300, decode "
    "included, 1 thread, CPU",
    "onnx": "768x432, the SSDLite model exported to ONNX here (onnxruntime, CPU provider), "
    "2 windows of 300x300, decode included, 1 thread",
}


def detector_settings(name: str, cache: Path) -> VideoSettings:
    """The settings the tests use for each detector."""
    if name == "hog":
        return VideoSettings(detector="hog")
    ssdlite = SsdLiteSettings(cache_dir=cache)
    if name == "ssdlite":
        return VideoSettings(detector="ssdlite", score_min=0.2, ssdlite=ssdlite)
    model = cache / "ssdlite.onnx"
    if not model.is_file():
        export_onnx(model, cache)
    onnx = OnnxSettings(model_path=model, mean=127.5, scale=1 / 127.5, windows=True,
                        resize="stretch", threads=1, use_cuda=False)  # fmt: skip
    return VideoSettings(detector="onnx", score_min=0.2, onnx=onnx)


def fps_per_core(path: str, settings: VideoSettings, max_frames: int) -> float:
    cv2.setNumThreads(1)  # one core: the figure scales by cores, not by OpenCV's thread pool
    detector = build_detector(settings)
    source = VideoSource(path, settings)
    frames = 0
    started = time.perf_counter()
    for timed in source.frames(AnalysisSchedule(1000, 1)):
        detector.detect(timed.frame)
        frames += 1
        if frames >= max_frames:
            break
    elapsed = time.perf_counter() - started
    source.close()
    return frames / elapsed


def count_error(path: str, settings: VideoSettings) -> int:
    camera = CameraSettings(
        id="cam-corridor", url=path, anchor="centre",
        lines=[LineSettings(id="exit", space_id="corridor", a=(480, 0), b=(480, 432))],
    )  # fmt: skip
    out = observe_camera(camera, settings, clock=lambda: START, file_start=START)
    counted = sum(o.value for o in out if o.quantity in {"entries_count", "exits_count"})
    return abs(int(counted) - HAND_COUNT)


def run(quick: bool) -> list[dict[str, Any]]:
    path = shared_data_dir() / SAMPLE
    if not path.is_file():
        print(f"video bench skipped: {path} is absent (set SMARTSPACES_DATA)", file=sys.stderr)
        return []
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in ("hog", "ssdlite", "onnx"):
            settings = detector_settings(name, Path(folder))
            fps = fps_per_core(str(path), settings, 60 if quick else 600)
            figures += [
                {"name": f"video.{name}.fps_per_core", "value": round(fps, 1),
                 "unit": "frames/s", "note": NOTES[name]},
                {"name": f"video.{name}.cameras_per_core_at_5fps", "value": round(fps / 5, 2),
                 "unit": "cameras", "note": "fps_per_core / 5"},
            ]  # fmt: skip
            if not quick:
                figures.append(
                    {
                        "name": f"video.{name}.people_count_abs_error",
                        "value": count_error(str(path), settings),
                        "unit": "people",
                        "note": f"line crossings vs {HAND_COUNT} by hand, whole video at 5 fps",
                    }
                )
    return figures


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
