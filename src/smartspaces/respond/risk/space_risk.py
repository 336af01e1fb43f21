"""The live risk level of each smart space: the highest level any current detection gives it.

Pure: ``step(detection, now)`` returns a RiskLevel when a space's risk changes. Later issues
add situations, infrastructure assets and cascades; the contract (one RiskLevel per change,
derived from the detections behind it) stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from smartspaces.events import Detection, Level, RiskLevel

SOURCE = "risk.space"
_SCORE = {Level.NORMAL: 0.0, Level.AMBER: 0.4, Level.RED: 0.75, Level.CRITICAL: 1.0}


class SpaceRiskAssessor:
    """Keeps, per space, the latest level of each kind of detection and their maximum."""

    def __init__(self) -> None:
        self._levels: dict[str, dict[str, tuple[Level, str]]] = {}
        self._risk: dict[str, Level] = {}

    def step(self, detection: Detection, now: datetime) -> RiskLevel | None:
        """Update the space with this detection; a RiskLevel if the space's level changed."""
        per_type = self._levels.setdefault(detection.space_id, {})
        per_type[detection.detection_type] = (detection.level, detection.id)
        level, _ = max(per_type.values(), key=lambda entry: entry[0].rank)
        if (
            level == self._risk.get(detection.space_id, Level.NORMAL)
            and detection.space_id in self._risk
        ):
            return None
        self._risk[detection.space_id] = level
        contributing = tuple(i for lvl, i in per_type.values() if lvl != Level.NORMAL)
        reasons = (detection.summary,) if detection.summary else ()
        return RiskLevel(
            source=SOURCE,
            space_id=detection.space_id,
            observed_at=detection.observed_at,
            received_at=now,
            location=detection.location,
            derived_from=contributing or (detection.id,),
            level=level,
            score=_SCORE[level],
            reasons=reasons,
        )

    def restore(self, detections: Iterable[Detection]) -> None:
        """Start from the latest detection of each kind per space, saved by an earlier run."""
        for detection in sorted(detections, key=lambda d: d.observed_at):
            per_type = self._levels.setdefault(detection.space_id, {})
            per_type[detection.detection_type] = (detection.level, detection.id)
        for space_id, per_type in self._levels.items():
            self._risk[space_id] = max(per_type.values(), key=lambda entry: entry[0].rank)[0]

    def level(self, space_id: str) -> Level:
        return self._risk.get(space_id, Level.NORMAL)
