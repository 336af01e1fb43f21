"""The running pipeline over the embedded bus and store: restarts resume, failures are retried."""

from __future__ import annotations

from datetime import timedelta

from smartspaces.bootstrap import build_services
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.events import Alert, Observation
from tests.conftest import T0, counts, square


def crowd(people: float, minute: int) -> Observation:
    return counts("occupancy_persons", people, T0 + timedelta(minutes=minute), sensor="cam")


async def test_a_restart_resumes_without_reprocessing_or_losing_anything(
    settings: Settings,
) -> None:
    clock = SimulatedClock(T0)
    first = build_services(settings, clock, spaces=[square("plaza", area_m2=100)])
    await first.runtime.start()
    await first.runtime.publish([crowd(450, 1)])  # red
    await first.runtime.drain()
    await first.close()
    assert first.store.count("alert") == 1

    # Published while nothing was running: must be picked up by the next process.
    second = build_services(settings, clock, spaces=[square("plaza", area_m2=100)])
    await second.bus.publish_many([crowd(20, 2)])
    seen: list[Alert] = []
    second.runtime.add_listener(
        lambda events: seen.extend(e for e in events if isinstance(e, Alert))
    )
    await second.runtime.start()
    await second.runtime.drain()
    await second.close()
    assert second.store.count("observation") == 2  # nothing stored twice
    # The new process resumed the open red alert, so the quiet crowd cancels it.
    assert [(a.msg_type, a.level.value) for a in seen] == [("Cancel", "normal")]
    first_alert = first.store.alerts()[-1]
    assert seen[0].references == (first_alert.id,)


async def test_a_restart_keeps_counting_from_the_stored_occupancy(settings: Settings) -> None:
    clock = SimulatedClock(T0)
    spaces = [square("plaza", area_m2=100)]
    first = build_services(settings, clock, spaces=spaces)
    await first.runtime.start()
    await first.runtime.publish([counts("entries_count", 150, T0)])
    await first.runtime.drain()
    await first.close()
    second = build_services(settings, clock, spaces=spaces)
    await second.runtime.start()
    await second.runtime.publish([counts("entries_count", 100, T0 + timedelta(seconds=10))])
    await second.runtime.drain()
    await second.close()
    state = second.runtime.crowd.state("plaza")
    assert state is not None and state.occupancy_persons == 250
    assert [a.level.value for a in second.store.alerts()] == ["amber"]


async def test_a_failing_batch_is_retried_not_lost(settings: Settings) -> None:
    clock = SimulatedClock(T0)
    services = build_services(settings, clock, spaces=[square("plaza", area_m2=100)])
    failures = {"left": 2}
    real_append = services.store.append_events

    def flaky(events):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database went away")
        return real_append(events)

    services.store.append_events = flaky  # type: ignore[method-assign]
    await services.runtime.start()
    await services.runtime.publish([crowd(450, 1)])
    await services.runtime.drain()
    await services.close()
    assert failures["left"] == 0
    assert services.store.count("alert") == 1
    assert services.store.count("observation") == 1
