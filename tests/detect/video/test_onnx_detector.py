"""The ONNX detector's plumbing with small models built here with the onnx helper API: each
really runs in onnxruntime on real frames, computing its boxes' scores from the image, so
pre-processing, output parsing, the person class, the score threshold and NMS are all exercised;
and models of the wrong shape are refused at load with a message that says what was expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from smartspaces.config.video import VideoSettings
from smartspaces.config.video_detectors import OnnxSettings
from smartspaces.detect.video.boxes import Frame
from smartspaces.detect.video.detectors import build_detector
from smartspaces.detect.video.errors import DetectorError
from tests.detect.video.clips import real_frames

SIDE = 320
# rows x1, y1, x2, y2 (input pixels), score per unit of mean input, class
ROWS = [
    (100.0, 80.0, 180.0, 240.0, 1.8, 0.0),  # a person: score 0.9 at mean input 0.5
    (104.0, 84.0, 182.0, 238.0, 1.6, 0.0),  # the same person again, weaker: NMS removes it
    (220.0, 90.0, 300.0, 230.0, 1.8, 2.0),  # not a person (class 2)
    (10.0, 100.0, 60.0, 200.0, 0.2, 0.0),  # a person too faint for the threshold
]


def _model(
    path: Path,
    rows: list[tuple[float, ...]] = ROWS,
    layout: str = "boxes",
    input_shape: list[int | str] | None = None,
    input_type: int = TensorProto.FLOAT,
    extra_input: bool = False,
) -> Path:
    """A detector whose boxes are fixed and whose scores are factor x mean(input): a frame
    brings its people's scores up, a black frame finds nobody."""
    n = len(rows)
    boxes = np.array([r[:4] for r in rows], np.float32)
    factors = np.array([[r[4]] for r in rows], np.float32)
    classes = np.array([[r[5]] for r in rows], np.float32)
    nodes = [
        helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
        helper.make_node("ReduceMean", ["image_f"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["factors", "mean"], ["scores"]),
    ]
    inits = [
        helper.make_tensor("factors", TensorProto.FLOAT, [n, 1], factors.ravel()),
        helper.make_tensor("classes", TensorProto.FLOAT, [n, 1], classes.ravel()),
    ]
    if layout == "ssd":  # image_id, class, score, x1, y1, x2, y2 (0-1)
        inits += [
            helper.make_tensor("zeros", TensorProto.FLOAT, [n, 1], np.zeros(n, np.float32)),
            helper.make_tensor("boxes", TensorProto.FLOAT, [n, 4], (boxes / SIDE).ravel()),
            helper.make_tensor("shape", TensorProto.INT64, [4], [1, 1, n, 7]),
        ]
        nodes += [
            helper.make_node("Concat", ["zeros", "classes", "scores", "boxes"], ["rows"], axis=1),
            helper.make_node("Reshape", ["rows", "shape"], ["detections"]),
        ]
        out_shape: list[int | str] = [1, 1, n, 7]
    else:
        width = {"boxes": 6, "five": 5}[layout]
        inits.append(helper.make_tensor("boxes", TensorProto.FLOAT, [n, 4], boxes.ravel()))
        parts = ["boxes", "scores", "classes"] if width == 6 else ["boxes", "scores"]
        nodes.append(helper.make_node("Concat", parts, ["detections"], axis=1))
        out_shape = [n, width]
    inputs = [helper.make_tensor_value_info("image", input_type, input_shape or [1, 3, SIDE, SIDE])]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1]))
    graph = helper.make_graph(
        nodes,
        "constant-boxes",
        inputs,
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _settings(path: Path, nms_iou: float = 0.4, **onnx_settings: object) -> VideoSettings:
    return VideoSettings(
        detector="onnx",
        score_min=0.3,
        nms_iou=nms_iou,
        onnx=OnnxSettings(model_path=path, use_cuda=False, **onnx_settings),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def frame(sample_video: Path) -> Frame:
    return next(real_frames(sample_video, [150]))


def test_boxes_model_on_a_real_frame(tmp_path: Path, frame: Frame) -> None:
    detector = build_detector(_settings(_model(tmp_path / "m.onnx")))
    assert detector.name == "onnx" and detector.provider == "CPUExecutionProvider"  # type: ignore[attr-defined]
    mean = float((frame[..., ::-1] / 255.0).mean())  # what the model sees, letterbox aside
    boxes = detector.detect(frame)
    assert len(boxes) == 1  # the duplicate suppressed, the car and the faint one dropped
    box = boxes[0]
    # letterboxed 768x432 -> 320x180, 70 px of padding above: mapped back to the frame
    scale = SIDE / 768
    assert box.x1 == pytest.approx(100 / scale, abs=1) and box.x2 == pytest.approx(
        180 / scale, abs=1
    )
    assert box.y1 == pytest.approx((80 - 70) / scale, abs=1)
    assert box.y2 == pytest.approx((240 - 70) / scale, abs=1)
    # the score is the model's own computation on the letterboxed frame (padding is black)
    assert 0.3 < box.score < 1.8 * mean


def test_overlap_suppression_is_what_removes_the_duplicate(tmp_path: Path, frame: Frame) -> None:
    lenient = build_detector(_settings(_model(tmp_path / "m.onnx"), nms_iou=0.99))
    assert [round(b.x1 * SIDE / 768) for b in lenient.detect(frame)] == [100, 104]


def test_a_black_frame_finds_nobody(tmp_path: Path) -> None:
    detector = build_detector(_settings(_model(tmp_path / "m.onnx")))
    assert detector.detect(np.zeros((432, 768, 3), np.uint8)) == []


def test_ssd_model_with_free_input_size_and_stretching(tmp_path: Path, frame: Frame) -> None:
    path = _model(tmp_path / "ssd.onnx", layout="ssd", input_shape=["n", 3, "h", "w"])
    settings = _settings(
        path, output="ssd", person_class=0, resize="stretch", input_size=(SIDE, SIDE)
    )
    boxes = build_detector(settings).detect(frame)
    assert len(boxes) == 1
    # stretched: x by 768/320, y by 432/320
    assert boxes[0].x1 == pytest.approx(100 * 768 / SIDE, abs=1)
    assert boxes[0].y2 == pytest.approx(240 * 432 / SIDE, abs=1)


def test_normalised_boxes_and_another_person_class(tmp_path: Path, frame: Frame) -> None:
    rows = [(r[0] / SIDE, r[1] / SIDE, r[2] / SIDE, r[3] / SIDE, r[4], r[5]) for r in ROWS]
    settings = _settings(_model(tmp_path / "n.onnx", rows), normalized=True, person_class=2)
    boxes = build_detector(settings).detect(frame)
    assert len(boxes) == 1 and boxes[0].x1 == pytest.approx(220 * 768 / SIDE, abs=1)


@pytest.mark.parametrize(
    ("build", "settings", "message"),
    [
        (lambda p: _model(p, layout="five"), {}, r"\[N, 6\] or \[1, N, 6\]"),
        (lambda p: _model(p), {"output": "ssd"}, r"\[1, 1, N, 7\]"),
        (lambda p: _model(p, extra_input=True), {}, "2 inputs"),
        (lambda p: _model(p, input_shape=[1, 1, SIDE, SIDE]), {}, r"N x 3 x H x W"),
        (lambda p: _model(p, input_type=TensorProto.UINT8), {}, "float32"),
        (lambda p: p.write_bytes(b"not a model at all") and p, {}, "cannot load"),
        (lambda p: p, {}, "not found"),
    ],
)
def test_wrong_models_are_refused_at_load(
    tmp_path: Path, build: object, settings: dict[str, object], message: str
) -> None:
    path = build(tmp_path / "bad.onnx")  # type: ignore[operator]
    with pytest.raises(DetectorError, match=message):
        build_detector(_settings(path, **settings))


def test_the_onnx_detector_needs_a_model_path() -> None:
    with pytest.raises(ValueError, match="onnx.model_path"):
        VideoSettings(detector="onnx")
