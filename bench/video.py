"""Video analytics on the real Intel corridor sample (768x432, 10 fps), HOG detector, CPU.

- video.hog.fps_per_core: frames per second one core detects people in (HOG at the default
  analysis height), decoding included; the whole video (quick: its first 300 frames).
- video.hog.cameras_per_core_at_5fps: the same figure over 5, the issue's per-camera rate.
- video.people_count_abs_error: |people counted crossing the exit line - people a human counted
  watching the frames (6)|, full pipeline at 5 fps (quick: skipped).

Run alone with ``python bench/video.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import cv2

from smartspaces.config import shared_data_dir
from smartspaces.detect.video.camera import observe_camera
from smartspaces.detect.video.detectors import build_detector
from smartspaces.detect.video.frames import AnalysisSchedule, VideoSource
from smartspaces.detect.video.settings import CameraSettings, LineSettings, VideoSettings

SAMPLE = "intel-sample-videos/one-by-one-person-detection.mp4"
HAND_COUNT = 6  # tests/detect/video/conftest.py records each person's frames
START = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


def fps_per_core(path: str, max_frames: int) -> float:
    cv2.setNumThreads(1)  # one core: the figure scales by cores, not by OpenCV's thread pool
    settings = VideoSettings()
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


def count_error(path: str) -> int:
    camera = CameraSettings(
        id="cam-corridor", url=path, anchor="centre",
        lines=[LineSettings(id="exit", space_id="corridor", a=(480, 0), b=(480, 432))],
    )  # fmt: skip
    out = observe_camera(camera, VideoSettings(), clock=lambda: START, file_start=START)
    counted = sum(o.value for o in out if o.quantity in {"entries_count", "exits_count"})
    return abs(int(counted) - HAND_COUNT)


def run(quick: bool) -> list[dict[str, Any]]:
    path = shared_data_dir() / SAMPLE
    if not path.is_file():
        print(f"video bench skipped: {path} is absent (set SMARTSPACES_DATA)", file=sys.stderr)
        return []
    fps = fps_per_core(str(path), 300 if quick else 10_000)
    figures: list[dict[str, Any]] = [
        {"name": "video.hog.fps_per_core", "value": round(fps, 1), "unit": "frames/s",
         "note": "768x432, HOG at 176 px height, decode included, 1 thread, CPU"},
        {"name": "video.hog.cameras_per_core_at_5fps", "value": round(fps / 5, 2),
         "unit": "cameras", "note": "fps_per_core / 5"},
    ]  # fmt: skip
    if not quick:
        figures.append(
            {
                "name": "video.people_count_abs_error",
                "value": count_error(str(path)),
                "unit": "people",
                "note": f"line crossings vs {HAND_COUNT} by hand",
            }
        )
    return figures


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
