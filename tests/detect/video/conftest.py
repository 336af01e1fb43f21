"""The Intel sample videos (the corridor, its people counted by hand; the car park), the model
files the tests generate, and a guard against hangs.

Ground truth (watched frame by frame in 10-frame steps, 10 fps): six people, one at a time,
come in from the lower left, stand with their back to the camera in front of the table, and
leave by the right edge. First frame each is visible and the first frame they are gone:
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from smartspaces.config.video import VideoSettings
from smartspaces.config.video_detectors import OnnxSettings, SsdLiteSettings
from smartspaces.detect.video.ssdlite_export import export_onnx
from tests.conftest import shared_data

T = TypeVar("T")

SAMPLE = "intel-sample-videos/one-by-one-person-detection.mp4"

PEOPLE_FRAMES = [(70, 200), (230, 450), (510, 700), (750, 870), (930, 1200), (1240, 1380)]
"""(first visible, gone) frame numbers of each of the six people, +-10 frames."""


@pytest.fixture(scope="session")
def sample_video() -> Path:
    return shared_data(SAMPLE)


CARS = "intel-sample-videos/car-detection.mp4"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder for generated model files, shared by the session's tests."""
    return tmp_path_factory.mktemp("video-models")


@pytest.fixture(scope="session")
def ssdlite_onnx(model_cache: Path) -> Path:
    """The SSDLite pedestrian model exported to ONNX (here, from the installed package)."""
    return export_onnx(model_cache / "ssdlite.onnx", model_cache)


def model_settings(detector: str, cache: Path, onnx_model: Path | None = None) -> VideoSettings:
    """Settings for the two model detectors as the tests and the bench run them: the SSDLite
    model through OpenCV, or its ONNX export through onnxruntime (same windows, same input)."""
    if detector == "ssdlite":
        return VideoSettings(
            detector="ssdlite", score_min=0.2, ssdlite=SsdLiteSettings(cache_dir=cache)
        )
    onnx = OnnxSettings(model_path=onnx_model, mean=127.5, scale=1 / 127.5, windows=True,
                        resize="stretch", use_cuda=False)  # fmt: skip
    return VideoSettings(detector="onnx", score_min=0.2, onnx=onnx)


@pytest.fixture(scope="session")
def car_video() -> Path:
    return shared_data(CARS)


def finish_within(seconds: float, work: Callable[[], T]) -> T:
    """Run ``work`` and return its result, failing the test if it takes over ``seconds``
    (a hang fails fast instead of stalling the suite; the thread is a daemon)."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the test's thread below
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it hangs"
    if errors:
        raise errors[0]
    return outcome[0]
