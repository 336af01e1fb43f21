"""Open situations: their bounded provenance, plain-language summaries and Situation events."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from smartspaces.detect.fusion.evidence import Item
from smartspaces.detect.fusion.ruleset import Rule
from smartspaces.events import Detection, Level, Observation, Situation, SmartSpace, derive_id

SOURCE = "fusion"
ENDED = "Ended: "
"""How the summary of a situation's last event starts; that event's level is also normal."""

_LISTED = 4  # names listed per condition in a summary; the rest are counted
_SEEN_IDS = 1024  # ids remembered per situation to tell new evidence from repeats


class OpenSituation:
    """One evolving situation: what it is, since when, and the events behind it (bounded).

    Provenance keeps the events that opened the situation and then the latest ones, so an
    operator sees both why it started and what keeps it going."""

    def __init__(
        self, rule: Rule, space: SmartSpace, started_at: datetime, max_ids: int, now: datetime
    ) -> None:
        self.rule, self.space, self.started_at = rule, space, started_at
        self.observed_at = started_at
        self.level, self.confidence, self.summary = rule.level, 0.0, ""
        self.first: list[str] = []
        self._first_max = max_ids // 2
        self.recent: deque[str] = deque(maxlen=max_ids - self._first_max)
        self._seen: dict[str, None] = {}
        self.received_at = now  # when it was last told
        # the event clock of its newest evidence, the engine's clock then, and the event time
        # before which it surely still holds; ``due`` is that moment on the engine's clock
        self.last_t, self.last_now = started_at.timestamp(), now.timestamp()
        self.expires_t = self.due = float("inf")

    def hold(self, t: float, now: datetime, expires_t: float | None = None) -> None:
        """Note evidence at event time ``t`` seen at ``now`` (and when the newest expires)."""
        self.last_t, self.last_now = max(self.last_t, t), now.timestamp()
        if expires_t is not None:
            self.expires_t = expires_t
        self.due = self.expires_t - self.last_t + self.last_now

    def add(self, event_ids: list[str]) -> bool:
        """Record evidence; returns whether any of it is new."""
        new = False
        for event_id in event_ids:
            if event_id in self._seen:
                continue
            new = True
            self._seen[event_id] = None
            if len(self._seen) > _SEEN_IDS:
                del self._seen[next(iter(self._seen))]
            if len(self.first) < self._first_max:
                self.first.append(event_id)
            else:
                self.recent.append(event_id)
        return new

    def derived_from(self) -> tuple[str, ...]:
        return (*self.first, *self.recent)

    def event(self, observed_at: datetime, now: datetime, trigger: str) -> Situation:
        """The situation as it stands now, as an event (id stable for the same inputs)."""
        self.observed_at = max(self.observed_at, observed_at)
        self.received_at = now
        rule, space = self.rule, self.space
        return Situation(
            id=derive_id("sit", rule.id, space.id, self.started_at, trigger),
            source=SOURCE,
            space_id=space.id,
            observed_at=self.observed_at,
            received_at=now,
            location=space.centroid,
            derived_from=self.derived_from(),
            situation_type=rule.id,
            level=self.level,
            jdl_level=rule.jdl_level,
            confidence=self.confidence,
            summary=self.summary[:2000],
            started_at=self.started_at,
        )

    def ended(self, observed_at: datetime, now: datetime, reason: str) -> Situation:
        """The situation's last event: level normal, summary starting with ``ENDED``."""
        self.level = Level.NORMAL
        self.summary = f"{ENDED}{self.rule.title} in {self.space.name}: {reason}"
        return self.event(observed_at, now, "ended")


def summarise(rule: Rule, space: SmartSpace, found: list[list[Item]], confidence: float) -> str:
    """What was correlated, in plain words: each condition and the evidence that met it."""
    parts = [
        f"{cond.label}: {_evidence(items, space)}"
        for cond, items in zip(rule.conditions, found, strict=True)
    ]
    return f"{rule.title} in {space.name}. " + "; ".join(parts) + f" (confidence {confidence:.2f})"


def _evidence(items: list[Item], space: SmartSpace) -> str:
    seen: dict[str, str] = {}
    for item in sorted(items, key=lambda i: i.t):
        seen.setdefault(item.subject, _one(item.event, space))
    texts = list(seen.values())
    extra = len(texts) - _LISTED
    return ", ".join(texts[:_LISTED]) + (f" (+{extra} more)" if extra > 0 else "")


def _one(event: Observation | Detection, space: SmartSpace) -> str:
    where = "" if event.space_id == space.id else f" in {event.space_id}"
    if isinstance(event, Observation):
        return f"{event.sensor_id} {event.quantity}={event.value:g}{where}"
    text = f"{event.detection_type} ({event.level.value}){where}"
    asset = event.attributes.get("asset_id")
    if isinstance(asset, str):
        text += f" on {asset}"
    heading = event.attributes.get("heading_deg")
    if isinstance(heading, int | float) and not isinstance(heading, bool):
        text += f" heading {heading:.0f} deg"
    return text
