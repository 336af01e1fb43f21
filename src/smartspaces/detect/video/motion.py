"""Tracks as motion on the ground: recent positions, speed (m/s) and heading (degrees).

Pure: ``TrackHistory.update(tracks, at)`` takes one frame's live tracks and returns their
``Motion``. With a calibration, positions are mapped to the ground plane (metres, the space's
local frame). Without one, a displacement in pixels is converted with the person's own box
height (a person is ``person_height_m`` tall), which is a fair local scale for walking and
running speeds though not for positions; headings are then relative to the image, 0 deg being
"up" the image (usually away from the camera).

Headings are degrees clockwise from the ground frame's +y axis, 0 to 360.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from smartspaces.config.video_behaviours import BehaviourSettings
from smartspaces.detect.video.calibration import GroundPlane, Point
from smartspaces.detect.video.tracking import Track


@dataclass(frozen=True, slots=True)
class Sample:
    """Where a track was at one instant."""

    at: float  # seconds
    foot: Point  # image pixels, bottom centre of the box
    anchor: Point  # image pixels, the camera's zone/line anchor
    height_px: float
    aspect: float  # box height / width: upright people are tall, lying ones wide
    ground: Point | None  # metres, with a calibration


@dataclass(frozen=True, slots=True)
class Motion:
    """A live track now: its latest sample and how it moves (None until measurable)."""

    track_id: int
    sample: Sample
    velocity: Point | None  # metres per second, ground frame (+y = heading 0)
    history_s: float  # how long the track has been followed

    @property
    def speed_m_s(self) -> float | None:
        return None if self.velocity is None else math.hypot(*self.velocity)

    @property
    def heading_deg(self) -> float | None:
        if self.velocity is None or self.speed_m_s == 0:
            return None
        return heading(self.velocity)


def heading(vector: Point) -> float:
    """Degrees clockwise from +y of a ground vector, 0 to 360."""
    return math.degrees(math.atan2(vector[0], vector[1])) % 360.0


def angle_between(a_deg: float, b_deg: float) -> float:
    """The smaller angle between two headings, 0 to 180 degrees."""
    difference = abs(a_deg - b_deg) % 360.0
    return 360.0 - difference if difference > 180.0 else difference


class TrackHistory:
    """Recent samples of each remembered track; what is older than needed is dropped."""

    def __init__(
        self, settings: BehaviourSettings, plane: GroundPlane | None, keep_s: float = 10.0
    ) -> None:
        self._settings = settings
        self._plane = plane
        self._keep_s = max(keep_s, settings.speed_window_s * 2, settings.fall_within_s * 2)
        self._samples: dict[int, deque[Sample]] = {}
        self._first_at: dict[int, float] = {}

    def update(
        self, tracks: list[Track], anchors: dict[int, Point], remembered: set[int], at: float
    ) -> list[Motion]:
        """Account for one frame's live tracks (``anchors`` by track id); forget the tracks
        the tracker no longer remembers. Returns the live tracks' motion."""
        for track_id in [t for t in self._samples if t not in remembered]:
            del self._samples[track_id]
            del self._first_at[track_id]
        out = []
        for track in tracks:
            box = track.box
            sample = Sample(
                at=at,
                foot=box.foot,
                anchor=anchors.get(track.track_id, box.foot),
                height_px=box.height,
                aspect=box.height / box.width if box.width > 0 else 0.0,
                ground=self._plane.to_ground(box.foot) if self._plane else None,
            )
            samples = self._samples.setdefault(track.track_id, deque())
            self._first_at.setdefault(track.track_id, at)
            samples.append(sample)
            while samples and at - samples[0].at > self._keep_s:
                samples.popleft()
            out.append(
                Motion(
                    track.track_id,
                    sample,
                    self._velocity(samples),
                    at - self._first_at[track.track_id],
                )
            )
        return out

    def samples(self, track_id: int) -> list[Sample]:
        """The kept samples of one track, oldest first."""
        return list(self._samples.get(track_id, ()))

    def _velocity(self, samples: deque[Sample]) -> Point | None:
        # over the speed window: long enough to average out box jitter, short enough to
        # see a change of pace
        window = self._settings.speed_window_s
        latest = samples[-1]
        start = next((s for s in samples if latest.at - s.at <= window), latest)
        dt = latest.at - start.at
        if dt < window / 2:
            return None
        if latest.ground is not None and start.ground is not None:
            return (
                (latest.ground[0] - start.ground[0]) / dt,
                (latest.ground[1] - start.ground[1]) / dt,
            )
        metres_per_px = self._settings.person_height_m / max(
            (latest.height_px + start.height_px) / 2, 1.0
        )
        # image y grows downwards; the ground frame's +y is "up" the image
        return (
            (latest.foot[0] - start.foot[0]) * metres_per_px / dt,
            -(latest.foot[1] - start.foot[1]) * metres_per_px / dt,
        )
