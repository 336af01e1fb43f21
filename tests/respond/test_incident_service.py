"""The incident service over a real store: concurrent changes are not lost, acknowledgements
are what the alert policy restores from, the schema matches the tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smartspaces.clock import SimulatedClock
from smartspaces.events import AnyEvent, IncidentStatus, Level
from smartspaces.respond.incidents.errors import UnknownIncident
from smartspaces.respond.incidents.service import IncidentService, shipped_playbooks
from smartspaces.store import Store
from smartspaces.store.incidents import IncidentRepository, StaleCase
from smartspaces.store.tables import Base
from tests.api.test_incidents import AMBER, RED
from tests.conftest import T0


@pytest.fixture
def store(make_store: Callable[[str], Store]) -> Store:
    opened = make_store("sqlite")
    opened.append_events([AMBER, RED])
    return opened


def service(store: Store, published: list[AnyEvent]) -> IncidentService:
    async def publish(events: Sequence[AnyEvent]) -> None:
        published.extend(events)

    return IncidentService(store, SimulatedClock(T0), publish, shipped_playbooks())


def test_the_migrations_create_exactly_the_tables(store: Store) -> None:
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


async def test_a_change_from_a_stale_read_is_applied_again_not_lost(store: Store) -> None:
    published: list[AnyEvent] = []
    incidents = service(store, published)
    opened = await incidents.open(AMBER.id, "operator-1")
    repository = IncidentRepository(store.engine)
    record = repository.get(opened.case.id)
    assert record is not None
    # two writers read version 1; the first wins, the second is refused...
    await incidents.add_note(opened.case.id, "first", "operator-1")
    with pytest.raises(StaleCase):
        repository.save(record, 1, ())
    # ...and the service retries on the fresh case, so both notes survive
    both = await incidents.add_note(opened.case.id, "second", "operator-2")
    assert [n.detail for n in both.case.notes] == ["first", "second"] and both.version == 3
    ids = [e.id for e in published]
    assert len(ids) == len(set(ids)) == 3  # same instant, still distinct events


async def test_acknowledged_alerts_are_the_ones_someone_took_on(store: Store) -> None:
    incidents = service(store, [])
    opened = await incidents.open(RED.id, "operator-1")  # RED is an Update of AMBER
    repository = IncidentRepository(store.engine)
    assert repository.incident_of_alert(AMBER.id) == opened.case.id  # the chain is claimed
    assert repository.acknowledged_alert_ids() == set()
    await incidents.transition(opened.case.id, IncidentStatus.ACKNOWLEDGED, "operator-1", "")
    assert repository.acknowledged_alert_ids() == {AMBER.id, RED.id}
    listed = await incidents.list(IncidentStatus.ACKNOWLEDGED, None, 10)
    assert [s.case.incident.level for s in listed] == [Level.RED]
    with pytest.raises(UnknownIncident):
        await incidents.get("inc-missing")
