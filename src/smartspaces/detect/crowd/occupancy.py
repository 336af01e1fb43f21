"""Occupancy of a space from entry/exit counters, corrected for the drift of their balance.

Counters miss people (groups walking abreast, a beam blocked by a pushchair) and now and then
count one twice, and the misses do not cancel: a counter that misses 3 % of the departures adds
3 % of every departure to the balance, for as long as it counts. The estimator corrects in
three ways, each tested on a series with injected drift (tests/detect/crowd/test_occupancy.py):

1. **Clamp at zero.** A balance below zero proves the counts are off (more left than came); the
   estimate stays at zero and the amount clamped is kept as evidence of drift.
2. **Reconciliation with a reference.** An absolute count (a camera zone covering the space, a
   steward's count, a known-empty moment such as closing time) moves the balance toward it:
   at once with time constant 0, else by ``1 - exp(-dt / time_constant)`` of the error, ``dt``
   being the time since the previous reference. That is a complementary filter: the counters
   carry the fast changes, the reference the slow truth. A space with no counts between two
   references (a camera-only zone) simply takes the reference.
3. **A learnt bias.** Each reconciliation measures the drift per counted crossing since the one
   before (``error / crossings``, once there were ``MIN_CROSSINGS`` of them); the running
   estimate, updated by ``learning_rate``, is applied to every later count, so the balance is
   corrected between references and not only at them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from smartspaces.detect.crowd.errors import CrowdMeasureError

MIN_CROSSINGS = 200.0
"""Crossings a drift measurement needs: over fewer, the reference's own noise dominates."""
MAX_BIAS = 0.25
"""The learnt bias is kept within +-25 % of the counted crossings: beyond, a counter is broken,
not drifting, and the reference alone should be trusted."""


def _checked(value: float, what: str) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise CrowdMeasureError(f"{what} must be a finite number >= 0, got {value!r}")
    return value


@dataclass
class OccupancyEstimator:
    """The occupancy of one space; ``count`` with each interval, ``reference`` when one comes.

    >>> estimate = OccupancyEstimator()
    >>> estimate.count(entries=120, exits=20)
    100.0
    >>> estimate.count(entries=0, exits=150)  # more left than came: the counts are off
    0.0
    >>> estimate.clamped_persons
    50.0
    """

    time_constant_s: float = 0.0
    learning_rate: float = 0.0
    persons: float = 0.0
    bias: float = 0.0  # persons added to the balance per counted crossing (negative: removed)
    clamped_persons: float = 0.0  # total lifted back to zero by the clamp
    corrected_persons: float = 0.0  # total (signed) moved by references
    _crossings: float = field(default=0.0, repr=False)  # counted since the last reference
    _reference_at: datetime | None = field(default=None, repr=False)
    _leftover: float = field(default=0.0, repr=False)  # error the last reference left standing

    def count(self, entries: float = 0.0, exits: float = 0.0) -> float:
        """Account for one counting interval; returns the new estimate."""
        crossings = _checked(entries, "entries") + _checked(exits, "exits")
        balance = self.persons + entries - exits + self.bias * crossings
        if balance < 0:
            self.clamped_persons -= balance
            balance = 0.0
        self.persons = balance
        self._crossings += crossings
        return balance

    def reference(self, persons: float, at: datetime, certain: bool = False) -> float:
        """Reconcile with an absolute count taken at ``at``; ``certain`` (a known-empty moment,
        a full manual count) replaces the balance whatever the time constant."""
        error = _checked(persons, "a reference count") - self.persons
        previous = self._reference_at
        if certain or self.time_constant_s == 0 or previous is None or self._crossings == 0:
            gain = 1.0
        else:
            elapsed = max((at - previous).total_seconds(), 0.0)
            gain = 1.0 - math.exp(-elapsed / self.time_constant_s)
        if self.learning_rate > 0 and previous is not None and self._crossings >= MIN_CROSSINGS:
            # what drifted since the last reference, not what it left uncorrected
            drift = (error - self._leftover) / self._crossings
            bias = self.bias + self.learning_rate * drift
            self.bias = min(MAX_BIAS, max(-MAX_BIAS, bias))
        self.persons += gain * error
        self.corrected_persons += gain * error
        self._leftover = (1.0 - gain) * error
        self._crossings = 0.0
        self._reference_at = at
        return self.persons

    def empty(self, at: datetime) -> float:
        """A known-empty moment (closing time, a cleared venue): the balance restarts at zero."""
        return self.reference(0.0, at, certain=True)
