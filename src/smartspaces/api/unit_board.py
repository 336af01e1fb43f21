"""The responder units board: the shipped units plus every change operators made since.

The changes live in the audit trail, and only there: each ``units.updated`` record carries the
unit's new state and position, so the board is the newest record per unit laid over the shipped
file (and the board at an earlier time is the same with the records up to then). Nothing else
stores unit positions: a restart keeps them; retention pruning a unit's last change sends it
back to where the file puts it. Synchronous (the store is); the API calls it in a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartspaces.events import GeoPoint
from smartspaces.scenarios.valencia.units import ResponderUnit, UnitKind, UnitState
from smartspaces.store import Store
from smartspaces.store.audit import records

UPDATED = "units.updated"
"""The audit action of a change to a unit (its details are a ``UnitChange`` plus the actor's)."""
MAX_CHANGES = 20_000
"""The newest changes the board reads back; older ones are superseded in any real use."""


class UnitChange(BaseModel):
    """What one change set: the unit's state and position after it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    state: UnitState
    location: GeoPoint
    note: str = ""


class UnitView(BaseModel):
    """A responder unit as the map shows it."""

    id: str
    callsign: str
    kind: UnitKind
    agency: str
    state: UnitState
    location: GeoPoint
    note: str = ""
    updated_at: datetime | None = Field(None, description="Last change; None: as shipped")
    updated_by: str | None = None


class UnitBoard:
    """The units of one deployment (the shipped file's), with their audited changes."""

    def __init__(self, store: Store, units: Sequence[ResponderUnit]) -> None:
        self._store = store
        self._units = {u.id: u for u in units}

    def board(self, at: datetime | None = None) -> list[UnitView]:
        """Every unit as it was at ``at`` (now when None), in the file's order."""
        views = {u.id: _shipped(u) for u in self._units.values()}
        seen: set[str] = set()
        for record in records(self._store, action=UPDATED, limit=MAX_CHANGES):  # newest first
            if record.target in seen or record.target not in views:
                continue
            if at is not None and record.at > at:
                continue
            try:
                change = UnitChange.model_validate(json.loads(record.details))
            except (ValueError, ValidationError):
                continue  # a record this version cannot read: the unit stays as it was
            seen.add(record.target)
            views[record.target] = views[record.target].model_copy(
                update={
                    "state": change.state,
                    "location": change.location,
                    "note": change.note,
                    "updated_at": record.at,
                    "updated_by": record.actor,
                }
            )
        return list(views.values())

    def current(self, unit_id: str) -> UnitView | None:
        """One unit as it is now (None: no such unit)."""
        if unit_id not in self._units:
            return None
        return next((v for v in self.board() if v.id == unit_id), None)


def _shipped(unit: ResponderUnit) -> UnitView:
    return UnitView(
        id=unit.id,
        callsign=unit.callsign,
        kind=unit.kind,
        agency=unit.agency,
        state=unit.state,
        location=unit.location,
    )
