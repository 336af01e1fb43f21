"""The density ladder's rate-of-rise rule: amber when a space fills faster than a set rate.

A square at 1.5 persons/m2 gaining 0.5 per minute is below amber but will be at red in five
minutes; the absolute thresholds alone would wait. The rise is the Theil-Sen slope (median of the
pairwise slopes) of the readings in the last ``rise_window_s``, so one miscounted interval
neither raises nor hides it. Nearly empty spaces are left alone (``rise_min_density_p_m2``):
ten people walking into a small room double its density without any danger.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.level_of_service import area_use, level_of_service
from smartspaces.detect.crowd.theil_sen import pairs, quantile_sorted
from smartspaces.events import CrowdState, Detection, Level, SmartSpace

DETECTOR_ID = "crowd.rate_of_rise"
MIN_READINGS = 3
REARM_FRACTION = 0.5
"""The rule re-arms once the rise falls below this share of the limit (no flapping)."""


class RiseLimits(Protocol):
    """The settings the rule reads (``CrowdSettings`` carries them)."""

    @property
    def rise_amber_p_m2_min(self) -> float: ...
    @property
    def rise_window_s(self) -> float: ...
    @property
    def rise_min_density_p_m2(self) -> float: ...


class RiseSettings(BaseModel):
    """Rate-of-rise limits (the same fields belong in config.py's ``CrowdSettings``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rise_amber_p_m2_min: float = Field(default=0.5, gt=0, description="Amber above this rise")
    rise_window_s: float = Field(default=120.0, gt=0, description="Readings the rise uses")
    rise_min_density_p_m2: float = Field(
        default=1.0, ge=0, description="No rise alarm below this density"
    )


def rise_rate_p_m2_min(seconds: npt.ArrayLike, densities: npt.ArrayLike) -> float:
    """Theil-Sen slope of density over time, in persons/m2 per minute (NaN with < 2 readings)."""
    t, y = np.asarray(seconds, dtype=np.float64), np.asarray(densities, dtype=np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise CrowdMeasureError("times and densities must be 1-d arrays of one length")
    if not (np.isfinite(t).all() and np.isfinite(y).all()):
        raise CrowdMeasureError("times and densities must be finite numbers")
    if t.size < 2:
        return math.nan
    i, j = pairs(t.size)
    dt = t[j] - t[i]
    if (dt == 0).any():
        raise CrowdMeasureError("two readings at the same time")
    return quantile_sorted(np.sort((y[j] - y[i]) / dt), 0.5) * 60.0


class RateOfRise:
    """Per-space rate-of-rise rule; ``step`` returns an amber Detection when a rise starts."""

    def __init__(self, settings: RiseLimits, source: str = "crowd-rate-of-rise") -> None:
        self._settings = settings
        self._source = source
        self._readings: dict[str, deque[tuple[datetime, float]]] = {}
        self._raised: set[str] = set()

    def step(
        self,
        space: SmartSpace,
        at: datetime,
        density_p_m2: float,
        now: datetime,
        derived_from: tuple[str, ...] = (),
    ) -> Detection | None:
        """Add a reading; an amber Detection (sourced from ``derived_from``) when a rise starts."""
        if not (math.isfinite(density_p_m2) and density_p_m2 >= 0):
            raise CrowdMeasureError(f"density must be a finite number >= 0, got {density_p_m2!r}")
        readings = self._readings.setdefault(space.id, deque())
        if readings and at <= readings[-1][0]:
            raise CrowdMeasureError(f"readings must move forward in time: {at} came late")
        readings.append((at, density_p_m2))
        s = self._settings
        while (at - readings[0][0]).total_seconds() > s.rise_window_s:
            readings.popleft()
        # half a window of history at least, so two readings a second apart decide nothing
        span = (at - readings[0][0]).total_seconds()
        if len(readings) < MIN_READINGS or span < s.rise_window_s / 2:
            return None
        rate = rise_rate_p_m2_min(
            [(r[0] - at).total_seconds() for r in readings], [r[1] for r in readings]
        )
        if rate < REARM_FRACTION * s.rise_amber_p_m2_min:
            self._raised.discard(space.id)
        if (
            rate < s.rise_amber_p_m2_min
            or density_p_m2 < s.rise_min_density_p_m2
            or space.id in self._raised
        ):
            return None
        self._raised.add(space.id)
        occupancy = density_p_m2 * space.area_m2
        return Detection(
            source=self._source,
            space_id=space.id,
            observed_at=at,
            received_at=now,
            location=space.centroid,
            derived_from=derived_from,
            detector=DETECTOR_ID,
            detection_type="crowd.density_rising_fast",
            level=Level.AMBER,
            summary=(
                f"{space.name}: density {density_p_m2:.2f} persons/m2 rising {rate:.2f} per "
                f"minute (limit {s.rise_amber_p_m2_min:g})"
            ),
            crowd=CrowdState(
                occupancy_persons=occupancy,
                area_m2=space.area_m2,
                density_p_m2=density_p_m2,
                level_of_service=level_of_service(density_p_m2, area_use(space.space_type)),
            ),
        )

    def raised(self, space_id: str) -> bool:
        """Whether a rise was raised for the space and the rule has not re-armed since."""
        return space_id in self._raised

    def mark_raised(self, space_id: str) -> None:
        """Resume a rise raised before a restart: no second one for the same rise."""
        self._raised.add(space_id)
