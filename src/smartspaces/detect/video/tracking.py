"""Anonymous, short-lived tracks from per-frame person boxes (a SORT-style tracker, pure).

A track id is a small counter local to one tracker: it says "the same box as a moment ago" and
nothing about who is in it. No appearance is stored, so a person who leaves and comes back gets
a new id, and a track is forgotten ``max_missing_s`` after its last box. That is deliberate:
counts and flows need continuity over seconds, never recognition.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartspaces.detect.video.boxes import Box, iou


@dataclass(frozen=True)
class TrackerSettings:
    """How boxes are linked over time."""

    iou_min: float = 0.2
    max_distance_heights: float = 0.6  # fallback link: centres this many box heights apart
    max_missing_s: float = 2.0
    min_hits: int = 2  # boxes before a track counts (one-frame false positives never do)


@dataclass
class Track:
    """One anonymous track: where its box is, how it moves, when it was last seen."""

    track_id: int
    box: Box
    first_at: float
    last_at: float
    hits: int = 1
    velocity: tuple[float, float] = (0.0, 0.0)  # pixels per second of the box centre

    def predicted(self, at: float) -> Box:
        """Where a constant-velocity box would be at ``at`` (seconds)."""
        dt = min(at - self.last_at, 1.0)  # never extrapolate a lost track far
        return self.box.shifted(self.velocity[0] * dt, self.velocity[1] * dt)


class Tracker:
    """Links boxes frame to frame; ``step(boxes, at)`` returns the confirmed live tracks."""

    def __init__(self, settings: TrackerSettings | None = None) -> None:
        self._settings = settings or TrackerSettings()
        self._tracks: list[Track] = []
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def step(self, boxes: list[Box], at: float) -> list[Track]:
        """Account for the boxes of one frame taken at ``at`` (seconds, non-decreasing)."""
        s = self._settings
        self._tracks = [t for t in self._tracks if at - t.last_at <= s.max_missing_s]
        pairs = self._candidate_pairs(boxes, at)
        used_tracks: set[int] = set()
        used_boxes: set[int] = set()
        # greedy by score: good enough at the densities one camera view holds, and stable
        for _, ti, bi in sorted(pairs, key=lambda p: -p[0]):
            if ti in used_tracks or bi in used_boxes:
                continue
            used_tracks.add(ti)
            used_boxes.add(bi)
            self._update(self._tracks[ti], boxes[bi], at)
        for bi, box in enumerate(boxes):
            if bi not in used_boxes:
                track = Track(self._next_id, box, at, at)
                self._next_id += 1
                self._tracks.append(track)
        return [t for t in self._tracks if t.hits >= s.min_hits and t.last_at == at]

    def _candidate_pairs(self, boxes: list[Box], at: float) -> list[tuple[float, int, int]]:
        s = self._settings
        pairs: list[tuple[float, int, int]] = []
        for ti, track in enumerate(self._tracks):
            guess = track.predicted(at)
            gx, gy = guess.centre
            reach = s.max_distance_heights * max(guess.height, 1.0)
            for bi, box in enumerate(boxes):
                overlap = iou(guess, box)
                if overlap >= s.iou_min:
                    pairs.append((1.0 + overlap, ti, bi))  # any overlap beats any distance
                    continue
                bx, by = box.centre
                distance = ((bx - gx) ** 2 + (by - gy) ** 2) ** 0.5
                if distance <= reach:
                    pairs.append((1.0 - distance / reach, ti, bi))
        return pairs

    @staticmethod
    def _update(track: Track, box: Box, at: float) -> None:
        dt = at - track.last_at
        if dt > 0:
            (ox, oy), (nx, ny) = track.box.centre, box.centre
            # smoothed, since detector boxes jitter by several pixels frame to frame
            vx, vy = (nx - ox) / dt, (ny - oy) / dt
            track.velocity = (
                0.5 * track.velocity[0] + 0.5 * vx,
                0.5 * track.velocity[1] + 0.5 * vy,
            )
        track.box = box
        track.last_at = at
        track.hits += 1
