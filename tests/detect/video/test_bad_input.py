"""Bad input through the whole camera pipeline: a corrupt file, a stream that never opens, a
stream that stalls mid-way (a real local MJPEG server that stops sending), a zero-size frame,
a collinear calibration. Each ends in a clear error (and a ``video.stream_lost`` Detection for
a source), within a bounded time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from smartspaces.config.video import CameraSettings, VideoSettings
from smartspaces.detect.video.errors import FrameError, VideoSourceError
from smartspaces.detect.video.frames import TimedFrame
from smartspaces.detect.video.pipeline import CameraPipeline, VideoEvent, watch_camera
from smartspaces.events import Detection, Observation
from tests.detect.video.clips import real_frames
from tests.detect.video.conftest import finish_within

START = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
FAST = VideoSettings(open_timeout_s=1, reconnect_attempts=1, reconnect_backoff_s=0.05)


def _camera(url: str) -> CameraSettings:
    return CameraSettings(id="cam-7", url=url, space_id="plaza")


def _watch(url: str) -> tuple[list[VideoEvent], Exception | None]:
    events: list[VideoEvent] = []
    try:
        for event in watch_camera(_camera(url), FAST, clock=lambda: START, file_start=START):
            events.append(event)
    except VideoSourceError as error:
        return events, error
    return events, None


def _lost(events: list[VideoEvent]) -> Detection:
    (lost,) = [e for e in events if isinstance(e, Detection)]
    assert lost.detection_type == "video.stream_lost" and lost.space_id == "plaza"
    assert lost.attributes["camera_id"] == lost.attributes["device_id"] == "cam-7"
    return lost


def test_a_corrupt_file_is_a_lost_source_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "cam.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 200)
    events, error = finish_within(30, lambda: _watch(str(path)))
    assert isinstance(error, VideoSourceError)
    assert "corrupt" in _lost(events).summary or "cannot open" in _lost(events).summary


def test_a_stream_that_never_opens_fails_fast_without_its_password() -> None:
    events, error = finish_within(30, lambda: _watch("rtsp://viewer:hunter2@127.0.0.1:9/cam"))
    assert isinstance(error, VideoSourceError) and "cannot open" in str(error)
    lost = _lost(events)
    assert "hunter2" not in lost.summary and "hunter2" not in lost.model_dump_json()


@pytest.fixture
def stalling_stream(sample_video: Path) -> Iterator[str]:
    """A real MJPEG-over-HTTP camera serving 4 s of the corridor, then going silent with the
    connection open; later connections get headers and silence."""
    jpegs = [cv2.imencode(".jpg", f)[1].tobytes() for f in real_frames(sample_video, range(40))]
    served = []
    quiet = threading.Event()

    class Camera(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for jpeg in jpegs if len(served) == 1 else []:
                head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                self.wfile.write(head.encode() + jpeg + b"\r\n")
                self.wfile.flush()
                time.sleep(0.1)
            quiet.wait(60)  # stalled: nothing more, connection kept open

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cam.mjpg"
    quiet.set()
    server.shutdown()
    server.server_close()


def test_a_stream_that_stalls_is_lost_within_its_timeouts(stalling_stream: str) -> None:
    started = time.monotonic()
    events, error = finish_within(30, lambda: _watch(stalling_stream))
    # 4 s of frames, then: a read timeout (1 s), one reconnect that cannot open (1 s)
    assert time.monotonic() - started < 15
    assert isinstance(error, VideoSourceError) and "did not come back" in str(error)
    assert not any(isinstance(e, Observation) for e in events)  # no zones or lines here
    assert "stream lost" in _lost(events).summary


def test_a_zero_size_frame_is_refused_by_the_pipeline() -> None:
    pipeline = CameraPipeline(_camera("rtsp://camera.invalid/1"), VideoSettings())
    for frame in (np.zeros((0, 0, 3), np.uint8), np.zeros((432, 0, 3), np.uint8)):
        with pytest.raises(FrameError, match="below the smallest side"):
            pipeline.step(TimedFrame(frame, START, 0), START)


def test_a_collinear_calibration_is_refused_when_the_settings_load() -> None:
    with pytest.raises(ValidationError, match="collinear"):
        CameraSettings.model_validate(
            {
                "id": "cam-7",
                "url": "rtsp://camera.invalid/1",
                "space_id": "plaza",
                "calibration": {
                    "image_points": [[0, 0], [100, 100], [200, 200], [300, 300]],
                    "ground_points": [[0, 0], [1, 0], [0, 1], [1, 1]],
                },
            }
        )
