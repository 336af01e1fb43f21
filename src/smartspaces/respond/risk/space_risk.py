"""The risk of each smart space: its evidence, its crowd, and what it publishes.

A space keeps the latest detection of each type and the latest situation of each type (its
evidence) and the latest crowd measure. Its level is never below the highest current evidence
level (alert timings rest on that); score and grade add likelihood, exposure and vulnerability
(``scoring.py``). A crowd measure or an outage stands until replaced; other evidence fades with
age and stops counting after ``evidence_ttl_s``.

``SpaceBook`` is the state; ``SpaceRiskAssessor`` is the space risk without infrastructure, with
the one-detection-in, one-change-out interface of the first risk model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from smartspaces.config.risk import RiskSettings
from smartspaces.events import CrowdState, Detection, Level, RiskLevel, Situation, SmartSpace
from smartspaces.respond.risk import scoring

SOURCE = "risk.space"
MAX_DERIVED = 32


@dataclass(frozen=True)
class Evidence:
    level: Level
    confidence: float
    at: datetime
    event_id: str
    persistent: bool


@dataclass(frozen=True)
class InfraView:
    """The infrastructure serving a space, as risk sees it."""

    vulnerability: float = 0.0
    reasons: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    states: tuple[tuple[str, str], ...] = ()
    """(asset, state) of each serving asset not up: a change here is always news."""


NO_INFRA = InfraView()


@dataclass
class _Space:
    evidence: dict[str, Evidence] = field(default_factory=dict)
    crowd: CrowdState | None = None
    crowd_at: datetime | None = None
    published: RiskLevel | None = None
    infra_states: tuple[tuple[str, str], ...] = ()


def evidence_key(event: Detection | Situation) -> str:
    if isinstance(event, Situation):
        return f"situation:{event.situation_type}"
    return f"detection:{event.detection_type}"


class SpaceBook:
    """Evidence and crowd per space; ``evaluate`` publishes a RiskLevel when the risk moved."""

    def __init__(self, spaces: Mapping[str, SmartSpace], settings: RiskSettings) -> None:
        self._spaces = spaces
        self.settings = settings
        self._state: dict[str, _Space] = {}

    def observe(self, event: Detection | Situation, key: str | None = None) -> None:
        """Take the event as the space's current evidence of its kind (``key``)."""
        space = self._state.setdefault(event.space_id, _Space())
        crowd = event.crowd if isinstance(event, Detection) else None
        persistent = crowd is not None or (key is not None and key.startswith("asset:"))
        key = key or evidence_key(event)
        held = space.evidence.get(key)
        if held is None or held.at <= event.observed_at:  # a late, older report does not win
            space.evidence[key] = Evidence(
                event.level, event.confidence, event.observed_at, event.id, persistent
            )
        if crowd is not None and (space.crowd_at is None or event.observed_at >= space.crowd_at):
            space.crowd, space.crowd_at = crowd, event.observed_at

    def forget(self, space_id: str, key: str) -> None:
        space = self._state.get(space_id)
        if space is not None:
            space.evidence.pop(key, None)

    def fading(self) -> list[str]:
        """Spaces whose risk changes with time alone (they hold fading evidence)."""
        return [
            s
            for s, st in self._state.items()
            if any(not e.persistent for e in st.evidence.values())
        ]

    def level(self, space_id: str) -> Level:
        space = self._state.get(space_id)
        return space.published.level if space and space.published else Level.NORMAL

    def published(self, space_id: str) -> RiskLevel | None:
        space = self._state.get(space_id)
        return space.published if space else None

    def evaluate(
        self,
        space_id: str,
        at: datetime,
        now: datetime,
        infra: InfraView = NO_INFRA,
        trigger: Detection | Situation | None = None,
        publish: bool = True,
    ) -> RiskLevel | None:
        """The space's risk at ``at``; returned when it moved enough to be worth publishing
        (always the first time), else None. ``publish`` False records it silently."""
        settings = self.settings
        space = self._state.setdefault(space_id, _Space())
        ttl = settings.evidence_ttl_s
        for key, item in list(space.evidence.items()):
            if not item.persistent and (at - item.at).total_seconds() > ttl:
                del space.evidence[key]  # no longer current: it stops counting, level too
        current = list(space.evidence.values())
        floor = max((e.level for e in current), key=lambda lvl: lvl.rank, default=Level.NORMAL)
        likelihood = scoring.combine(
            scoring.evidence_weight(
                e.level,
                e.confidence,
                (at - e.at).total_seconds(),
                settings.half_life_s,
                e.persistent,
            )
            for e in current
        )
        density = space.crowd.density_p_m2 if space.crowd else None
        exposure = scoring.exposure(density, settings)
        # two decimals, as shown to people: the grade then always matches the score they read
        score = round(scoring.risk_score(likelihood, exposure, infra.vulnerability, settings), 2)
        grade = scoring.grade(score, settings)
        level = scoring.space_level(floor, infra.vulnerability, grade, settings)
        before = space.published
        if (
            before is not None
            and (before.level, before.grade, space.infra_states) == (level, grade, infra.states)
            and abs(before.score - score) < settings.min_score_change
        ):
            return None
        ids = [trigger.id] if trigger is not None and trigger.space_id == space_id else []
        ids += [e.event_id for e in current if e.level != Level.NORMAL]
        ids += infra.causes
        derived = tuple(dict.fromkeys(ids))[:MAX_DERIVED]
        reasons = [trigger.summary] if trigger is not None and trigger.summary else []
        crowd = f" ({density:.2f} persons/m2)" if density is not None else ""
        reasons.append(
            f"Risk grade {grade} of 5 (score {score:.2f}): likelihood {likelihood:.2f}, "
            f"exposure {exposure:.2f}{crowd}, vulnerability {infra.vulnerability:.2f}."
        )
        reasons += infra.reasons
        if level.rank > floor.rank:
            cause = "extreme risk grade" if grade >= 5 else "infrastructure serving it is out"
            reasons.append(f"Level raised to {level.value}: {cause}.")
        known = self._spaces.get(space_id)
        risk = RiskLevel(
            source=SOURCE,
            space_id=space_id,
            observed_at=at,
            received_at=now,
            location=known.centroid if known else (trigger.location if trigger else None),
            derived_from=derived or ((trigger.id,) if trigger is not None else ()),
            level=level,
            score=score,
            grade=grade,
            reasons=tuple(reasons),
        )
        space.published, space.infra_states = risk, infra.states
        return risk if publish else None


class SpaceRiskAssessor:
    """Space risk from detections alone (no city model): one detection in, at most one change
    out. ``RiskAssessor`` adds infrastructure, situations and cascades."""

    def __init__(
        self,
        settings: RiskSettings | None = None,
        spaces: Mapping[str, SmartSpace] | None = None,
    ) -> None:
        self._book = SpaceBook(spaces or {}, settings or RiskSettings())

    def step(self, detection: Detection, now: datetime) -> RiskLevel | None:
        """Update the space with this detection; a RiskLevel if the space's risk moved."""
        self._book.observe(detection)
        return self._book.evaluate(
            detection.space_id, detection.observed_at, now, trigger=detection
        )

    def restore(self, detections: Iterable[Detection]) -> None:
        """Start from the latest detection of each kind per space, saved by an earlier run."""
        latest: dict[str, datetime] = {}
        for detection in sorted(detections, key=lambda d: d.observed_at):
            self._book.observe(detection)
            latest[detection.space_id] = detection.observed_at
        for space_id, at in latest.items():
            self._book.evaluate(space_id, at, at, publish=False)

    def level(self, space_id: str) -> Level:
        return self._book.level(space_id)
