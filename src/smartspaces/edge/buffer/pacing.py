"""Pure pacing: an adapter thins the streams the store-and-forward backlog says to slow down.

``rate_factor`` (policy.py) gives, per priority, the share of its normal reporting rate a
stream should use while the backlog grows. Devices that listen slow down themselves (the MQTT
adapter publishes the factor as advice); for those that do not, the adapter keeps, per sensor
and quantity, only readings spaced at least ``interval / factor`` apart and counts the rest.
Alarms always pass (their factor is 1), and so does everything while the factor is 1.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from smartspaces.edge.buffer.policy import Priority, priority_of
from smartspaces.events import Observation

DEFAULT_INTERVAL_S = 1.0
"""The reporting interval assumed for a reading that does not state its own ``interval_s``."""

_SLACK = 0.02  # device clocks jitter: a reading 2 % early still counts as on time


@dataclass(frozen=True, slots=True)
class Paced:
    """What ``Pacer.step`` kept, and how many readings it thinned out of the batch."""

    kept: list[Observation]
    thinned: int


class Pacer:
    """Keeps the readings a stream may still report at the buffer's ``rate_factor``.

    ``factor(priority)`` is asked once per batch and priority (``StoreAndForward.rate_factor``).
    State: the time of the last kept reading of each (sensor, quantity), at most ``streams`` of
    them (the oldest forgotten first, which lets their next reading through).

    Example::

        pacer = Pacer(buffer.rate_factor)
        paced = pacer.step(observations)
        await buffer(paced.kept)  # paced.thinned were left out on purpose, and counted
    """

    def __init__(
        self,
        factor: Callable[[Priority], float],
        classify: Callable[[Observation], Priority] = priority_of,
        streams: int = 100_000,
    ) -> None:
        self._factor, self._classify, self._streams = factor, classify, streams
        self._last: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self.thinned = 0

    def step(self, observations: Sequence[Observation]) -> Paced:
        factors = {priority: self._factor(priority) for priority in Priority}
        if all(f >= 1.0 for f in factors.values()):
            return Paced(list(observations), 0)  # nothing to thin: the first reading of each
            # stream passes once thinning starts
        kept: list[Observation] = []
        for observation in observations:
            factor = factors[self._classify(observation)]
            if factor >= 1.0 or self._due(observation, factor):
                kept.append(observation)
                self._remember(observation)
        thinned = len(observations) - len(kept)
        self.thinned += thinned
        return Paced(kept, thinned)

    def _due(self, observation: Observation, factor: float) -> bool:
        last = self._last.get((observation.sensor_id, observation.quantity))
        if last is None:
            return True
        interval = observation.interval_s or DEFAULT_INTERVAL_S
        gap = (observation.observed_at - last).total_seconds()
        # a reading older than the last kept one is a late or replayed one: not thinned
        return gap < 0 or gap >= interval / max(factor, 1e-6) * (1.0 - _SLACK)

    def _remember(self, observation: Observation) -> None:
        key = (observation.sensor_id, observation.quantity)
        last = self._last.get(key)
        if last is not None and last >= observation.observed_at:
            return
        self._last[key] = observation.observed_at
        self._last.move_to_end(key)
        if len(self._last) > self._streams:
            self._last.popitem(last=False)
