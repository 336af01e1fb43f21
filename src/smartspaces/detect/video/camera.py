"""One camera end to end: frames -> person boxes -> anonymous tracks -> counts as Observations.

The loop is the only place that joins I/O (the source) with the pure parts; everything it
yields is an Observation, so nothing else about the frames can leak out of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from smartspaces.config.video import CameraSettings, VideoSettings
from smartspaces.detect.video.analytics import CameraAnalytics
from smartspaces.detect.video.detectors import PersonDetector, build_detector
from smartspaces.detect.video.frames import AnalysisSchedule, VideoSource
from smartspaces.detect.video.tracking import TrackerSettings
from smartspaces.events import Observation


def _utcnow() -> datetime:
    return datetime.now(UTC)


def analytics_for(camera: CameraSettings, settings: VideoSettings) -> CameraAnalytics:
    """The pure per-camera analytics the settings describe."""
    tracker = TrackerSettings(max_missing_s=settings.track_max_missing_s)
    return CameraAnalytics(camera, settings.report_interval_s, tracker)


def observe_camera(
    camera: CameraSettings,
    settings: VideoSettings,
    clock: Callable[[], datetime] = _utcnow,
    detector: PersonDetector | None = None,
    file_start: datetime | None = None,
) -> Iterator[Observation]:
    """Count people on one camera until its file ends (or its stream is lost for good: then
    VideoSourceError). ``file_start`` is the wall time of a file's first frame."""
    detector = detector or build_detector(settings)
    analytics = analytics_for(camera, settings)
    schedule = AnalysisSchedule(camera.target_fps, settings.max_lag_s)
    source = VideoSource(camera.url, settings, clock=clock, file_start=file_start)
    try:
        for timed in source.frames(schedule):
            boxes = detector.detect(timed.frame)
            yield from analytics.step(boxes, timed.at, clock())
        yield from analytics.flush(clock())
    finally:
        source.close()
