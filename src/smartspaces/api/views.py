"""Wire models of the API's answers (kept apart from the store's rows and the event models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from smartspaces.events import GeoPoint, GeoPolygon, SmartSpace


class SpaceView(BaseModel):
    """A smart space with its live crowd measure and risk level."""

    id: str
    name: str
    space_type: str
    area_m2: float
    geometry: GeoPolygon
    centroid: GeoPoint
    neighbours: tuple[str, ...]
    attribution: str
    occupancy_persons: float | None = None
    density_p_m2: float | None = None
    level_of_service: str | None = None
    risk_level: str = "normal"
    risk_score: float = 0.0
    updated_at: datetime | None = None

    @classmethod
    def of(cls, space: SmartSpace, status: dict[str, Any] | None) -> SpaceView:
        return cls(**space.model_dump(exclude={"id"}), id=space.id, **(status or {}))


class Rejected(BaseModel):
    index: int
    reason: str


class IngestAnswer(BaseModel):
    """What happened to each item of a batch; accepted items are stored whatever the status."""

    accepted: int
    ids: list[str]
    rejected: list[Rejected]
    detail: str


class Problem(BaseModel):
    """An error answer: what was wrong, in words a sender can act on."""

    detail: str
