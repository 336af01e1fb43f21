"""What the video behaviours find, and how a finding becomes a Detection on the wire.

A ``Finding`` is internal (it may be keyed by a track); ``to_detection`` keeps only what may
leave the package: the type, level, time, the space, and typed attributes such as
``camera_id``, ``zone_id``, ``speed_m_s``, ``heading_deg``, ``count_persons``. No track id,
box or pixel ever goes into a Detection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from smartspaces.config.video import CameraSettings
from smartspaces.events import AttributeValue, Detection, Level, derive_id

DETECTORS = {
    "behaviour": "video.behaviours",
    "unattended": "video.unattended_objects",
    "health": "video.camera_health",
}
"""The ``detector`` of each kind of finding."""


@dataclass(frozen=True)
class Finding:
    """One behaviour found at ``at`` (seconds); ``key`` tells apart findings of one type at
    the same instant (a zone, a track) and is hashed into the Detection's id only."""

    detection_type: str
    detector: str
    level: Level
    at: float
    summary: str
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    space_id: str | None = None
    key: str = ""
    confidence: float = 0.8


def to_detection(finding: Finding, camera: CameraSettings, now: datetime) -> Detection:
    """The Detection for a finding on ``camera`` (its home space unless the finding says)."""
    space = finding.space_id or camera.home_space
    at = datetime.fromtimestamp(finding.at, UTC)
    attributes: dict[str, AttributeValue] = {
        "camera_id": camera.id,
        "device_id": camera.id,
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in finding.attributes.items()},
    }
    return Detection(
        id=derive_id(
            "det", finding.detector, finding.detection_type, space, at, finding.level,
            camera.id, finding.key,
        ),
        source=finding.detector,
        space_id=space,
        observed_at=at,
        received_at=now,
        detector=finding.detector,
        detection_type=finding.detection_type,
        level=finding.level,
        confidence=finding.confidence,
        summary=f"{finding.summary} (camera {camera.id})"[:2000],
        attributes=attributes,
    )  # fmt: skip


Key = tuple[str, int]
"""What a rule keeps state for: (zone id or "", track id or 0)."""


class Cooldown:
    """Reports the same thing again only after ``after_s`` (per key)."""

    def __init__(self, after_s: float) -> None:
        self._after_s = after_s
        self._last: dict[Key, float] = {}

    def ready(self, key: Key, at: float) -> bool:
        """True (and remembered) if ``key`` was not reported within ``after_s`` of ``at``."""
        last = self._last.get(key)
        if last is not None and at - last < self._after_s:
            return False
        self._last[key] = at
        return True

    def forget(self, remembered: set[int]) -> None:
        """Drop the keys of tracks the tracker forgot, so memory stays bounded."""
        for key in [k for k in self._last if k[1] and k[1] not in remembered]:
            del self._last[key]
