"""Occupancy and density per space from people counters, and a Detection when the level changes.

Counters report ``entries_count`` / ``exits_count`` over an interval (occupancy is their running
balance) or ``occupancy_persons`` (an absolute count, e.g. a camera zone, which reconciles the
balance: see ``occupancy.OccupancyEstimator`` for the drift corrections). The detector is pure:
``step(observation, now)`` returns the detections it caused; the caller does all I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smartspaces.config import CrowdSettings
from smartspaces.detect.crowd.level_of_service import area_use, ladder_level, level_of_service
from smartspaces.detect.crowd.occupancy import OccupancyEstimator
from smartspaces.events import CrowdState, Detection, Level, Observation, SmartSpace

COUNT_QUANTITIES = frozenset({"entries_count", "exits_count", "occupancy_persons"})
"""The quantities this detector reads; anything else is ignored."""

PROVENANCE_DEPTH = 32
"""How many of the latest observations of a space a detection names as its sources."""

RATE_WINDOW_S = 60.0
"""Inflow and outflow are averaged over this window."""

DETECTOR_ID = "crowd.density"
HYSTERESIS = 0.05
_RATE_WINDOW = timedelta(seconds=RATE_WINDOW_S)


@dataclass
class _SpaceCrowd:
    """What the detector remembers about one space."""

    occupancy: OccupancyEstimator
    level: Level = Level.NORMAL
    last_at: datetime | None = None
    recent_ids: deque[str] = field(default_factory=lambda: deque(maxlen=PROVENANCE_DEPTH))
    # (time, entries, exits) of recent counter intervals, for the flow rates
    flows: deque[tuple[datetime, float, float]] = field(default_factory=deque)
    inflow_persons: float = 0.0  # running sums over ``flows``
    # densities within which the level cannot change: the common case skips the ladder
    band_low: float = -1.0
    band_high: float = -1.0
    outflow_persons: float = 0.0


class CrowdDensityDetector:
    """Turns counter observations into occupancy, density, level of service and level changes."""

    def __init__(self, settings: CrowdSettings, spaces: Mapping[str, SmartSpace]) -> None:
        self._settings = settings
        self._spaces = dict(spaces)
        self._state: dict[str, _SpaceCrowd] = {}

    def step(self, observation: Observation, now: datetime) -> list[Detection]:
        """Account for one observation; returns a Detection if the space changed level."""
        space = self._spaces.get(observation.space_id)
        quantity = observation.quantity
        if space is None or quantity not in COUNT_QUANTITIES:
            return []
        crowd = self._state.get(space.id)
        if crowd is None:
            crowd = self._state[space.id] = self._new_state(0.0)
        at = observation.observed_at
        value = observation.value if observation.value > 0 else 0.0
        if quantity == "occupancy_persons":
            crowd.occupancy.reference(value, at)
        elif quantity == "entries_count":
            crowd.occupancy.count(entries=value)
            crowd.flows.append((at, value, 0.0))
            crowd.inflow_persons += value
        else:
            # a balance below zero means the counters drifted: the estimator clamps it at zero
            crowd.occupancy.count(exits=value)
            crowd.flows.append((at, 0.0, value))
            crowd.outflow_persons += value
        crowd.recent_ids.append(observation.id)
        if crowd.last_at is None or at > crowd.last_at:
            crowd.last_at = at
            horizon = at - _RATE_WINDOW
            flows = crowd.flows
            while flows and flows[0][0] < horizon:
                _, inflow, outflow = flows.popleft()
                crowd.inflow_persons -= inflow
                crowd.outflow_persons -= outflow

        density = crowd.occupancy.persons / space.area_m2
        if crowd.band_low <= density < crowd.band_high:
            return []  # still inside the current level's band: nothing to report
        settings = self._settings
        level = ladder_level(
            density,
            settings.amber_p_m2,
            settings.red_p_m2,
            settings.critical_p_m2,
            previous=crowd.level,
            hysteresis=HYSTERESIS,
        )
        crowd.band_low, crowd.band_high = self._band(level)
        if level == crowd.level:
            return []
        previous, crowd.level = crowd.level, level
        state = self._measure(space, crowd)
        verb = "rose" if level.rank > previous.rank else "fell"
        return [
            Detection(
                source=DETECTOR_ID,
                space_id=space.id,
                observed_at=at,
                received_at=now,
                location=space.centroid,
                derived_from=tuple(crowd.recent_ids),
                detector=DETECTOR_ID,
                detection_type="crowd.density_level",
                level=level,
                summary=(
                    f"Crowd density in {space.name} {verb} to {level.value}: "
                    f"{state.density_p_m2:.2f} persons/m2 ({state.occupancy_persons:.0f} people "
                    f"on {state.area_m2:.0f} m2, level of service {state.level_of_service})"
                ),
                crowd=state,
            )
        ]

    def _band(self, level: Level) -> tuple[float, float]:
        """Densities that keep a space at ``level`` (matching ``ladder_level``'s hysteresis)."""
        s = self._settings
        lows = {
            Level.NORMAL: -1.0,
            Level.AMBER: s.amber_p_m2,
            Level.RED: s.red_p_m2,
            Level.CRITICAL: s.critical_p_m2,
        }
        highs = {
            Level.NORMAL: s.amber_p_m2,
            Level.AMBER: s.red_p_m2,
            Level.RED: s.critical_p_m2,
            Level.CRITICAL: float("inf"),
        }
        return lows[level] * (1 - HYSTERESIS), highs[level]

    def _new_state(self, occupancy_persons: float) -> _SpaceCrowd:
        s = self._settings
        estimator = OccupancyEstimator(
            time_constant_s=s.reconcile_time_constant_s,
            learning_rate=s.drift_learning_rate,
            persons=occupancy_persons,
        )
        return _SpaceCrowd(occupancy=estimator)

    def restore(self, space_id: str, occupancy_persons: float, level: Level) -> None:
        """Start from a state saved by an earlier run (after a restart), not from empty."""
        if space_id in self._spaces:
            crowd = self._state[space_id] = self._new_state(occupancy_persons)
            crowd.level = level
            crowd.band_low, crowd.band_high = self._band(level)

    def state(self, space_id: str) -> CrowdState | None:
        """The latest crowd measure of a space, or None before its first observation."""
        crowd = self._state.get(space_id)
        space = self._spaces.get(space_id)
        return self._measure(space, crowd) if crowd and space else None

    def level(self, space_id: str) -> Level:
        crowd = self._state.get(space_id)
        return crowd.level if crowd else Level.NORMAL

    def occupancy(self, space_id: str) -> float | None:
        """The space's current occupancy estimate, or None before its first observation."""
        crowd = self._state.get(space_id)
        return crowd.occupancy.persons if crowd else None

    def sources(self, space_id: str) -> tuple[str, ...]:
        """The ids of the space's latest observations (what a detection about it derives from)."""
        crowd = self._state.get(space_id)
        return tuple(crowd.recent_ids) if crowd else ()

    @staticmethod
    def _measure(space: SmartSpace, crowd: _SpaceCrowd) -> CrowdState:
        occupancy = crowd.occupancy.persons
        density = occupancy / space.area_m2
        window = RATE_WINDOW_S
        return CrowdState(
            occupancy_persons=occupancy,
            area_m2=space.area_m2,
            density_p_m2=density,
            level_of_service=level_of_service(density, area_use(space.space_type)),
            inflow_p_s=max(crowd.inflow_persons, 0.0) / window,
            outflow_p_s=max(crowd.outflow_persons, 0.0) / window,
        )
