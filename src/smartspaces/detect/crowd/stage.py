"""The crowd part of the detect stage: density ladder, level of service, rate of rise and red
forecast of every space behind one pure ``step(observation, now) -> list[Detection]``.

What it raises (``detection_type``):

- ``crowd.density_level``: the ladder (amber 2, red 4, critical 5 persons/m2), on each change;
- ``crowd.density_rising_fast``: amber when the density climbs faster than the set rate;
- ``crowd.red_forecast``: amber when the trend says red comes within the forecast horizon.

**Trend readings.** Counters report per interval, several per instant (six accesses, entries
and exits, all stamped with the interval's end). The rise and the forecast need one reading per
instant, taken once every count of it is in, so the stage takes it when the next instant starts:
the occupancy just before the first observation with a later time, at most once per
``trend_sample_s``. A reading is one interval late (10 s in the demo), which costs the warning
as much lead; in exchange the result does not depend on the order in which counts arrive.

**Withdrawals.** A rise or forecast warning stands (the risk model keeps a space at its highest
standing detection) until the stage withdraws it with a ``normal`` detection of the same type:

- the forecast when red goes out of sight again (the early warning re-arms);
- the rise when the rule re-arms (the rise fell below half its limit);
- both as soon as the ladder itself reaches red: it then says more than they can, and the
  alerts that follow are explained by the ladder's observations alone. While the ladder stands
  at red or above, new trend warnings are not raised.

>>> from smartspaces.config import CrowdSettings, ForecastSettings
>>> stage = CrowdStage(CrowdSettings(), ForecastSettings(), {})
>>> stage.state("nowhere") is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smartspaces.config import CrowdSettings, ForecastSettings
from smartspaces.detect.crowd import density, forecast, rate_of_rise
from smartspaces.detect.crowd.level_of_service import area_use, level_of_service
from smartspaces.events import CrowdState, Detection, Level, Observation, SmartSpace

TREND_TYPES: Mapping[str, str] = {
    forecast.DETECTOR_ID: "crowd.red_forecast",
    rate_of_rise.DETECTOR_ID: "crowd.density_rising_fast",
}
"""The trend detectors and the detection type each raises (and withdraws)."""
_WHAT = {forecast.DETECTOR_ID: "red forecast", rate_of_rise.DETECTOR_ID: "fast rise warning"}


@dataclass
class _Trend:
    """When a space's trend rules last read it, and which of their warnings stand."""

    pending_at: datetime | None = None  # the instant whose counts are coming in
    sampled_at: datetime | None = None  # the last instant fed to the rules
    standing: set[str] = field(default_factory=set)  # detector ids


class CrowdStage:
    """Every crowd rule of the running pipeline, per space; pure (the caller does the I/O)."""

    def __init__(
        self,
        settings: CrowdSettings,
        forecast_settings: ForecastSettings,
        spaces: Mapping[str, SmartSpace],
    ) -> None:
        self._spaces = dict(spaces)
        self._density = density.CrowdDensityDetector(settings, self._spaces)
        self._warning = forecast.EarlyWarning(forecast_settings)
        self._rise = rate_of_rise.RateOfRise(settings)
        self._sample = timedelta(seconds=settings.trend_sample_s)
        self._trends: dict[str, _Trend] = {}

    def step(self, observation: Observation, now: datetime) -> list[Detection]:
        """Account for one observation; the detections it caused, withdrawals first."""
        space = self._spaces.get(observation.space_id)
        if space is None or observation.quantity not in density.COUNT_QUANTITIES:
            return []
        trend = self._trends.get(space.id)
        if trend is None:
            trend = self._trends[space.id] = _Trend()
        at = observation.observed_at
        found: list[Detection] = []
        pending = trend.pending_at
        if pending is None or at > pending:
            # the pending instant is complete: read it before this observation counts
            if pending is not None and (
                trend.sampled_at is None or pending - trend.sampled_at >= self._sample
            ):
                found += self._read(space, trend, pending, now)
                trend.sampled_at = pending
            trend.pending_at = at
        changes = self._density.step(observation, now)
        if changes and changes[-1].level.rank >= Level.RED.rank:
            found += self._withdraw(space, trend, at, now, "the density itself reached red")
        found += changes
        return found

    def _read(
        self, space: SmartSpace, trend: _Trend, at: datetime, now: datetime
    ) -> list[Detection]:
        """Feed the occupancy at ``at`` to the rise and the forecast."""
        occupancy = self._density.occupancy(space.id) or 0.0
        sources = self._density.sources(space.id)
        ladder_red = self._density.level(space.id).rank >= Level.RED.rank
        found: list[Detection] = []
        warnings = self._warning.step(space, at, occupancy, now, sources)
        rise = self._rise.step(space, at, occupancy / space.area_m2, now, sources)
        if ladder_red:
            return self._withdraw(space, trend, at, now, "the density itself is red")
        if warnings:
            trend.standing.add(forecast.DETECTOR_ID)
            found += warnings
        elif forecast.DETECTOR_ID in trend.standing and not self._warning.warned(space.id):
            found.append(
                self._withdrawal(space, forecast.DETECTOR_ID, at, now, "red is out of sight")
            )
            trend.standing.discard(forecast.DETECTOR_ID)
        if rise is not None:
            trend.standing.add(rate_of_rise.DETECTOR_ID)
            found.append(rise)
        elif rate_of_rise.DETECTOR_ID in trend.standing and not self._rise.raised(space.id):
            found.append(
                self._withdrawal(space, rate_of_rise.DETECTOR_ID, at, now, "the rise has eased")
            )
            trend.standing.discard(rate_of_rise.DETECTOR_ID)
        return found

    def _withdraw(
        self, space: SmartSpace, trend: _Trend, at: datetime, now: datetime, reason: str
    ) -> list[Detection]:
        found = [self._withdrawal(space, d, at, now, reason) for d in sorted(trend.standing)]
        trend.standing.clear()
        return found

    def _withdrawal(
        self, space: SmartSpace, detector: str, at: datetime, now: datetime, reason: str
    ) -> Detection:
        occupancy = self._density.occupancy(space.id) or 0.0
        density_p_m2 = occupancy / space.area_m2
        return Detection(
            source=detector.replace(".", "-"),
            space_id=space.id,
            observed_at=at,
            received_at=now,
            location=space.centroid,
            derived_from=self._density.sources(space.id),
            detector=detector,
            detection_type=TREND_TYPES[detector],
            level=Level.NORMAL,
            summary=f"{space.name}: {_WHAT[detector]} withdrawn, {reason} "
            f"({density_p_m2:.2f} persons/m2)",
            crowd=CrowdState(
                occupancy_persons=occupancy,
                area_m2=space.area_m2,
                density_p_m2=density_p_m2,
                level_of_service=level_of_service(density_p_m2, area_use(space.space_type)),
            ),
        )

    def state(self, space_id: str) -> CrowdState | None:
        """The latest crowd measure of a space, or None before its first observation."""
        return self._density.state(space_id)

    def occupancy(self, space_id: str) -> float | None:
        """The space's occupancy estimate, or None before its first observation."""
        return self._density.occupancy(space_id)

    def level(self, space_id: str) -> Level:
        """The space's level on the density ladder."""
        return self._density.level(space_id)

    def restore(self, space_id: str, occupancy_persons: float, level: Level) -> None:
        """Start a space from an occupancy and ladder level saved by an earlier run."""
        self._density.restore(space_id, occupancy_persons, level)

    def resume(self, detections: Iterable[Detection]) -> None:
        """Resume from the latest stored detection of each type per space (after a restart):
        the ladder's occupancy and level, and the trend warnings still standing, so they are
        withdrawn in due course rather than left standing for ever."""
        for detection in sorted(detections, key=lambda d: d.observed_at):
            space_id = detection.space_id
            if space_id not in self._spaces:
                continue
            if detection.detector == density.DETECTOR_ID and detection.crowd is not None:
                self.restore(space_id, detection.crowd.occupancy_persons, detection.level)
            elif detection.detector in TREND_TYPES:
                trend = self._trends.setdefault(space_id, _Trend())
                if detection.level is Level.NORMAL:
                    trend.standing.discard(detection.detector)
                    continue
                trend.standing.add(detection.detector)
                if detection.detector == forecast.DETECTOR_ID:
                    self._warning.mark_warned(space_id)
                else:
                    self._rise.mark_raised(space_id)
