"""Any ONNX detector file as a person detector, run by onnxruntime (CUDA when it has it).

The model's input and output must follow one of the conventions ``OnnxSettings`` documents
(``boxes``: [N, 6] x1, y1, x2, y2, score, class; ``ssd``: [1, 1, N, 7]). Both are checked when
the model is loaded, from its declared shapes and from one dry run, so a wrong file fails at
start-up with a message saying what was expected, never with garbage boxes later.

Example::

    settings = VideoSettings(detector="onnx", onnx=OnnxSettings(model_path=Path("yolo.onnx")))
    boxes = build_detector(settings).detect(frame)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort  # type: ignore[import-untyped]  # no stubs, no py.typed

from smartspaces.config.video import VideoSettings
from smartspaces.detect.video.boxes import Box, Frame, square_windows, suppress_overlaps
from smartspaces.detect.video.errors import DetectorError
from smartspaces.detect.video.frames import check_frame

MAX_ROWS = 100_000
"""More candidate boxes than this from one frame is a broken model, not a crowd."""

WINDOW_INSIDE = 0.7
"""With windows: a box this much inside a better one is a person cut by a window's edge."""

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Fit:
    """How a frame was placed in the model's input: input = frame * scale + pad."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float


def providers(use_cuda: bool) -> list[str]:
    """onnxruntime providers, best first: CUDA only if this onnxruntime build has it."""
    available = ort.get_available_providers()
    chosen = ["CUDAExecutionProvider"] if use_cuda and "CUDAExecutionProvider" in available else []
    return [*chosen, "CPUExecutionProvider"]


class OnnxPersonDetector:
    """Person boxes from an ONNX model: letterbox or stretch, normalise, run, parse, NMS."""

    name = "onnx"

    def __init__(self, settings: VideoSettings) -> None:
        self._settings = settings
        s = settings.onnx
        path = s.model_path
        if path is None:
            raise DetectorError("the onnx detector needs onnx.model_path")
        if not path.is_file():
            raise DetectorError(f"ONNX model file not found: {path}")
        size = path.stat().st_size
        if not 0 < size <= s.max_bytes:
            raise DetectorError(f"ONNX model file {path} has {size} bytes (1 to {s.max_bytes})")
        options = ort.SessionOptions()
        options.intra_op_num_threads = s.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(path), options, providers=providers(s.use_cuda)
            )
        except Exception as error:  # onnxruntime raises untyped pybind errors for bad files
            raise DetectorError(f"onnxruntime cannot load {path}: {error}") from error
        self._input, self._output, self._size = self._check_signature()
        self.provider = self._session.get_providers()[0]
        width, height = self._size
        self._rows(self._run(np.zeros((1, 3, height, width), np.float32)))  # dry run

    def _check_signature(self) -> tuple[str, str, tuple[int, int]]:
        s = self._settings.onnx
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1:
            raise DetectorError(f"the model has {len(inputs)} inputs; expected one image tensor")
        shape = list(inputs[0].shape)
        # a dimension is an int when fixed, a name or None when free
        three = len(shape) == 4 and (shape[1] == 3 or not isinstance(shape[1], int))
        if inputs[0].type != "tensor(float)" or not three:
            raise DetectorError(
                f"the model's input is {inputs[0].type} {shape}; expected float32 "
                "N x 3 x H x W (NCHW)"
            )
        height = shape[2] if isinstance(shape[2], int) else s.input_size[1]
        width = shape[3] if isinstance(shape[3], int) else s.input_size[0]
        if not outputs:
            raise DetectorError("the model has no output")
        declared = list(outputs[0].shape)
        last = declared[-1] if declared else None
        want = 6 if s.output == "boxes" else 7
        if isinstance(last, int) and last != want:
            raise DetectorError(self._shape_message(declared))
        return inputs[0].name, outputs[0].name, (int(width), int(height))

    def _shape_message(self, shape: object) -> str:
        if self._settings.onnx.output == "boxes":
            return (
                f"the model's first output has shape {shape}; the 'boxes' convention is "
                "[N, 6] or [1, N, 6]: x1, y1, x2, y2, score, class"
            )
        return (
            f"the model's first output has shape {shape}; the 'ssd' convention is "
            "[1, 1, N, 7]: image_id, class, score, x1, y1, x2, y2 (0-1)"
        )

    def _run(self, tensor: FloatArray) -> npt.NDArray[np.generic]:
        try:
            out = self._session.run([self._output], {self._input: tensor})[0]
        except Exception as error:  # shape or type mismatch inside the model
            raise DetectorError(f"the ONNX model failed on a frame: {error}") from error
        return np.asarray(out)

    def _rows(self, out: npt.NDArray[np.generic]) -> FloatArray:
        """The output as [N, 6] rows x1, y1, x2, y2, score, class in input pixels."""
        s = self._settings.onnx
        if not np.issubdtype(out.dtype, np.number):
            raise DetectorError(self._shape_message(f"{list(out.shape)} of {out.dtype}"))
        width, height = self._size
        if s.output == "boxes":
            if not (out.ndim == 2 or (out.ndim == 3 and out.shape[0] == 1)) or out.shape[-1] != 6:
                raise DetectorError(self._shape_message(list(out.shape)))
            rows = out.reshape(-1, 6).astype(np.float32)
            if s.normalized:
                rows[:, [0, 2]] *= width
                rows[:, [1, 3]] *= height
        else:
            if out.ndim != 4 or out.shape[:2] != (1, 1) or out.shape[-1] != 7:
                raise DetectorError(self._shape_message(list(out.shape)))
            raw = out.reshape(-1, 7).astype(np.float32)
            rows = np.stack(
                [raw[:, 3] * width, raw[:, 4] * height, raw[:, 5] * width, raw[:, 6] * height,
                 raw[:, 2], raw[:, 1]],
                axis=1,
            )  # fmt: skip
        if len(rows) > MAX_ROWS:
            raise DetectorError(f"the model gave {len(rows)} boxes for one frame (>{MAX_ROWS})")
        return rows[np.isfinite(rows).all(axis=1)]

    def _prepare(self, frame: Frame) -> tuple[FloatArray, _Fit]:
        s = self._settings.onnx
        width, height = self._size
        h, w = frame.shape[:2]
        if s.resize == "stretch":
            image = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
            fit = _Fit(width / w, height / h, 0.0, 0.0)
        else:
            scale = min(width / w, height / h)
            new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
            pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
            image = np.zeros((height, width, 3), np.uint8)
            image[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
                frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR
            )
            fit = _Fit(scale, scale, float(pad_x), float(pad_y))
        if not s.bgr:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        tensor = (image.astype(np.float32) - s.mean) * s.scale
        return np.ascontiguousarray(tensor.transpose(2, 0, 1)[None]), fit

    def detect(self, frame: Frame) -> list[Box]:
        check_frame(frame, self._settings)
        height, width = frame.shape[:2]
        if not self._settings.onnx.windows:
            return suppress_overlaps(self._detect_part(frame), self._settings.nms_iou)
        boxes = []
        for x, y, side in square_windows(width, height):
            boxes += [b.shifted(x, y) for b in self._detect_part(frame[y : y + side, x : x + side])]
        return suppress_overlaps(boxes, self._settings.nms_iou, WINDOW_INSIDE)

    def _detect_part(self, image: Frame) -> list[Box]:
        """Person boxes in ``image``'s own pixels."""
        tensor, fit = self._prepare(image)
        rows = self._rows(self._run(tensor))
        s = self._settings
        keep = (rows[:, 5].round() == s.onnx.person_class) & (rows[:, 4] >= s.score_min)
        h, w = image.shape[:2]
        boxes = []
        for x1, y1, x2, y2, score, _ in rows[keep].tolist():
            box = Box(
                min(max((x1 - fit.pad_x) / fit.scale_x, 0.0), float(w)),
                min(max((y1 - fit.pad_y) / fit.scale_y, 0.0), float(h)),
                min(max((x2 - fit.pad_x) / fit.scale_x, 0.0), float(w)),
                min(max((y2 - fit.pad_y) / fit.scale_y, 0.0), float(h)),
                float(score),
            )
            if box.width > 1 and box.height > 1:
                boxes.append(box)
        return boxes
