"""Sliding-window counters keyed by (attacker, target ...), with bounded memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from smartspaces.events import Level

K = TypeVar("K", bound=Hashable)
S = TypeVar("S")


class DistinctWindow:
    """Distinct items seen within the last ``window_s`` seconds (of flow time).

    Items arrive roughly in time order; a late item is kept as if it arrived now, which can
    only delay its expiry, never lose it.
    """

    __slots__ = ("window_s", "_last", "_order", "first_ts", "events", "level")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[Hashable, float] = {}
        self._order: deque[tuple[float, Hashable]] = deque()
        self.first_ts = 0.0
        self.events = 0  # everything added since the window last emptied, for the summary
        self.level: Level | None = None  # the level last reported for this key

    def add(self, ts: float, item: Hashable) -> int:
        """Record ``item`` at ``ts``; returns how many distinct items the window now holds."""
        self._expire(ts)
        if not self._last:
            # the previous episode is over: the next detection is a new one
            self.first_ts, self.events, self.level = ts, 0, None
        self.events += 1
        self._last[item] = ts
        self._order.append((ts, item))
        return len(self._last)

    def _expire(self, ts: float) -> None:
        horizon = ts - self.window_s
        order, last = self._order, self._last
        while order and order[0][0] < horizon:
            old_ts, item = order.popleft()
            if last.get(item) == old_ts:
                del last[item]

    def items(self) -> list[Hashable]:
        return list(self._last)


class BoundedStates(Generic[K, S]):
    """Per-key state; when full, the key created longest ago is forgotten first."""

    def __init__(self, limit: int, factory: Callable[[], S]) -> None:
        self._limit = limit
        self._factory = factory
        self._states: dict[K, S] = {}

    def get(self, key: K) -> S:
        state = self._states.get(key)
        if state is None:
            if len(self._states) >= self._limit:
                del self._states[next(iter(self._states))]
            state = self._states[key] = self._factory()
        return state

    def __len__(self) -> int:
        return len(self._states)


def ladder(count: float, threshold: float, red_factor: float) -> Level | None:
    """The level a count reaches: amber at the threshold, red at ``red_factor`` times it."""
    if count < threshold:
        return None
    return Level.RED if count >= threshold * red_factor else Level.AMBER


def escalates(window: DistinctWindow, level: Level | None) -> bool:
    """Whether ``level`` is new for this window (first report or a higher one); records it."""
    if level is None or (window.level is not None and level.rank <= window.level.rank):
        return False
    window.level = level
    return True
