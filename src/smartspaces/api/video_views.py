"""Wire models of the video review API: a finding as an operator sees it, and the request that
confirms a threat. Never a box, a track id or a file path: the snapshot is a URL of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from smartspaces.events import AttributeValue, Level
from smartspaces.video_review import Reviewed, SnapshotView

HIDDEN_ATTRIBUTES = frozenset({"snapshot_file"})
"""Where the video node wrote a file is the server's business."""


class ConfirmRequest(BaseModel):
    """Confirm that a finding is a threat: the space's risk rises to ``level``."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["red", "critical"] = Field(
        default="red", description="The level the space's risk rises to"
    )
    note: str = Field(
        default="", max_length=500, description="Why, for the audit trail (kept there only)"
    )


class ConfirmationView(BaseModel):
    id: str = Field(description="The confirming detection (video.threat_confirmed)")
    level: Level
    confirmed_at: datetime
    confirmed_by: str
    alert_ids: list[str] = Field(description="Alerts raised from it so far")


class VideoDetectionView(BaseModel):
    """A video finding for the operator who judges it."""

    id: str
    space_id: str
    camera_id: str | None
    detection_type: str
    detector: str
    level: Level
    confidence: float
    summary: str
    observed_at: datetime
    attributes: dict[str, AttributeValue]
    confirmable: bool = Field(description="A threat can be confirmed on it (not a camera fault)")
    confirmation: ConfirmationView | None
    snapshot_url: str | None = Field(description="Its snapshot, if one is kept")
    snapshot_view: SnapshotView | None = Field(
        description="shaded: people as opaque boxes (until a threat is confirmed); blurred"
    )

    @classmethod
    def of(cls, reviewed: Reviewed, snapshot: SnapshotView | None) -> VideoDetectionView:
        d, c = reviewed.detection, reviewed.confirmation
        confirmation = None
        if c is not None:
            confirmation = ConfirmationView(
                id=c.id,
                level=c.level,
                confirmed_at=c.observed_at,
                confirmed_by=str(c.attributes.get("confirmed_by", "")),
                alert_ids=list(reviewed.alert_ids),
            )
        camera = d.attributes.get("camera_id")
        return cls(
            id=d.id,
            space_id=d.space_id,
            camera_id=str(camera) if camera is not None else None,
            detection_type=d.detection_type,
            detector=d.detector,
            level=d.level,
            confidence=d.confidence,
            summary=d.summary,
            observed_at=d.observed_at,
            attributes={k: v for k, v in d.attributes.items() if k not in HIDDEN_ATTRIBUTES},
            confirmable=reviewed.confirmable,
            confirmation=confirmation,
            snapshot_url=f"/api/v1/video/detections/{d.id}/snapshot" if snapshot else None,
            snapshot_view=snapshot,
        )
