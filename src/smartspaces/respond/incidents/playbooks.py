"""Playbooks as data: the measures to recommend per alert type and level, validated at load."""

# A playbook is a JSON file (schema: ``Playbook.model_json_schema()``); a misspelt field, a measure
# without the street it closes or a duplicate measure id is refused at load with the file and the
# path of the fault, never discovered during an incident.

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from smartspaces.events import Alert, Identifier, Level, SpaceId
from smartspaces.respond.incidents.errors import PlaybookError

MAX_PLAYBOOK_BYTES = 1_048_576
SHIPPED_DIR = Path(__file__).parent / "playbooks"
"""The playbooks that ship with the package (the València demo's)."""

MeasureKind = Literal[
    "meter_inflow", "stop_inflow", "open_exit", "send_units", "notify", "public_message", "other"
]
MeasureStatus = Literal["proposed", "activated", "done", "declined"]
# What each kind must name, so an operator is never shown "stop inflow at (nowhere)".
_REQUIRED: dict[str, tuple[str, ...]] = {
    "meter_inflow": ("street",),
    "stop_inflow": ("street",),
    "open_exit": ("street",),
    "send_units": ("units", "unit_type"),
    "notify": ("recipient",),
    "public_message": ("message",),
    "other": (),
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Street(_Strict):
    """A street as people name it, and the smart space that covers it if there is one."""

    name: str = Field(min_length=1, max_length=200)
    space_id: SpaceId | None = None


class MeasureSpec(_Strict):
    """One recommended measure, proposed from ``min_level`` up."""

    id: Identifier
    kind: MeasureKind
    title: str = Field(min_length=1, max_length=300, description="What to do, in one line")
    min_level: Literal["amber", "red", "critical"] = "amber"
    street: Street | None = None
    units: int | None = Field(default=None, ge=1, le=500)
    unit_type: str | None = Field(default=None, max_length=100)
    recipient: str | None = Field(default=None, max_length=200)
    message: dict[str, str] | None = Field(
        default=None, description="Public message text by BCP 47 language tag"
    )

    @model_validator(mode="after")
    def _complete(self) -> MeasureSpec:
        missing = [name for name in _REQUIRED[self.kind] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} measure needs {', '.join(missing)}")
        if self.message is not None and not all(self.message.values()):
            raise ValueError("public message texts must not be empty")
        return self

    def applies_at(self, level: Level) -> bool:
        return level.rank >= Level(self.min_level).rank


class Playbook(_Strict):
    """The measures for one kind of alert, optionally only in some spaces."""

    id: Identifier
    title: str = Field(min_length=1, max_length=300)
    version: int = Field(ge=1)
    alert_types: tuple[Identifier, ...] = Field(min_length=1)
    space_ids: tuple[SpaceId, ...] = Field(default=(), description="Empty: every space")
    measures: tuple[MeasureSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Playbook:
        ids = [m.id for m in self.measures]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"measure ids must be unique: {', '.join(duplicates)}")
        return self

    def applies_to(self, alert: Alert) -> bool:
        in_space = not self.space_ids or alert.space_id in self.space_ids
        return alert.alert_type in self.alert_types and in_space

    def measures_for(self, level: Level) -> tuple[MeasureSpec, ...]:
        return tuple(m for m in self.measures if m.applies_at(level))


class MeasureChange(_Strict):
    """One step of a measure: who moved it to which status, when and why."""

    at: AwareDatetime
    actor: Identifier
    status: MeasureStatus
    reason: str = Field(default="", max_length=2000)


class TrackedMeasure(_Strict):
    """A measure of a playbook as it is being carried out for one incident."""

    playbook_id: Identifier
    spec: MeasureSpec
    status: MeasureStatus = "proposed"
    history: tuple[MeasureChange, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.id


def load_playbook(path: Path) -> Playbook:
    """Read and validate one playbook file; raises ``PlaybookError`` saying where and why."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PlaybookError(f"{path}: cannot read: {error}") from error
    if len(data) > MAX_PLAYBOOK_BYTES:
        raise PlaybookError(f"{path}: {len(data)} bytes is over {MAX_PLAYBOOK_BYTES}")
    try:
        return Playbook.model_validate_json(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in error.errors()[:10]
        )
        raise PlaybookError(f"{path}: invalid playbook: {problems}") from error


def load_playbooks(folder: Path) -> tuple[Playbook, ...]:
    """Every ``*.json`` playbook in ``folder``, sorted by file name; ids must be unique."""
    books = tuple(load_playbook(p) for p in sorted(folder.glob("*.json")))
    ids = [b.id for b in books]
    if len(set(ids)) != len(ids):
        raise PlaybookError(f"{folder}: two playbooks share an id: {sorted(ids)}")
    return books


def playbook_for(playbooks: Iterable[Playbook], alert: Alert) -> Playbook | None:
    """The playbook for an alert: one for its space before a general one for its type."""
    matching = [b for b in playbooks if b.applies_to(alert)]
    matching.sort(key=lambda b: (not b.space_ids, b.id))
    return matching[0] if matching else None


def json_schema() -> str:
    """The JSON Schema of a playbook file, for editors and reviewers."""
    return json.dumps(Playbook.model_json_schema(), indent=2)
