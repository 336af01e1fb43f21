"""Frame sources and the analysis schedule: the rate policy, and hostile input refused clearly."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartspaces.config.video import VideoSettings
from smartspaces.detect.video.errors import FrameError, VideoSourceError
from smartspaces.detect.video.frames import AnalysisSchedule, VideoSource, check_frame


def test_schedule_keeps_the_target_rate_from_a_faster_source() -> None:
    schedule = AnalysisSchedule(target_fps=5, max_lag_s=1)
    admitted = [i for i in range(100) if schedule.admit(i / 10, i / 10)]  # 10 fps file
    assert admitted == list(range(0, 100, 2)) and schedule.skipped == 50


def test_schedule_drops_late_frames_instead_of_queueing_them() -> None:
    schedule = AnalysisSchedule(target_fps=5, max_lag_s=0.5)
    # analysis stalls for 3 s: the frames captured meanwhile are stale when we get to them
    assert schedule.admit(0.0, 0.0)
    assert not any(schedule.admit(t / 10, 3.0) for t in range(1, 25))
    assert schedule.dropped_late == 24
    assert schedule.admit(3.0, 3.0)  # and the newest one is analysed at once


def test_absurd_frames_are_refused() -> None:
    settings = VideoSettings()
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (9000, 9000, 3))  # no real memory
    cases: list[object] = [
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((4, 4000, 3), np.uint8),
        huge,
        np.zeros((100, 100), np.uint8),
        np.zeros((100, 100, 3), np.float32),
        "not a frame",
    ]
    for frame in cases:
        with pytest.raises(FrameError):
            check_frame(frame, settings)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), (b"", "empty"), (b"\x00\x01garbage" * 5000, "open|decoded")],
)
def test_missing_empty_and_corrupt_files(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "clip.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(VideoSourceError, match=message):
        source = VideoSource(str(path), VideoSettings())
        list(source.frames(AnalysisSchedule(5, 1)))


def test_truncated_real_video_is_an_error_or_a_clean_end(
    sample_video: Path, tmp_path: Path
) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(sample_video.read_bytes()[:20_000])  # the index (moov) is at the end
    try:
        frames = list(VideoSource(str(path), VideoSettings()).frames(AnalysisSchedule(5, 1)))
    except VideoSourceError as error:
        assert str(path) in str(error)
    else:
        assert all(f.frame.shape == (432, 768, 3) for f in frames)


def test_a_video_of_tiny_frames_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiny.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (16, 16))
    for _ in range(5):
        writer.write(np.full((16, 16, 3), 128, np.uint8))
    writer.release()
    with pytest.raises(FrameError, match="16x16 is below"):
        list(VideoSource(str(path), VideoSettings()).frames(AnalysisSchedule(5, 1)))


@pytest.mark.parametrize("url", ["pipe:0", "concat:a.mp4|b.mp4", "ftp://example.org/x.mp4"])
def test_only_files_and_rtsp_http_streams(url: str) -> None:
    with pytest.raises(VideoSourceError, match="unsupported source"):
        VideoSource(url, VideoSettings())


def test_a_stream_that_never_opens_fails_fast_and_hides_its_password() -> None:
    settings = VideoSettings(open_timeout_s=1, reconnect_attempts=2, reconnect_backoff_s=0.01)
    waits: list[float] = []
    source = VideoSource("rtsp://user:secret@127.0.0.1:9/cam", settings, sleep=waits.append)
    started = time.monotonic()
    with pytest.raises(VideoSourceError) as error:
        source._capture = cv2.VideoCapture()  # opened but lost: exercise the reconnect path
        list(source._stream_frames(AnalysisSchedule(5, 1)))
    assert time.monotonic() - started < 20
    assert "did not come back after 2 reconnects" in str(error.value)
    assert "secret" not in str(error.value)
    assert waits == [0.01, 0.02]  # doubling backoff, through the injected sleep
    with pytest.raises(VideoSourceError, match="cannot open"):
        list(VideoSource("rtsp://127.0.0.1:9/cam", settings).frames(AnalysisSchedule(5, 1)))
