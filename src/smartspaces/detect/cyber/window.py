"""Sliding-window counters keyed by (attacker, target ...), with bounded memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from itertools import islice
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

    def __len__(self) -> int:
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


Single = tuple[float, float, Hashable, int]
"""A window that has held one item so far: (first time, item's last time, item, events)."""


class WindowMap(Generic[K]):
    """A DistinctWindow per key, made only once a key's window holds two distinct items.

    Most keys never get there (one probe per host and port, one call per peer), and a plain
    tuple of numbers and strings costs the garbage collector nothing, where every window
    object is walked by each full collection. When full, the oldest keys are forgotten.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._states: dict[K, Single | DistinctWindow] = {}

    def add(self, key: K, ts: float, item: Hashable) -> DistinctWindow | None:
        """Record ``item`` for ``key``; its window once it holds two or more distinct items."""
        state = self._states.get(key)
        if state is None:
            if len(self._states) >= self._limit:
                self._states = forget_oldest(self._states, self._limit)
            self._states[key] = (ts, ts, item, 1)
            return None
        if isinstance(state, DistinctWindow):
            state.add(ts, item)
            return state
        first, last, only, events = state
        if last < ts - self._window_s:
            self._states[key] = (ts, ts, item, 1)  # expired: a new episode
        elif item == only:
            # a late repeat cannot shorten the item's life, as in DistinctWindow
            self._states[key] = (first, max(last, ts), only, events + 1)
        else:
            window = self._states[key] = DistinctWindow(self._window_s)
            window.add(last, only)
            window.first_ts, window.events = first, events
            window.add(ts, item)
            return window
        return None


def forget_oldest(states: dict[K, S], limit: int) -> dict[K, S]:
    """``states`` without its oldest eighth (at least one key), for maps grown to ``limit``."""
    drop = max(limit // 8, 1, len(states) - limit + 1)
    return dict(islice(states.items(), drop, None))


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
