"""Operator review of video findings: list them, show their snapshot (people shaded until a
threat is confirmed, then blurred), confirm a threat.

Confirming makes a Detection ``video.threat_confirmed`` derived from the finding, at the level
the operator chose. Published, risk takes it as the space's evidence: the space's level rises
to it and the alert policy raises (or updates) the space's alert, from which an incident is
opened as for any alert. Its id derives from the finding's, so a finding is confirmed once;
``confirm`` writes it to the store before the caller publishes it, so the confirmation shows at
once and a second one is refused even while the pipeline is busy (the pipeline's own write of
it is then skipped as a duplicate).

Synchronous (the store is); the API calls it in a worker thread.

Example::

    review = VideoReview(store, clock, settings.video.snapshot_dir)
    found = review.get(detection_id)
    confirmation = review.confirm(found.detection, Level.RED, "officer-12")
    await runtime.publish([confirmation])
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartspaces.clock import Clock
from smartspaces.detect.video.snapshot_files import snapshot_files
from smartspaces.errors import SmartspacesError
from smartspaces.events import AttributeValue, Detection, Level, RiskLevel, derive_id
from smartspaces.store import Store
from smartspaces.store.tables import DetectionRow

CONFIRMER = "video.operator_review"
"""The ``source`` and ``detector`` of confirmations."""
CONFIRMED = "video.threat_confirmed"
CONFIRMABLE = frozenset({"video.behaviours", "video.unattended_objects"})
"""Detectors whose findings may be threats (camera health reports are faults, not threats)."""
MAX_SCANNED = 1000
"""A list filtered by camera looks at most at this many newest video findings."""
ALERTS_SCANNED = 50
"""Newest alerts of the space searched for those a confirmation raised."""
SnapshotView = Literal["shaded", "blurred"]


class ReviewError(SmartspacesError):
    """Root of the review's refusals."""


class UnknownFinding(ReviewError):
    """No stored video finding has this id."""


class NotConfirmable(ReviewError):
    """The finding is not one a threat can be confirmed on."""


class AlreadyConfirmed(ReviewError):
    """The finding is confirmed already."""


@dataclass(frozen=True)
class Reviewed:
    """A video finding, its confirmation if any, and the alerts that confirmation raised."""

    detection: Detection
    confirmation: Detection | None = None
    alert_ids: tuple[str, ...] = ()

    @property
    def confirmable(self) -> bool:
        return self.detection.detector in CONFIRMABLE


def confirmation_id(detection_id: str) -> str:
    """The id the confirmation of ``detection_id`` has (whoever confirms it, whenever)."""
    return derive_id("det", CONFIRMER, CONFIRMED, detection_id)


class VideoReview:
    """The video findings in the store, their snapshots in ``snapshot_dir``, confirmations."""

    def __init__(self, store: Store, clock: Clock, snapshot_dir: Path | None) -> None:
        self._store, self._clock, self._folder = store, clock, snapshot_dir

    def findings(
        self,
        limit: int,
        spaces: Collection[str] | None = None,
        space_id: str | None = None,
        camera_id: str | None = None,
    ) -> list[Reviewed]:
        """The newest video findings first (confirmations are shown on their finding, not
        listed), of the given spaces (None: every space), one space, one camera."""
        query = (
            select(DetectionRow.payload)
            .where(DetectionRow.detection_type.startswith("video."))
            .where(DetectionRow.source != CONFIRMER)
            .order_by(DetectionRow.observed_at.desc(), DetectionRow.id)
            .limit(MAX_SCANNED if camera_id else limit)
        )
        if spaces is not None:
            query = query.where(DetectionRow.space_id.in_(sorted(spaces)))
        if space_id is not None:
            query = query.where(DetectionRow.space_id == space_id)
        with Session(self._store.engine) as session:
            found = [Detection.model_validate_json(p) for p in session.scalars(query)]
        if camera_id is not None:
            found = [d for d in found if d.attributes.get("camera_id") == camera_id][:limit]
        confirmed = self._confirmations([d.id for d in found])
        return [Reviewed(d, confirmed.get(confirmation_id(d.id))) for d in found]

    def get(self, detection_id: str) -> Reviewed:
        """One video finding, its confirmation and the alerts raised from it so far."""
        detection = self._store.event(detection_id)
        if (
            not isinstance(detection, Detection)
            or not detection.detection_type.startswith("video.")
            or detection.source == CONFIRMER
        ):
            raise UnknownFinding(f"no video detection {detection_id[:64]!r}")
        confirmation = self._store.event(confirmation_id(detection.id))
        if not isinstance(confirmation, Detection):
            return Reviewed(detection)
        return Reviewed(detection, confirmation, self._alerts_from(confirmation))

    def confirm(self, detection: Detection, level: Level, actor: str) -> Detection:
        """Store the confirmation of a threat on ``detection`` and return it, for the caller
        to publish; NotConfirmable or AlreadyConfirmed otherwise."""
        if detection.detector not in CONFIRMABLE:
            raise NotConfirmable(
                f"{detection.detection_type} is a camera fault, not a threat to confirm"
            )
        now = self._clock.now()
        attributes: dict[str, AttributeValue] = {
            key: detection.attributes[key]
            for key in ("camera_id", "device_id", "zone_id")
            if key in detection.attributes
        }
        attributes |= {
            "confirms": detection.id,
            "confirmed_type": detection.detection_type,
            "confirmed_by": actor[:200],
        }
        confirmation = Detection(
            id=confirmation_id(detection.id),
            source=CONFIRMER,
            space_id=detection.space_id,
            observed_at=now,  # the threat stands now: risk must not take it as old news
            received_at=now,
            location=detection.location,
            derived_from=(detection.id,),
            detector=CONFIRMER,
            detection_type=CONFIRMED,
            level=level,
            confidence=1.0,
            summary=f"Threat confirmed by an operator: {detection.summary}"[:2000],
            attributes=attributes,
        )
        if not self._store.append_events([confirmation]):
            raise AlreadyConfirmed(f"detection {detection.id} is confirmed already")
        return confirmation

    def snapshot(self, reviewed: Reviewed) -> tuple[Path, SnapshotView] | None:
        """The snapshot file to show for the finding: its shaded view until a threat is
        confirmed, its blurred view after; None when it has none (or it is gone)."""
        if self._folder is None:
            return None
        files = snapshot_files(self._folder, reviewed.detection.attributes.get("snapshot_file"))
        if files is None:
            return None
        blurred, shaded = files
        view: SnapshotView = "blurred" if reviewed.confirmation else "shaded"
        path = blurred if reviewed.confirmation else shaded
        return (path, view) if path.is_file() else None

    def _confirmations(self, detection_ids: list[str]) -> dict[str, Detection]:
        wanted = [confirmation_id(i) for i in detection_ids]
        if not wanted:
            return {}
        query = select(DetectionRow.payload).where(DetectionRow.id.in_(wanted))
        with Session(self._store.engine) as session:
            found = [Detection.model_validate_json(p) for p in session.scalars(query)]
        return {d.id: d for d in found}

    def _alerts_from(self, confirmation: Detection) -> tuple[str, ...]:
        # alert <- risk level <- confirmation: the space's newest alerts are few, so look there
        found = []
        for alert in self._store.alerts(ALERTS_SCANNED, confirmation.space_id):
            for source_id in alert.derived_from:
                risk = self._store.event(source_id)
                if isinstance(risk, RiskLevel) and confirmation.id in risk.derived_from:
                    found.append(alert.id)
                    break
        return tuple(found)
