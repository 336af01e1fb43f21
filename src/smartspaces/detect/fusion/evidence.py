"""Evidence kept per rule condition and smart space (bounded), and whether a rule holds there."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from smartspaces.detect.fusion.matching import Evidence, heading_spread, noisy_or
from smartspaces.detect.fusion.ruleset import Condition, Rule
from smartspaces.events import Detection, Level


@dataclass(slots=True)
class Item:
    """One event as evidence: when (POSIX seconds, event time), about what, how sure."""

    t: float
    subject: str
    event: Evidence
    confidence: float
    heading: float | None


class ConditionState:
    """Evidence for one condition of one rule, per smart space, bounded by ``max_items``.

    ``holds: window`` keeps the recent events (oldest dropped first); ``holds: latest`` keeps the
    newest event per subject, which a newer event of the same subject replaces or clears."""

    def __init__(self, condition: Condition, window_s: float, max_items: int) -> None:
        self.condition, self.window_s, self.max_items = condition, window_s, max_items
        self.latest = condition.holds == "latest"
        self._recent: dict[str, deque[Item]] = {}
        self._newest: dict[str, dict[str, Item]] = {}
        self._anchors: dict[str, tuple[str, ...]] = {}

    def add(self, item: Item, anchors: tuple[str, ...]) -> tuple[str, ...]:
        """Keep ``item`` as evidence in ``anchors``; returns the spaces where an older subject's
        state was dropped to stay within ``max_items`` (latest conditions only)."""
        if self.latest:
            self.clear(item.subject)
            self._anchors[item.subject] = anchors
            dropped: tuple[str, ...] = ()
            for anchor in anchors:
                newest = self._newest.setdefault(anchor, {})
                newest[item.subject] = item
                if len(newest) > self.max_items:
                    dropped += self.clear(next(iter(newest)))
            return dropped
        oldest = item.t - self.window_s
        for anchor in anchors:
            recent = self._recent.get(anchor)
            if recent is None:
                recent = self._recent[anchor] = deque(maxlen=self.max_items)
            while recent and recent[0].t < oldest:
                recent.popleft()
            recent.append(item)
        return ()

    def newer_than(self, subject: str, t: float) -> bool:
        """Whether ``subject``'s kept state is newer than event time ``t`` (a late event)."""
        anchors = self._anchors.get(subject)
        if not anchors:
            return False
        return self._newest[anchors[0]][subject].t > t

    def holding(self, subject: str) -> tuple[str, ...]:
        """The spaces where ``subject``'s newest state counts now (latest conditions)."""
        return self._anchors.get(subject, ())

    def clear(self, subject: str) -> tuple[str, ...]:
        """Forget the newest state of ``subject``; returns the spaces where it counted."""
        anchors = self._anchors.pop(subject, ())
        for anchor in anchors:
            newest = self._newest.get(anchor)
            if newest is not None:
                newest.pop(subject, None)
                if not newest:
                    del self._newest[anchor]
        return anchors

    def items(self, anchor: str, t: float) -> list[Item]:
        """The evidence that counts in ``anchor`` at event time ``t``."""
        if self.latest:
            newest = self._newest.get(anchor)
            if not newest:
                return []
            max_age = self.condition.max_age_s
            if max_age is None:
                return list(newest.values())
            return [i for i in newest.values() if t - i.t <= max_age]
        recent = self._recent.get(anchor)
        if not recent:
            return []
        window = self.window_s
        return [i for i in recent if -window <= i.t - t <= window]


def enough(cond: Condition, items: list[Item]) -> bool:
    """Whether the evidence meets the condition's count and heading spread."""
    if len({i.subject for i in items}) < cond.min_count:
        return False
    if cond.min_heading_spread_deg is None:
        return True
    headings = {i.subject: i.heading for i in items if i.heading is not None}
    spread = heading_spread(headings.values())
    return len(headings) >= cond.min_count and spread >= cond.min_heading_spread_deg


def assess(
    rule: Rule, states: list[ConditionState], anchor: str, t: float
) -> list[list[Item]] | None:
    """The evidence per condition when ``rule`` holds in ``anchor`` at time ``t``, else None."""
    found: list[list[Item]] = []
    for cond, state in zip(rule.conditions, states, strict=True):
        items = state.items(anchor, t)
        if not items or not enough(cond, items):
            return None
        found.append(items)
    if rule.sequence and not in_order(rule, found):
        return None
    return found


def expiry(rule: Rule, found: list[list[Item]]) -> float:
    """The earliest event time at which some of this evidence stops counting: until then the
    rule cannot stop holding, so nobody needs to ask again."""
    soonest = float("inf")
    for cond, items in zip(rule.conditions, found, strict=True):
        span = rule.window_s if cond.holds == "window" else cond.max_age_s
        if span is not None:
            soonest = min(soonest, min(i.t for i in items) + span)
    return soonest


def in_order(rule: Rule, found: list[list[Item]]) -> bool:
    """Whether the sequence's conditions were met one after the other ("A then B")."""
    names = [c.name for c in rule.conditions]
    after = float("-inf")
    for name in rule.sequence:
        index = names.index(name)
        need, subjects = rule.conditions[index].min_count, set()
        met = None
        for item in sorted(found[index], key=lambda i: i.t):
            if item.t >= after:
                subjects.add(item.subject)
                if len(subjects) >= need:
                    met = item.t
                    break
        if met is None:
            return False
        after = met
    return True


def confidence(rule: Rule, found: list[list[Item]]) -> float:
    """weight x product over conditions of the noisy-OR of their evidence.

    Within a condition, independent pieces of evidence corroborate each other (noisy-OR; a
    subject seen twice counts once, at its best). Every condition is needed, so their beliefs
    multiply; the rule's weight is how often the correlated pattern really is the situation."""
    belief = rule.weight
    for items in found:
        best: dict[str, float] = {}
        for item in items:
            best[item.subject] = max(best.get(item.subject, 0.0), item.confidence)
        belief *= noisy_or(best.values())
    return round(min(max(belief, 0.0), 1.0), 4)


def level(rule: Rule, found: list[list[Item]]) -> Level:
    """The rule's level, raised to the highest level among the detections behind it."""
    top = rule.level
    for items in found:
        for item in items:
            event = item.event
            if isinstance(event, Detection) and event.level.rank > top.rank:
                top = event.level
    return top
