"""Incidents as a service: load a case, apply a pure lifecycle step, store, audit, publish.

The steps themselves are the pure functions of ``lifecycle`` and ``measures``; this module is the
I/O around them. Every change is written compare-and-set on the case's version (a change computed
from a stale read is applied again to the fresh case), then audited with who and when, then
published as an ``IncidentStateChanged`` (opening publishes the ``Incident``). Store calls are
synchronous and run in a worker thread; publishing is awaited, so once a method returns the
change is stored, audited and durable on the bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from smartspaces.clock import Clock
from smartspaces.events import Alert, AnyEvent, IncidentStateChanged, IncidentStatus, derive_id
from smartspaces.respond.incidents import lifecycle, measures
from smartspaces.respond.incidents.errors import IncidentError, UnknownAlert, UnknownIncident
from smartspaces.respond.incidents.lifecycle import SOURCE, IncidentCase
from smartspaces.respond.incidents.playbooks import (
    SHIPPED_DIR,
    MeasureStatus,
    Playbook,
    load_playbooks,
    playbook_for,
)
from smartspaces.store import Store
from smartspaces.store.incidents import AlertTaken, CaseRecord, IncidentRepository, StaleCase

Publish = Callable[[Sequence[AnyEvent]], Awaitable[None]]
Step = Callable[[IncidentCase, datetime], IncidentCase]
MAX_TIMELINE_ENTRIES = 2_000
"""A case is rewritten whole at every change: past this many entries, open a new incident."""
_ATTEMPTS = 5


@cache
def shipped_playbooks() -> tuple[Playbook, ...]:
    """The playbooks shipped with the package, read and validated once."""
    return load_playbooks(SHIPPED_DIR)


@dataclass(frozen=True)
class StoredCase:
    """A case as stored: the case, its version (one per change) and when it last changed."""

    case: IncidentCase
    version: int
    updated_at: datetime


class IncidentService:
    """Opens incidents from alerts and applies operators' changes to them."""

    def __init__(
        self, store: Store, clock: Clock, publish: Publish, playbooks: Sequence[Playbook]
    ) -> None:
        self._store, self._clock, self._publish = store, clock, publish
        self._playbooks = tuple(playbooks)
        # a repository only holds the engine: cheap to build per service
        self._cases = IncidentRepository(store.engine)

    # -- reads --------------------------------------------------------------------------------
    async def get(self, incident_id: str) -> StoredCase:
        record = await asyncio.to_thread(self._cases.get, incident_id)
        if record is None:
            raise UnknownIncident(f"unknown incident {incident_id!r}")
        return _stored(record)

    async def list(
        self, status: IncidentStatus | None, space_id: str | None, limit: int
    ) -> list[StoredCase]:
        records = await asyncio.to_thread(
            self._cases.list, status.value if status else None, space_id, limit
        )
        return [_stored(r) for r in records]

    # -- changes ------------------------------------------------------------------------------
    async def open(self, alert_id: str, actor: str, note: str = "") -> StoredCase:
        """A new incident for a stored alert, with its playbook's measures proposed."""
        stored, event = await asyncio.to_thread(self._open, alert_id, actor, note)
        await self._publish([event])
        return stored

    async def transition(
        self, incident_id: str, to: IncidentStatus, actor: str, note: str
    ) -> StoredCase:
        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            return lifecycle.transition(case, to, actor, now, note)[0]

        return await self._change(incident_id, actor, "status", step)

    async def assign_unit(self, incident_id: str, unit_id: str, actor: str) -> StoredCase:
        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            return lifecycle.assign_unit(case, unit_id, actor, now)

        return await self._change(incident_id, actor, "unit_assigned", step)

    async def release_unit(self, incident_id: str, unit_id: str, actor: str) -> StoredCase:
        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            return lifecycle.release_unit(case, unit_id, actor, now)

        return await self._change(incident_id, actor, "unit_released", step)

    async def add_note(self, incident_id: str, text: str, actor: str) -> StoredCase:
        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            return lifecycle.add_note(case, text, actor, now)

        return await self._change(incident_id, actor, "note", step)

    async def set_measure(
        self, incident_id: str, measure_id: str, status: MeasureStatus, actor: str, reason: str
    ) -> StoredCase:
        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            return measures.set_measure(case, measure_id, status, actor, now, reason)

        return await self._change(incident_id, actor, "measure", step)

    async def link_alert(self, incident_id: str, alert_id: str, actor: str) -> StoredCase:
        """Attach another alert (an escalation, a neighbouring space's) and propose the measures
        its level adds."""
        alert = await asyncio.to_thread(self._alert, alert_id)

        def step(case: IncidentCase, now: datetime) -> IncidentCase:
            linked = lifecycle.link_alert(case, alert, actor, now)
            book = playbook_for(self._playbooks, alert)
            return measures.propose(linked, book, alert, actor, now) if book else linked

        return await self._change(incident_id, actor, "alert_linked", step, _chain(alert))

    # -- the I/O around the pure steps ---------------------------------------------------------
    def _alert(self, alert_id: str) -> Alert:
        alert = self._store.event(alert_id)
        if not isinstance(alert, Alert):
            raise UnknownAlert(f"unknown alert {alert_id!r}")
        if alert.msg_type == "Cancel":
            raise IncidentError(f"alert {alert_id} is a cancellation: nothing to handle")
        return alert

    def _open(self, alert_id: str, actor: str, note: str) -> tuple[StoredCase, AnyEvent]:
        alert = self._alert(alert_id)
        now = self._clock.now()
        case = lifecycle.open_from_alert(alert, actor, now)
        book = playbook_for(self._playbooks, alert)
        if book is not None:
            case = measures.propose(case, book, alert, actor, now)
        if note:
            case = lifecycle.add_note(case, note, actor, now)
        record = _record(case, 1, now)
        try:
            # the whole chain is claimed, so an Update of the same alert opens no second incident
            self._cases.add(record, _chain(alert))
        except (AlertTaken, StaleCase) as error:
            raise IncidentError(str(error)) from error
        details = {"alert_id": alert.id, "playbook": book.id if book else None, "version": 1}
        self._store.audit(actor, "incident.opened", case.id, details, now)
        return _stored(record), case.incident

    async def _change(
        self, incident_id: str, actor: str, action: str, step: Step, alerts: Sequence[str] = ()
    ) -> StoredCase:
        stored, event = await asyncio.to_thread(
            self._apply, incident_id, actor, action, step, alerts
        )
        if event is not None:
            await self._publish([event])
        return stored

    def _apply(
        self, incident_id: str, actor: str, action: str, step: Step, alerts: Sequence[str]
    ) -> tuple[StoredCase, IncidentStateChanged | None]:
        for _ in range(_ATTEMPTS):
            current = self._cases.get(incident_id)
            if current is None:
                raise UnknownIncident(f"unknown incident {incident_id!r}")
            before, now = _stored(current), self._clock.now()
            if len(before.case.timeline) >= MAX_TIMELINE_ENTRIES:
                raise IncidentError(f"incident {incident_id} is full: open a new incident")
            after = step(before.case, now)
            if after == before.case:  # a retry of something already done: nothing to record
                return before, None
            record = _record(after, current.version + 1, now)
            try:
                self._cases.save(record, current.version, alerts)
            except StaleCase:
                continue
            except AlertTaken as error:
                raise IncidentError(str(error)) from error
            event = _changed(before.case, after, actor, record.version, now)
            details = {"version": record.version, "change": event.note}
            self._store.audit(actor, f"incident.{action}", incident_id, details, now)
            return _stored(record), event
        raise IncidentError(f"incident {incident_id} is changing too fast: try again")


def _chain(alert: Alert) -> tuple[str, ...]:
    return (alert.id, *alert.references)


def _changed(
    before: IncidentCase, after: IncidentCase, actor: str, version: int, now: datetime
) -> IncidentStateChanged:
    entries = after.timeline[len(before.timeline) :]
    note = "; ".join(f"{e.action}: {e.detail}" if e.detail else e.action for e in entries)
    return IncidentStateChanged(
        # one id per version: several changes in the same instant are still distinct events,
        # and a replay of the same change keeps its id
        id=derive_id("incst", after.id, version),
        source=SOURCE,
        space_id=after.incident.space_id,
        observed_at=now,
        received_at=now,
        # the alerts too, so the alert policy learns which of its alerts someone has taken on
        derived_from=(after.id, *after.alert_ids),
        incident_id=after.id,
        from_status=before.status,
        to_status=after.status,
        actor=actor,
        note=note[:4000],
    )


def _record(case: IncidentCase, version: int, now: datetime) -> CaseRecord:
    return CaseRecord(
        id=case.id,
        space_id=case.incident.space_id,
        status=case.status.value,
        level=case.incident.level.value,
        opened_at=case.opened_at,
        updated_at=now,
        version=version,
        payload=case.model_dump_json(),
    )


def _stored(record: CaseRecord) -> StoredCase:
    case = IncidentCase.model_validate_json(record.payload)
    return StoredCase(case=case, version=record.version, updated_at=record.updated_at)
