"""Expected hourly counts per hour of the week, and an anomaly when a live count leaves the band.

Method: for each of the 168 hours of the (local) week, the band is the median of that hour's past
counts plus or minus ``band_mads`` robust standard deviations (1.4826 x the median absolute
deviation). Both are taken on log(1 + count): footfall varies by a factor, not by a fixed number
of people, so a quiet night hour and a busy noon get bands of the same relative width. A live
count is anomalous when it lies outside the band by more than ``min_excess_persons``, so that
5 people instead of 1 at 4 a.m. never raises an alarm. An hour with fewer than ``min_weeks`` past
weeks gives no verdict: a median of three Mondays is not a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from smartspaces.config import BaselineSettings
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.trajectories import FloatArray
from smartspaces.events import Detection, GeoPoint, Level

DETECTOR_ID = "crowd.baseline"
HOURS_PER_WEEK = 168
MAD_TO_SIGMA = 1.4826
"""MAD x this estimates the standard deviation of normally distributed values."""


@dataclass(frozen=True)
class Band:
    """What an hour of the week usually sees, in persons per hour."""

    expected: float  # the median
    low: float
    high: float
    weeks: int  # how many past values the band rests on


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CrowdMeasureError(f"unknown time zone {name!r}") from exc


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    """0 for Monday 00:00-00:59 local time, up to 167 for Sunday 23:00-23:59."""
    if at.tzinfo is None:
        raise CrowdMeasureError(f"time {at} has no time zone: give aware datetimes")
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


class HourOfWeekBaseline:
    """Baseline of one space's hourly counts: ``fit`` on history, then ``step`` live hours."""

    def __init__(
        self,
        space_id: str,
        settings: BaselineSettings,
        location: GeoPoint | None = None,
        source: str = "crowd-baseline",
    ) -> None:
        self._space_id = space_id
        self._settings = settings
        self._zone = _zone(settings.timezone)
        self._location = location
        self._source = source
        # per hour of the week, the sorted past counts (for the confidence) and the log band
        self._history: list[FloatArray] = [np.zeros(0) for _ in range(HOURS_PER_WEEK)]
        self._centre = np.full(HOURS_PER_WEEK, np.nan)
        self._spread = np.full(HOURS_PER_WEEK, np.nan)

    def fit(self, series: Iterable[tuple[datetime, float]]) -> None:
        """Learn the bands from (start of hour, persons in that hour) pairs; replaces any fit.

        Gaps are fine (a missing hour is simply not a sample); one value per hour is expected.
        """
        slots: list[int] = []
        counts: list[float] = []
        for at, value in series:
            slots.append(hour_of_week(at, self._zone))
            counts.append(_checked(value))
        slot, count = np.asarray(slots, dtype=np.int64), np.asarray(counts, dtype=np.float64)
        order = np.lexsort((count, slot))
        slot, count = slot[order], count[order]
        bounds = np.searchsorted(slot, np.arange(HOURS_PER_WEEK + 1))
        for hour in range(HOURS_PER_WEEK):
            values = count[bounds[hour] : bounds[hour + 1]]
            self._history[hour] = values
            if values.size == 0:
                self._centre[hour] = self._spread[hour] = np.nan
                continue
            logs = np.log1p(values)
            centre = float(np.median(logs))
            self._centre[hour] = centre
            self._spread[hour] = MAD_TO_SIGMA * float(np.median(np.abs(logs - centre)))

    def band(self, at: datetime) -> Band | None:
        """The usual range for the hour of the week ``at`` falls in; None without enough weeks."""
        hour = hour_of_week(at, self._zone)
        weeks = int(self._history[hour].size)
        if weeks < self._settings.min_weeks:
            return None
        s = self._settings
        centre = float(self._centre[hour])
        half = s.band_mads * max(float(self._spread[hour]), s.min_spread)
        return Band(
            expected=math.expm1(centre),
            low=max(0.0, math.expm1(centre - half) - s.min_excess_persons),
            high=math.expm1(centre + half) + s.min_excess_persons,
            weeks=weeks,
        )

    def step(self, at: datetime, value: float, now: datetime | None = None) -> Detection | None:
        """Judge the count of the hour starting at ``at``: a Detection when it leaves the band.

        ``now`` is when the judgement is made (defaults to ``at``, for replays).
        """
        count = _checked(value)
        band = self.band(at)
        if band is None or band.low <= count <= band.high:
            return None
        past = self._history[hour_of_week(at, self._zone)]
        above = count > band.high
        # confidence: the share of past weeks this hour that the live count lies beyond
        beyond = float(np.mean(past < count)) if above else float(np.mean(past > count))
        local = at.astimezone(self._zone)
        return Detection(
            source=self._source,
            space_id=self._space_id,
            observed_at=at,
            received_at=now or at,
            location=self._location,
            detector=DETECTOR_ID,
            detection_type="crowd.count_above_usual" if above else "crowd.count_below_usual",
            # An unusual crowd is worth a look; an unusually empty space is usually a closure or
            # a broken counter, which is for the operator, not an alarm.
            level=Level.AMBER if above else Level.NORMAL,
            confidence=beyond,
            summary=(
                f"{count:.0f} people in the hour from {local:%a %H:%M} local, usually "
                f"{band.expected:.0f} (band {band.low:.0f}-{band.high:.0f} over "
                f"{band.weeks} weeks)"
            ),
        )


def _checked(value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise CrowdMeasureError(f"a count must be a finite number >= 0, got {value!r}")
    return float(value)
