"""Wire models of the incident routes: what an operator sends, what the API answers.

Nobody says who they are in a body: the actor of every change is the authenticated caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from smartspaces.events import Identifier, IncidentStatus, Level, SpaceId
from smartspaces.respond.incidents.lifecycle import TimelineEntry, UnitAssignment
from smartspaces.respond.incidents.playbooks import TrackedMeasure
from smartspaces.respond.incidents.service import StoredCase

MAX_TEXT = 2000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenIncident(_Request):
    alert_id: str = Field(max_length=64)
    note: str = Field(default="", max_length=MAX_TEXT)


class TransitionRequest(_Request):
    to: IncidentStatus
    note: str = Field(default="", max_length=MAX_TEXT)


class UnitRequest(_Request):
    unit_id: Identifier


class NoteRequest(_Request):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class MeasureRequest(_Request):
    status: Literal["activated", "done", "declined"]
    reason: str = Field(default="", max_length=MAX_TEXT)


class LinkAlertRequest(_Request):
    alert_id: str = Field(max_length=64)


class IncidentSummary(BaseModel):
    """An incident in a list: where it stands and how fast it was handled."""

    id: str
    space_id: SpaceId
    title: str
    level: Level
    status: IncidentStatus
    opened_at: datetime
    updated_at: datetime
    version: int = Field(description="Rises by one with every change")
    alert_ids: tuple[str, ...]
    active_units: tuple[str, ...]
    time_to_acknowledge_s: float | None
    time_to_resolve_s: float | None
    access: Literal["read", "act"] | None = Field(
        default=None, description="What the caller may do: read it, or act on it too"
    )

    @classmethod
    def of(cls, stored: StoredCase, **more: Any) -> Self:
        case = stored.case
        return cls(
            id=case.id,
            space_id=case.incident.space_id,
            title=case.incident.title,
            level=case.incident.level,
            status=case.status,
            opened_at=case.opened_at,
            updated_at=stored.updated_at,
            version=stored.version,
            alert_ids=case.alert_ids,
            active_units=case.active_units,
            time_to_acknowledge_s=case.time_to_acknowledge_s(),
            time_to_resolve_s=case.time_to_resolve_s(),
            **more,
        )


class IncidentDetail(IncidentSummary):
    """An incident with its units, notes, measures and timeline."""

    units: tuple[UnitAssignment, ...]
    notes: tuple[TimelineEntry, ...]
    measures: tuple[TrackedMeasure, ...]
    timeline: tuple[TimelineEntry, ...]


def detail(stored: StoredCase, **more: Any) -> IncidentDetail:
    case = stored.case
    return IncidentDetail.of(
        stored,
        units=case.units,
        notes=case.notes,
        measures=case.measures,
        timeline=case.timeline,
        **more,
    )
