"""Frame sources (video files, RTSP/HTTP streams through OpenCV) and the analysis schedule.

The schedule is a pure policy: a frame is analysed if its slot in the target rate has come and
it is not older than ``max_lag_s``; otherwise it is skipped (read but never decoded into our
hands, never queued). A live camera therefore never builds a backlog: when analysis is slow,
the newest frame wins. The source owns all I/O and translates OpenCV's silent failures
(``read()`` returning False) into VideoSourceError with a reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np

from smartspaces.config.video import VideoSettings
from smartspaces.detect.video.boxes import Frame
from smartspaces.detect.video.errors import FrameError, VideoSourceError

STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
"""Only these; FFmpeg would also open pipes, devices and concat lists, which a setting must not."""

MAX_FILE_FPS = 1000.0


def check_frame(frame: object, settings: VideoSettings) -> Frame:
    """The frame if it is one we analyse (h x w x 3 uint8 of sane size); FrameError if not."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise FrameError("a frame must be an array of 8-bit pixels")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise FrameError(f"a frame must be height x width x 3 (BGR), got shape {frame.shape}")
    height, width = int(frame.shape[0]), int(frame.shape[1])
    if min(height, width) < settings.min_frame_side_px:
        raise FrameError(
            f"frame of {width}x{height} is below the smallest side of "
            f"{settings.min_frame_side_px} px"
        )
    if height * width > settings.max_frame_pixels:
        raise FrameError(
            f"frame of {width}x{height} is over the limit of {settings.max_frame_pixels} pixels"
        )
    return frame


def file_frame_count(url: str) -> int | None:
    """How many frames a video file says it has (for progress only: containers may be wrong
    or silent); None for a stream or a file that does not say."""
    if urlsplit(url).scheme.lower() in STREAM_SCHEMES or not Path(url).is_file():
        return None
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
    finally:
        capture.release()
    return count if count > 0 else None


class AnalysisSchedule:
    """Which frames to analyse: at most ``target_fps``, and never one older than ``max_lag_s``
    when its turn comes. Times are seconds on any monotonic scale."""

    def __init__(self, target_fps: float, max_lag_s: float) -> None:
        self._period = 1.0 / target_fps
        self._max_lag = max_lag_s
        self._next: float | None = None
        self.skipped = 0  # arrived faster than the target rate
        self.dropped_late = 0  # too old by the time we could look at it

    def admit(self, captured_at: float, now: float) -> bool:
        """True if the frame captured at ``captured_at`` should be analysed ``now``."""
        if now - captured_at > self._max_lag:
            self.dropped_late += 1
            return False
        # a little slack: file timestamps are frame index / fps and round either way
        if self._next is not None and captured_at < self._next - 0.05 * self._period:
            self.skipped += 1
            return False
        # next slot on a grid, not one period after this frame, so the rate does not drift
        # down when frames arrive slightly late
        nxt = self._next if self._next is not None else captured_at
        while nxt <= captured_at + 0.05 * self._period:
            nxt += self._period
        self._next = nxt
        return True


@dataclass(frozen=True)
class TimedFrame:
    """A decoded frame and when it was captured (file: start + position; stream: our clock)."""

    frame: Frame
    at: datetime
    index: int


def _utcnow() -> datetime:
    return datetime.now(UTC)


class VideoSource:
    """Frames of one camera: a video file, or a stream that is reconnected when lost."""

    def __init__(
        self,
        url: str,
        settings: VideoSettings,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        file_start: datetime | None = None,
    ) -> None:
        self._url = url
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        scheme = urlsplit(url).scheme.lower()
        self.is_stream = scheme in STREAM_SCHEMES
        if not self.is_stream:
            if len(scheme) > 1:  # not a drive letter: some other protocol
                raise VideoSourceError(
                    f"unsupported source {scheme}://: use a file path or rtsp/http(s) URL"
                )
            path = Path(url)
            if not path.is_file():
                raise VideoSourceError(f"video file not found: {url}")
            if path.stat().st_size == 0:
                raise VideoSourceError(f"video file is empty (0 bytes): {url}")
        self._file_start = file_start or datetime(1970, 1, 1, tzinfo=UTC)
        self._capture: cv2.VideoCapture | None = None

    def _open(self) -> cv2.VideoCapture:
        timeout_ms = int(self._settings.open_timeout_s * 1000)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            timeout_ms,
        ]
        capture = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise VideoSourceError(f"cannot open video source {self._redacted()}")
        return capture

    def _redacted(self) -> str:
        # stream URLs often carry a password: never put it in an error or a log line
        parts = urlsplit(self._url)
        if parts.password is None:
            return self._url
        return parts._replace(netloc=f"***@{parts.hostname}:{parts.port or ''}").geturl()

    def frames(self, schedule: AnalysisSchedule) -> Iterator[TimedFrame]:
        """The frames the schedule admits, until a file ends or a stream is lost for good."""
        if self._capture is None:
            self._capture = self._open()
        if self.is_stream:
            yield from self._stream_frames(schedule)
        else:
            yield from self._file_frames(schedule)

    def _file_frames(self, schedule: AnalysisSchedule) -> Iterator[TimedFrame]:
        assert self._capture is not None  # noqa: S101 - set by frames()
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        if not 0 < fps <= MAX_FILE_FPS:
            raise VideoSourceError(
                f"video file reports an unusable frame rate ({fps}): {self._url}"
            )
        index = 0
        while self._capture.grab():
            seconds = index / fps
            if schedule.admit(seconds, seconds):  # a file is never late: it waits for us
                frame = self._retrieve()
                yield TimedFrame(frame, self._file_start + timedelta(seconds=seconds), index)
            index += 1
        if index == 0:
            raise VideoSourceError(f"no frame could be decoded from {self._url}: corrupt file?")

    def _stream_frames(self, schedule: AnalysisSchedule) -> Iterator[TimedFrame]:
        index = 0
        failures = 0
        while True:
            assert self._capture is not None  # noqa: S101 - set by frames() and _reconnect()
            if not self._capture.grab():
                failures += 1
                self._reconnect(failures)
                continue
            failures = 0
            captured = self._clock()
            if schedule.admit(captured.timestamp(), self._clock().timestamp()):
                yield TimedFrame(self._retrieve(), captured, index)
            index += 1

    def _reconnect(self, failures: int) -> None:
        if failures > self._settings.reconnect_attempts:
            self.close()
            raise VideoSourceError(
                f"stream lost: {self._redacted()} did not come back after "
                f"{self._settings.reconnect_attempts} reconnects"
            )
        self.close()
        self._sleep(self._settings.reconnect_backoff_s * 2 ** (failures - 1))
        try:
            self._capture = self._open()
        except VideoSourceError:
            self._capture = cv2.VideoCapture()  # not opened: the next grab fails and retries

    def _retrieve(self) -> Frame:
        assert self._capture is not None  # noqa: S101
        ok, frame = self._capture.retrieve()
        if not ok or frame is None:
            raise VideoSourceError(f"frame could not be decoded from {self._redacted()}")
        return check_frame(frame, self._settings)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
