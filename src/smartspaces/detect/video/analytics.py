"""People per zone, density and line crossings from anonymous tracks, reported as Observations.

Pure: ``step(boxes, at, now)`` takes one analysed frame's person boxes and returns the
Observations due (once per report interval). What it emits is counts only: no box, no track id,
no pixel leaves through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from smartspaces.config.video import CameraSettings, LineSettings
from smartspaces.detect.video.boxes import Box
from smartspaces.detect.video.calibration import GroundPlane, Point
from smartspaces.detect.video.tracking import Track, Tracker, TrackerSettings
from smartspaces.events import Observation

SOURCE = "detect.video"


def inside(point: Point, polygon: Sequence[Point]) -> bool:
    """Ray casting point-in-polygon (points on an edge may fall either way)."""
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


@dataclass
class _LineState:
    line: LineSettings
    sides: dict[int, int]  # track id -> last side it was clearly on (-1 left, +1 right)
    entries: int = 0
    exits: int = 0


class LineCounter:
    """Counts tracks crossing one line, each direction apart, with a dead band against jitter."""

    def __init__(self, line: LineSettings) -> None:
        self._state = _LineState(line, {})

    @property
    def line(self) -> LineSettings:
        return self._state.line

    def side(self, point: Point) -> int:
        """+1 right of a->b as seen on the image (y down), -1 left, 0 within the dead band or
        beyond the segment's ends."""
        (ax, ay), (bx, by) = self._state.line.a, self._state.line.b
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = ((point[0] - ax) * dx + (point[1] - ay) * dy) / length2
        if t < 0 or t > 1:
            return 0
        distance = (dx * (point[1] - ay) - dy * (point[0] - ax)) / length2**0.5
        if abs(distance) <= self._state.line.margin_px:
            return 0
        return 1 if distance > 0 else -1

    def update(self, tracks: dict[int, Point]) -> None:
        """Account for the anchor points of the live tracks of one frame."""
        state = self._state
        for track_id, point in tracks.items():
            side = self.side(point)
            if side == 0:
                continue
            before = state.sides.get(track_id)
            if before is not None and before != side:
                if side > 0:
                    state.entries += 1
                else:
                    state.exits += 1
            state.sides[track_id] = side

    def forget(self, live: set[int]) -> None:
        """Drop sides of tracks that ended (their ids are never reused)."""
        for track_id in [t for t in self._state.sides if t not in live]:
            del self._state.sides[track_id]

    def take_counts(self) -> tuple[int, int]:
        """Entries and exits since the last call."""
        state = self._state
        counts = (state.entries, state.exits)
        state.entries = state.exits = 0
        return counts


class CameraAnalytics:
    """One camera's tracker, zones and lines; reports counts every ``report_interval_s``."""

    def __init__(
        self,
        camera: CameraSettings,
        report_interval_s: float,
        tracker: TrackerSettings | None = None,
    ) -> None:
        self._camera = camera
        self._interval_s = report_interval_s
        self._tracker = Tracker(tracker)
        self._lines = [LineCounter(line) for line in camera.lines]
        plane = (
            GroundPlane.fit(camera.calibration.image_points, camera.calibration.ground_points)
            if camera.calibration
            else None
        )
        self._areas: dict[str, float | None] = {
            z.id: (plane.area_m2(z.polygon) if plane else None) for z in camera.zones
        }
        self._zone_sums = {z.id: 0 for z in camera.zones}
        self._frames = 0
        self._period_start: datetime | None = None
        self._last_at: datetime | None = None
        self.plane = plane
        self.live: list[Track] = []  # the confirmed tracks seen in the last frame

    @property
    def remembered(self) -> set[int]:
        """Ids of every track the tracker still remembers (seen, or missed only briefly)."""
        return {t.track_id for t in self._tracker.tracks}

    @property
    def recent_boxes(self) -> list[Box]:
        """The last box of every remembered track, confirmed or not (who may be standing by)."""
        return [t.box for t in self._tracker.tracks]

    def step(self, boxes: list[Box], at: datetime, now: datetime) -> list[Observation]:
        """Account for one analysed frame taken ``at``; returns the reports that fell due."""
        if self._period_start is None:
            self._period_start = at
        tracks = self._tracker.step(boxes, at.timestamp())
        self.live = tracks
        anchors = {t.track_id: self.anchor(t) for t in tracks}
        for line in self._lines:
            line.update(anchors)
            line.forget({t.track_id for t in self._tracker.tracks})
        for zone in self._camera.zones:
            self._zone_sums[zone.id] += sum(1 for p in anchors.values() if inside(p, zone.polygon))
        self._frames += 1
        self._last_at = at
        if (at - self._period_start).total_seconds() < self._interval_s:
            return []
        reports = self._report(at, now, self._interval_s)
        self._period_start = at
        return reports

    def flush(self, now: datetime) -> list[Observation]:
        """Report the unfinished interval (a file ended, a camera stops): counts since the
        last report would otherwise be lost."""
        start, last = self._period_start, self._last_at
        if start is None or last is None or last <= start:
            return []
        reports = self._report(last, now, (last - start).total_seconds())
        self._period_start = last
        return reports

    def ground_positions(self, tracks: list[Track]) -> list[Point]:
        """Where the tracks stand on the ground, metres (empty without a calibration)."""
        if self.plane is None:
            return []
        return [self.plane.to_ground(t.box.foot) for t in tracks]

    def anchor(self, track: Track) -> Point:
        return track.box.foot if self._camera.anchor == "foot" else track.box.centre

    def _report(self, at: datetime, now: datetime, interval: float) -> list[Observation]:
        camera, frames = self._camera, max(self._frames, 1)
        out: list[Observation] = []
        for zone in camera.zones:
            # the mean over the interval: a detector misses people in single frames
            mean = self._zone_sums[zone.id] / frames
            sensor = f"{camera.id}.{zone.id}"
            out.append(
                _obs(zone.space_id, sensor, "occupancy_persons", round(mean), at, now, interval)
            )
            area = self._areas[zone.id]
            if area:
                out.append(
                    _obs(zone.space_id, sensor, "density_p_m2", mean / area, at, now, interval)
                )
            self._zone_sums[zone.id] = 0
        for line in self._lines:
            entries, exits = line.take_counts()
            sensor = f"{camera.id}.{line.line.id}"
            out.append(
                _obs(line.line.space_id, sensor, "entries_count", entries, at, now, interval)
            )
            out.append(_obs(line.line.space_id, sensor, "exits_count", exits, at, now, interval))
        self._frames = 0
        return out


def _obs(
    space_id: str,
    sensor_id: str,
    quantity: str,
    value: float,
    at: datetime,
    now: datetime,
    interval_s: float,
) -> Observation:
    return Observation(
        source=SOURCE,
        space_id=space_id,
        observed_at=at,
        received_at=now,
        sensor_id=sensor_id,
        quantity=quantity,
        value=float(value),
        interval_s=interval_s,
    )
