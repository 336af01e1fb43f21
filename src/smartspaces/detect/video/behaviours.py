"""Behaviours over anonymous tracks in ground metres and time: loitering, running, falls,
counter-flow in a one-way zone, and a crowd's sudden dispersal.

Each rule is pure: ``step(motions, remembered, at)`` takes the live tracks' ``Motion`` of one
frame (and the ids the tracker still remembers, to forget the rest) and returns Findings. A
rule needs its condition to hold for a while (``*_min_s``) before it reports, and reports the
same track or zone again only after ``repeat_after_s``.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from smartspaces.config.video import CameraSettings, ZoneSettings
from smartspaces.config.video_behaviours import BehaviourSettings
from smartspaces.detect.video.analytics import inside
from smartspaces.detect.video.findings import DETECTORS, Cooldown, Finding, Key
from smartspaces.detect.video.motion import Motion, angle_between
from smartspaces.events import AttributeValue, Level

DETECTOR = DETECTORS["behaviour"]


class Rule(Protocol):
    """One behaviour. Pure: the same motions at the same times give the same findings."""

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        """Findings due at ``at`` for this frame's live tracks."""
        ...


class _Sustained:
    """Since when each key's condition has held without a break."""

    def __init__(self) -> None:
        self.since: dict[Key, float] = {}

    def held(self, key: Key, condition: bool, at: float) -> float | None:
        """Seconds the condition has held at ``at`` (None if it does not hold now)."""
        if not condition:
            self.since.pop(key, None)
            return None
        return at - self.since.setdefault(key, at)

    def forget(self, remembered: set[int]) -> None:
        # a track briefly unseen keeps its time; one the tracker forgot starts afresh
        for key in [k for k in self.since if k[1] not in remembered]:
            del self.since[key]


def _zone_of(camera: CameraSettings, motion: Motion) -> ZoneSettings | None:
    return next((z for z in camera.zones if inside(motion.sample.anchor, z.polygon)), None)


class Loitering:
    """A track staying in a zone with ``loiter_after_s`` for longer than that."""

    def __init__(self, camera: CameraSettings, settings: BehaviourSettings) -> None:
        self._zones = [z for z in camera.zones if z.loiter_after_s is not None]
        self._held = _Sustained()
        self._cooldown = Cooldown(settings.repeat_after_s)

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        out = []
        for zone in self._zones:
            limit = zone.loiter_after_s or 0.0
            dwelling = []
            for m in motions:
                here = inside(m.sample.anchor, zone.polygon)
                held = self._held.held((zone.id, m.track_id), here, at)
                if held is not None and held >= limit:
                    dwelling.append((m, held))
            for m, held in dwelling:
                if self._cooldown.ready((zone.id, m.track_id), at):
                    out.append(
                        Finding(
                            "video.loitering", DETECTOR, Level.AMBER, at,
                            f"a person has stayed {held:.0f} s in zone {zone.id}",
                            {"zone_id": zone.id, "dwell_s": held, "count_persons": len(dwelling)},
                            zone.space_id, key=f"{zone.id}:{m.track_id}",
                        )
                    )  # fmt: skip
        self._held.forget(remembered)
        self._cooldown.forget(remembered)
        return out


class Running:
    """Ground speed above ``running_speed_m_s`` for ``running_min_s``."""

    def __init__(self, camera: CameraSettings, settings: BehaviourSettings) -> None:
        self._camera = camera
        self._settings = settings
        self._held = _Sustained()
        self._cooldown = Cooldown(settings.repeat_after_s)

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        s, out = self._settings, []
        for m in motions:
            speed = m.speed_m_s
            fast = speed is not None and speed >= s.running_speed_m_s
            held = self._held.held(("", m.track_id), fast, at)
            if held is None or held < s.running_min_s or speed is None:
                continue
            if self._cooldown.ready(("", m.track_id), at):
                zone = _zone_of(self._camera, m)
                attributes: dict[str, AttributeValue] = {
                    "speed_m_s": speed,
                    "heading_deg": m.heading_deg or 0.0,
                }
                if zone:
                    attributes["zone_id"] = zone.id
                out.append(
                    Finding(
                        "video.running", DETECTOR, Level.AMBER, at,
                        f"a person running at {speed:.1f} m/s", attributes,
                        zone.space_id if zone else None, key=str(m.track_id),
                    )
                )  # fmt: skip
        self._held.forget(remembered)
        self._cooldown.forget(remembered)
        return out


class Falls:
    """An upright box turning into a lying one within ``fall_within_s``, then staying down
    and still for ``fall_min_s``. A heuristic over box shape and ground motion: a detector
    that misses lying people misses falls too."""

    def __init__(self, camera: CameraSettings, settings: BehaviourSettings) -> None:
        self._camera = camera
        self._settings = settings
        self._upright_at: dict[int, float] = {}
        self._down_since: dict[int, float] = {}
        self._cooldown = Cooldown(settings.repeat_after_s)

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        s, out = self._settings, []
        for m in motions:
            tid, aspect = m.track_id, m.sample.aspect
            if aspect >= s.fall_upright_ratio:
                self._upright_at[tid] = at
                self._down_since.pop(tid, None)
                continue
            if aspect > s.fall_lying_ratio:
                continue  # neither: bending, sitting, a box caught mid-fall
            upright = self._upright_at.get(tid)
            if tid not in self._down_since:
                if upright is None or at - upright > s.fall_within_s:
                    continue  # lying down slowly, or seen lying from the start: not a fall
                self._down_since[tid] = at
            down_s = at - self._down_since[tid]
            speed = m.speed_m_s
            still = speed is None or speed < s.stall_speed_m_s
            if down_s >= s.fall_min_s and still and self._cooldown.ready(("", tid), at):
                zone = _zone_of(self._camera, m)
                attributes: dict[str, AttributeValue] = {"lying_s": down_s}
                if zone:
                    attributes["zone_id"] = zone.id
                out.append(
                    Finding(
                        "video.fall", DETECTOR, Level.RED, at,
                        f"a person fell and has been down {down_s:.0f} s", attributes,
                        zone.space_id if zone else None, key=str(tid), confidence=0.6,
                    )
                )  # fmt: skip
        for table in (self._upright_at, self._down_since):
            for tid in [t for t in table if t not in remembered]:
                del table[tid]
        self._cooldown.forget(remembered)
        return out


class CounterFlow:
    """Walking against a one-way zone's direction (``one_way_heading_deg``), sustained."""

    def __init__(self, camera: CameraSettings, settings: BehaviourSettings) -> None:
        self._zones = [z for z in camera.zones if z.one_way_heading_deg is not None]
        self._settings = settings
        self._held = _Sustained()
        self._cooldown = Cooldown(settings.repeat_after_s)

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        s, out = self._settings, []
        for zone in self._zones:
            allowed = zone.one_way_heading_deg or 0.0
            for m in motions:
                speed, going = m.speed_m_s, m.heading_deg
                against = (
                    speed is not None
                    and going is not None
                    and speed >= s.counter_flow_min_speed_m_s
                    and angle_between(going, allowed) >= s.counter_flow_angle_deg
                    and inside(m.sample.anchor, zone.polygon)
                )
                held = self._held.held((zone.id, m.track_id), against, at)
                if held is None or held < s.counter_flow_min_s or going is None or speed is None:
                    continue
                if self._cooldown.ready((zone.id, m.track_id), at):
                    out.append(
                        Finding(
                            "video.counter_flow", DETECTOR, Level.AMBER, at,
                            f"a person walking against the one-way flow of zone {zone.id}",
                            {"zone_id": zone.id, "heading_deg": going, "speed_m_s": speed,
                             "allowed_heading_deg": allowed},
                            zone.space_id, key=f"{zone.id}:{m.track_id}",
                        )
                    )  # fmt: skip
        self._held.forget(remembered)
        self._cooldown.forget(remembered)
        return out


class Dispersal:
    """A crowd suddenly scattering: the mean speed of at least ``dispersal_min_persons``
    jumps ``dispersal_speed_ratio`` times above its recent level, and their headings diverge
    (the mean of their unit heading vectors is short)."""

    def __init__(self, camera: CameraSettings, settings: BehaviourSettings) -> None:
        self._settings = settings
        self._speeds: deque[tuple[float, float]] = deque()  # (at, mean speed)
        self._cooldown = Cooldown(settings.repeat_after_s)

    def step(self, motions: list[Motion], remembered: set[int], at: float) -> list[Finding]:
        s = self._settings
        moving = [(m.speed_m_s, m.velocity) for m in motions if m.velocity is not None]
        while self._speeds and at - self._speeds[0][0] > s.dispersal_baseline_s:
            self._speeds.popleft()
        before = [v for t, v in self._speeds if at - t >= s.speed_window_s]
        out = []
        if len(moving) >= s.dispersal_min_persons:
            speeds = [v for v, _ in moving if v is not None]
            mean = sum(speeds) / len(speeds)
            self._speeds.append((at, mean))
            if len(before) >= 3:
                usual = max(sum(before) / len(before), s.stall_speed_m_s)
                alignment = _alignment([v for _, v in moving if v is not None])
                if (
                    mean >= s.dispersal_min_speed_m_s
                    and mean >= s.dispersal_speed_ratio * usual
                    and alignment <= s.dispersal_max_alignment
                    and self._cooldown.ready(("crowd", 0), at)
                ):
                    out.append(
                        Finding(
                            "video.sudden_dispersal", DETECTOR, Level.RED, at,
                            f"{len(speeds)} people suddenly scattering at {mean:.1f} m/s",
                            {"count_persons": len(speeds), "speed_m_s": mean,
                             "usual_speed_m_s": usual, "heading_alignment": alignment},
                            key="crowd",
                        )
                    )  # fmt: skip
        return out


def _alignment(velocities: list[tuple[float, float]]) -> float:
    """Length of the mean unit heading vector: 1 all one way, near 0 every way."""
    units = [(v[0] / n, v[1] / n) for v in velocities if (n := (v[0] ** 2 + v[1] ** 2) ** 0.5)]
    if not units:
        return 1.0
    x = sum(u[0] for u in units) / len(units)
    y = sum(u[1] for u in units) / len(units)
    return float((x * x + y * y) ** 0.5)


def behaviour_rules(camera: CameraSettings, settings: BehaviourSettings) -> list[Rule]:
    """Every behaviour rule, in a fixed order (an explicit list, no discovery)."""
    return [
        Loitering(camera, settings),
        Running(camera, settings),
        Falls(camera, settings),
        CounterFlow(camera, settings),
        Dispersal(camera, settings),
    ]
