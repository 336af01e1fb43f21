"""Edge analytics, pure: tumbling and sliding windows, count aggregation, deadband, rate limits.

What a gateway does before a reading travels: sum counts per window, drop readings that did
not change, and stop a chatty or compromised device from flooding the platform. Every class
takes events and ``now`` and returns what to forward; nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smartspaces.events import Observation

Aggregate = Callable[[list[float]], float]
AGGREGATES: dict[str, Aggregate] = {
    "sum": sum,
    "mean": lambda values: sum(values) / len(values),
    "max": max,
    "min": min,
    "last": lambda values: values[-1],
}


def _window_start(at: datetime, width: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=at.tzinfo)
    return epoch + width * ((at - epoch) // width)


@dataclass
class _Bucket:
    start: datetime
    values: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    last: Observation | None = None


class TumblingWindow:
    """Aggregates each (sensor, quantity) over fixed, aligned windows (e.g. 60 s of counts).

    ``step`` returns the aggregates of windows that an observation closed; ``flush`` those still
    open. The aggregate is an Observation at the window's end, derived from its inputs."""

    def __init__(self, width_s: float, aggregate: str = "sum", source: str = "edge.window") -> None:
        if width_s <= 0 or aggregate not in AGGREGATES:
            raise ValueError(f"window needs width_s > 0 and one of {', '.join(AGGREGATES)}")
        self._width = timedelta(seconds=width_s)
        self._aggregate = AGGREGATES[aggregate]
        self._source = source
        self._open: dict[tuple[str, str], _Bucket] = {}

    def step(self, observation: Observation) -> list[Observation]:
        key = (observation.sensor_id, observation.quantity)
        start = _window_start(observation.observed_at, self._width)
        bucket = self._open.get(key)
        closed: list[Observation] = []
        if bucket is not None and start > bucket.start:
            closed.append(self._emit(bucket))
            bucket = None
        if bucket is None:
            bucket = self._open[key] = _Bucket(start)
        if start < bucket.start:
            return closed  # late for a window already sent: the gateway cannot amend it
        bucket.values.append(observation.value)
        bucket.ids.append(observation.id)
        bucket.last = observation
        return closed

    def flush(self) -> list[Observation]:
        done = [self._emit(b) for b in self._open.values() if b.last is not None]
        self._open.clear()
        return done

    def _emit(self, bucket: _Bucket) -> Observation:
        last = bucket.last
        if last is None:  # pragma: no cover - a bucket is created with its first value
            raise ValueError("empty window")
        end = bucket.start + self._width
        return Observation(
            source=self._source,
            space_id=last.space_id,
            observed_at=end,
            received_at=end,
            location=last.location,
            derived_from=tuple(bucket.ids[-64:]),
            sensor_id=last.sensor_id,
            quantity=last.quantity,
            value=self._aggregate(bucket.values),
            interval_s=self._width.total_seconds(),
        )


class SlidingWindow:
    """The aggregate of the last ``width_s`` of one stream, after every observation."""

    def __init__(self, width_s: float, aggregate: str = "sum") -> None:
        if width_s <= 0 or aggregate not in AGGREGATES:
            raise ValueError(f"window needs width_s > 0 and one of {', '.join(AGGREGATES)}")
        self._width = timedelta(seconds=width_s)
        self._aggregate = AGGREGATES[aggregate]
        self._items: deque[tuple[datetime, float]] = deque()

    def step(self, at: datetime, value: float) -> float:
        self._items.append((at, value))
        while self._items and self._items[0][0] <= at - self._width:
            self._items.popleft()
        return self._aggregate([v for _, v in self._items])


class Deadband:
    """Report on change: forward a reading only if it moved by more than ``band`` since the last
    one forwarded, or if ``heartbeat_s`` passed (so silence still means a dead sensor)."""

    def __init__(self, band: float, heartbeat_s: float) -> None:
        if band < 0 or heartbeat_s <= 0:
            raise ValueError("deadband needs band >= 0 and heartbeat_s > 0")
        self._band, self._heartbeat = band, timedelta(seconds=heartbeat_s)
        self._last: dict[tuple[str, str], tuple[datetime, float]] = {}

    def step(self, observation: Observation) -> bool:
        key = (observation.sensor_id, observation.quantity)
        previous = self._last.get(key)
        if previous is not None:
            at, value = previous
            fresh = observation.observed_at - at < self._heartbeat
            if fresh and abs(observation.value - value) <= self._band:
                return False
        self._last[key] = (observation.observed_at, observation.value)
        return True


class RateLimiter:
    """A token bucket per device: ``rate_per_s`` sustained, ``burst`` at once."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate limit needs rate_per_s > 0 and burst >= 1")
        self._rate, self._burst = rate_per_s, burst
        self._buckets: dict[str, tuple[float, datetime]] = {}

    def allow(self, device_id: str, now: datetime, cost: float = 1.0) -> bool:
        """Whether ``cost`` more items from the device fit now (they are then counted)."""
        tokens, since = self._buckets.get(device_id, (self._burst, now))
        elapsed = max((now - since).total_seconds(), 0.0)
        tokens = min(self._burst, tokens + elapsed * self._rate)
        if tokens < cost:
            self._buckets[device_id] = (tokens, now)
            return False
        self._buckets[device_id] = (tokens - cost, now)
        return True
