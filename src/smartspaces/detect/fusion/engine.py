"""The fusion engine: pure situation assessment over detections and observations (JDL 1-3)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from smartspaces.config import FusionSettings
from smartspaces.detect.fusion import evidence
from smartspaces.detect.fusion.evidence import ConditionState, Item
from smartspaces.detect.fusion.loading import load_rules
from smartspaces.detect.fusion.matching import (
    Evidence,
    Matcher,
    Places,
    compile_patterns,
    heading_deg,
    subject,
)
from smartspaces.detect.fusion.ruleset import Condition, Rule, RuleSet
from smartspaces.detect.fusion.situations import OpenSituation, summarise
from smartspaces.events import AnyEvent, Detection, Device, Observation, Situation, SmartSpace

_MAX_INDEXED = 10_000  # distinct detection types / quantities remembered by the type index


@dataclass(slots=True, eq=False)  # hashed by identity: a key of per-event bookkeeping
class _Slot:
    """A rule with its evidence, one state per condition."""

    rule: Rule
    states: list[ConditionState]


_Target = tuple[_Slot, int, bool]  # (rule, condition index, clears its latest state)
_CLEARED, _REFRESHED, _ADDED = 0, 1, 2  # what an event did to a rule's evidence in a space


class FusionEngine:
    """Correlates events in space and time into evolving Situations, by rules given as data.

    ``step(event, now)`` takes a Detection or an Observation (anything else is ignored) and
    returns the situations it opens, updates or ends (a state they needed was cleared);
    ``tick(now)`` ends those whose window lapsed without new evidence. A situation keeps its
    ``started_at`` across updates; its last event has level normal and a summary starting with
    "Ended: ". Only events in the given spaces count; memory is bounded by the settings."""

    def __init__(
        self,
        rules: RuleSet,
        spaces: Sequence[SmartSpace],
        devices: Mapping[str, Device] | None = None,
        asset_spaces: Mapping[str, frozenset[str]] | None = None,
        asset_kinds: Mapping[str, str] | None = None,
        settings: FusionSettings | None = None,
    ) -> None:
        self._settings = settings or FusionSettings()
        devices = devices or {}
        self._places = Places(spaces, devices, asset_spaces or {})
        self._matcher = Matcher(devices, asset_kinds or {})
        self._open: OrderedDict[tuple[str, str], OpenSituation] = OrderedDict()
        self._slots: dict[str, _Slot] = {}
        self._rules = rules
        self._by_type: dict[str, tuple[_Target, ...]] = {}
        self._by_quantity: dict[str, tuple[_Target, ...]] = {}
        self._install(rules)

    @classmethod
    def from_settings(
        cls,
        settings: FusionSettings,
        spaces: Sequence[SmartSpace],
        devices: Mapping[str, Device] | None = None,
        asset_spaces: Mapping[str, frozenset[str]] | None = None,
        asset_kinds: Mapping[str, str] | None = None,
    ) -> FusionEngine:
        """An engine with the rules file the settings name (the shipped one by default);
        raises ``RulesError`` when that file cannot be used."""
        rules = load_rules(settings.rules_file)
        return cls(rules, spaces, devices, asset_spaces, asset_kinds, settings)

    @property
    def rules(self) -> RuleSet:
        return self._rules

    def open_situations(self) -> list[Situation]:
        """The open situations as they last stood (for a newcomer's picture)."""
        return [op.event(op.observed_at, op.received_at, "current") for op in self._open.values()]

    def reload(self, rules: RuleSet, now: datetime) -> list[Situation]:
        """Swap in checked rules; unchanged rules keep their evidence and open situations,
        situations of changed or removed rules end (returned). Load and check the file first
        (``load_rules``): a bad file raises there and this engine keeps its rules."""
        new = {rule.id: rule for rule in rules}
        ended = [
            self._end(key, now, now, "its rule was changed or removed")
            for key in list(self._open)
            if new.get(key[0]) != self._slots[key[0]].rule
        ]
        self._install(rules)
        return ended

    def step(self, event: AnyEvent, now: datetime) -> list[Situation]:
        """Account for one event; returns the situations it opens, updates or ends."""
        if isinstance(event, Detection):
            targets = self._by_type.get(event.detection_type)
            if targets is None:
                targets = self._index(self._by_type, event.detection_type, True)
        elif isinstance(event, Observation):
            targets = self._by_quantity.get(event.quantity)
            if targets is None:
                targets = self._index(self._by_quantity, event.quantity, False)
        else:
            return []
        if not targets:
            return []
        return self._apply(event, targets, now)

    def tick(self, now: datetime) -> list[Situation]:
        """End the situations whose rule no longer holds, measured on the event clock moved on
        by the time passed since their last evidence (so late but steady feeds do not flap)."""
        ended = []
        now_ts = now.timestamp()
        # until some of its evidence ages out a situation surely holds: only those are asked
        for key in [key for key, op in self._open.items() if now_ts > op.due]:
            op, slot = self._open[key], self._slots[key[0]]
            found = evidence.assess(
                slot.rule, slot.states, key[1], op.last_t + now_ts - op.last_now
            )
            if found is None:
                reason = f"no new evidence for {slot.rule.window_s:g} s"
                ended.append(self._end(key, now, now, reason))
            else:
                op.expires_t = evidence.expiry(slot.rule, found)
                op.due = op.expires_t - op.last_t + op.last_now
        return ended

    def _apply(
        self, event: Evidence, targets: tuple[_Target, ...], now: datetime
    ) -> list[Situation]:
        t = event.observed_at.timestamp()
        touched: dict[tuple[_Slot, str], int] = {}
        for slot, index, clears in targets:
            state = slot.states[index]
            cond = state.condition
            if state.latest and state.newer_than(subject(event, True), t):
                continue  # a late event does not replace a newer state of the same subject
            if clears or not self._matcher.accepts(cond, event):
                if state.latest:  # a newer state of the same subject supersedes the old one
                    for anchor in state.clear(subject(event, True)):
                        touched.setdefault((slot, anchor), _CLEARED)
                continue
            anchors = self._places.anchors(cond.scope, event)
            if not anchors:
                continue
            item = Item(t, subject(event, state.latest), event, _confidence(cond, event), None)
            if cond.min_heading_spread_deg is not None:
                item.heading = heading_deg(event)
            # a reading that repeats a state already held is not news (a counter reporting
            # "nobody" every 10 s); a detection always is
            held = state.holding(item.subject) if isinstance(event, Observation) else ()
            for anchor in state.add(item, anchors):
                touched.setdefault((slot, anchor), _CLEARED)
            for anchor in anchors:
                change = _REFRESHED if anchor in held else _ADDED
                touched[(slot, anchor)] = max(touched.get((slot, anchor), _CLEARED), change)
        found: list[Situation] = []
        for (slot, anchor), change in touched.items():
            found.extend(self._assess(slot, anchor, event, t, now, change))
        return found

    def _assess(
        self, slot: _Slot, anchor: str, event: Evidence, t: float, now: datetime, change: int
    ) -> list[Situation]:
        """Open, update or end the situation of ``slot`` in ``anchor`` after ``event``."""
        rule, key = slot.rule, (slot.rule.id, anchor)
        op = self._open.get(key)
        if change == _REFRESHED and op is not None:
            # still holding (the refreshed state counts again): kept alive, nothing to tell
            op.hold(t, now)
            self._open.move_to_end(key)
            return []
        # an open situation is judged at its newest evidence: a late event must not end it
        found = evidence.assess(rule, slot.states, anchor, t if op is None else max(t, op.last_t))
        if found is None:
            if op is not None and change == _CLEARED:  # a state it needed was cleared
                return [self._end(key, event.observed_at, now, "a condition no longer holds")]
            if op is not None:
                op.due = float("-inf")  # superseded or dropped: the next tick decides
            return []
        if change == _CLEARED:
            return []
        out: list[Situation] = []
        if op is None:
            limit = self._settings.max_open_situations
            if len(self._open) >= limit:  # the least recently updated one makes room
                oldest = next(iter(self._open))
                reason = f"closed to keep at most {limit} open situations"
                out.append(self._end(oldest, now, now, reason))
            space = self._places.spaces[anchor]
            op = OpenSituation(
                rule, space, event.observed_at, self._settings.max_provenance_ids, now
            )
            self._open[key] = op
            # provenance in the order things happened, across conditions
            ids = [i.event.id for i in sorted((i for c in found for i in c), key=lambda i: i.t)]
        else:
            self._open.move_to_end(key)
            counted = any(i.event is event for items in found for i in items)
            ids = [event.id] if counted else []
        level, confidence = evidence.level(rule, found), evidence.confidence(rule, found)
        new = op.add(ids)
        op.hold(t, now, evidence.expiry(rule, found))
        if not new and level == op.level and confidence == op.confidence:
            return out  # a repeat of evidence already behind the situation
        op.level, op.confidence = level, confidence
        op.summary = summarise(rule, op.space, found, confidence)
        out.append(op.event(event.observed_at, now, event.id))
        return out

    def _end(
        self, key: tuple[str, str], observed_at: datetime, now: datetime, reason: str
    ) -> Situation:
        return self._open.pop(key).ended(observed_at, now, reason)

    def _install(self, rules: RuleSet) -> None:
        limit = self._settings.max_evidence
        slots: dict[str, _Slot] = {}
        for rule in rules:
            old = self._slots.get(rule.id)
            if old is not None and old.rule == rule:
                slots[rule.id] = old
            else:
                states = [ConditionState(c, rule.window_s, limit) for c in rule.conditions]
                slots[rule.id] = _Slot(rule, states)
        self._rules, self._slots = rules, slots
        self._by_type, self._by_quantity = {}, {}

    def _index(
        self, index: dict[str, tuple[_Target, ...]], key: str, detection: bool
    ) -> tuple[_Target, ...]:
        """The (rule, condition) pairs an event type concerns: found once, then looked up."""
        targets: list[_Target] = []
        for slot in self._slots.values():
            for i, cond in enumerate(slot.rule.conditions):
                if detection != (cond.kind == "detection"):
                    continue
                if not detection:
                    if key in cond.quantities:
                        targets.append((slot, i, False))
                elif compile_patterns(cond.detection_types).fullmatch(key):
                    targets.append((slot, i, False))
                elif cond.cleared_by and compile_patterns(cond.cleared_by).fullmatch(key):
                    targets.append((slot, i, True))
        if len(index) >= _MAX_INDEXED:
            index.clear()  # unbounded type names must not grow memory; rebuilding is cheap
        index[key] = tuple(targets)
        return index[key]


def _confidence(cond: Condition, event: Evidence) -> float:
    # a detection brings its own confidence; a reading is worth what the rule says
    return event.confidence if isinstance(event, Detection) else cond.confidence
