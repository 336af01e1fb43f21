"""The SSDLite pedestrian model through OpenCV DNN: its text graph generated here (no TensorFlow,
nothing downloaded) and cached, a graph that does not match the config refused, and people
found on real frames of the corridor video; exported to ONNX, the same people found by the onnx
detector."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.config.video import VideoSettings
from smartspaces.config.video_detectors import SsdLiteSettings
from smartspaces.detect.video.boxes import square_windows
from smartspaces.detect.video.detectors import build_detector
from smartspaces.detect.video.errors import DetectorError
from smartspaces.detect.video.ssdlite import SsdLitePersonDetector, bundled_model
from smartspaces.detect.video.ssdlite_graph import SsdConfig, text_graph
from tests.detect.video.clips import real_frames
from tests.detect.video.conftest import model_settings


def _settings(cache: Path, **extra: object) -> VideoSettings:
    return VideoSettings(
        detector="ssdlite",
        score_min=0.5,
        ssdlite=SsdLiteSettings(cache_dir=cache, **extra),  # type: ignore[arg-type]
    )


def test_people_on_real_frames_and_none_on_the_empty_corridor(
    sample_video: Path, model_cache: Path
) -> None:
    detector = build_detector(_settings(model_cache))
    empty, standing, leaving = real_frames(sample_video, [30, 150, 1300])
    assert detector.detect(empty) == []
    for frame in (standing, leaving):
        (person,) = detector.detect(frame)
        # the person at the table: head near the top, about 130-170 px wide
        assert 340 < person.centre[0] < 520 and person.y1 < 60 and person.y2 > 340
        assert 0.9 < person.score <= 1.0


def test_the_onnx_export_finds_the_same_people(
    sample_video: Path, model_cache: Path, ssdlite_onnx: Path
) -> None:
    by_opencv = build_detector(model_settings("ssdlite", model_cache))
    by_onnxruntime = build_detector(model_settings("onnx", model_cache, ssdlite_onnx))
    for frame in real_frames(sample_video, [30, 150, 600, 800, 1300]):
        expected, found = by_opencv.detect(frame), by_onnxruntime.detect(frame)
        assert len(found) == len(expected)
        for a, b in zip(found, expected, strict=True):
            # the same network on the same input: only OpenCV's and onnxruntime's arithmetic
            # (and how OpenCV pads the last, 1x1 feature map) differ
            assert abs(a.x1 - b.x1) <= 4 and abs(a.y1 - b.y1) <= 4
            assert abs(a.x2 - b.x2) <= 4 and abs(a.y2 - b.y2) <= 4
            assert a.score == pytest.approx(b.score, abs=0.15)


def test_the_text_graph_is_generated_once_and_kept(tmp_path: Path) -> None:
    SsdLitePersonDetector(_settings(tmp_path))
    (graph,) = tmp_path.glob("ssdlite-*.pbtxt")
    made = graph.stat().st_mtime_ns
    SsdLitePersonDetector(_settings(tmp_path))
    assert list(tmp_path.glob("*")) == [graph] and graph.stat().st_mtime_ns == made
    text = graph.read_text()
    assert text.count('op: "PriorBox"') == 6 and 'name: "detection_out"' in text
    assert "Postprocessor/" not in text and "Preprocessor/" not in text


def test_a_config_that_does_not_match_the_graph_is_refused() -> None:
    with pytest.raises(DetectorError, match="6 class scores per cell.*2 class"):
        text_graph(bundled_model(), SsdConfig(num_classes=2))
    with pytest.raises(DetectorError, match="no box predictor weights"):
        text_graph(bundled_model(), SsdConfig(num_layers=7))


def test_a_file_that_is_no_graph_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "model.pb"
    bogus.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(DetectorError, match="not a readable TensorFlow graph"):
        build_detector(_settings(tmp_path, model_path=bogus))
    with pytest.raises(DetectorError, match="not found"):
        build_detector(_settings(tmp_path, model_path=tmp_path / "missing.pb"))


def test_anchors_follow_the_ssd_scales() -> None:
    config = SsdConfig()
    widths, heights = config.anchors(0)
    assert len(widths) == 3 and widths[0] == pytest.approx(30.0)  # 0.1 of 300 px
    widths, heights = config.anchors(5)
    assert len(widths) == 6 and widths[0] == pytest.approx(0.95 * 300)
    assert widths[1] / heights[1] == pytest.approx(2.0)  # aspect ratio 2


@given(st.integers(32, 4000), st.integers(32, 4000))
def test_square_windows_cover_the_frame(width: int, height: int) -> None:
    windows = square_windows(width, height)
    side = min(width, height)
    assert all(s == side for _, _, s in windows)
    assert windows[0][:2] == (0, 0)
    x, y, _ = windows[-1]
    assert (x + side, y + side) == (width, height)  # the last one reaches the far edge
    starts = [x if width >= height else y for x, y, _ in windows]
    assert all(b - a <= side for a, b in zip(starts, starts[1:], strict=False))  # no gap
