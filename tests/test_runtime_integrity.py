"""The telemetry integrity stage in the running pipeline (embedded bus and store): a batch the
bus delivers again is no replay, a forged old reading is one, also after a restart."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from smartspaces.bootstrap import Services, build_services
from smartspaces.bus.errors import BusError
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.events import AnyEvent, Detection, Observation
from tests.conftest import T0, square

REPLAY = "cyber.telemetry_replayed_timestamp"


def noise(i: int, value: float | None = None, source: str = "ruzafa-edge") -> Observation:
    at = T0 + timedelta(minutes=i)
    return Observation(source=source, space_id="plaza", sensor_id="noise-1",
                       quantity="noise_laeq_dba", value=55.0 + i % 4 if value is None else value,
                       observed_at=at, received_at=at + timedelta(seconds=2),
                       interval_s=60)  # fmt: skip


def telemetry(services: Services) -> list[Detection]:
    found = services.store.recent("detection", limit=1000)
    return sorted((d for d in found if isinstance(d, Detection)
                   and d.detector.startswith("cyber.telemetry")),
                  key=lambda d: d.observed_at)  # fmt: skip


def start(settings: Settings) -> Services:
    return build_services(settings, SimulatedClock(T0), spaces=[square("plaza")])


async def test_a_nakd_and_redelivered_batch_is_no_replay_but_a_forged_reading_is(
    settings: Settings,
) -> None:
    services = start(settings)
    real_publish = services.bus.publish_many
    failed: list[int] = []

    async def publish_failing_once(events: Sequence[AnyEvent]) -> list[int]:
        # the integrity worker's first publish fails: its whole batch is nak'd and delivered
        # again (num_delivered 2), after the stage had judged every reading in it
        if not failed and any(isinstance(e, Detection) and e.detector.startswith(
                "cyber.telemetry") for e in events):  # fmt: skip
            failed.append(len(events))
            raise BusError("the bus refused the write")
        return await real_publish(events)

    services.bus.publish_many = publish_failing_once  # type: ignore[method-assign]
    readings = [
        *(noise(i) for i in range(5)),
        noise(5, value=-3.0),
        *(noise(i) for i in range(6, 12)),
    ]
    await services.runtime.start()
    await services.runtime.publish(readings)
    await services.runtime.drain()
    assert failed  # the batch was nak'd ...
    assert services.runtime.integrity.counts["repeated"] >= 1  # ... and came back
    # -3 dBA: found once, stored once (with the drop to it and the rise from it)
    assert sorted(d.detection_type for d in telemetry(services)) == [
        "cyber.telemetry_impossible_change",
        "cyber.telemetry_impossible_change",
        "cyber.telemetry_out_of_limits",
    ]

    # the same sensor, an old time and value, through another gateway: a new message
    forged = noise(3, source="spoofed-gateway")
    await services.runtime.publish([forged])
    await services.runtime.drain()
    await services.close()
    replays = [d for d in telemetry(services) if d.detection_type == REPLAY]
    assert [(d.derived_from, d.level.value) for d in replays] == [((forged.id,), "red")]


async def test_after_a_restart_honest_readings_pass_and_a_forged_old_one_is_found(
    settings: Settings,
) -> None:
    first = start(settings)
    await first.runtime.start()
    await first.runtime.publish([noise(i) for i in range(10)])
    await first.runtime.drain()
    await first.close()

    second = start(settings)
    await second.runtime.start()  # the stage is rebuilt from the stored readings
    # dated before the restart, first thing after it: only a stage that remembers the series
    # can tell it is old
    forged = noise(4, source="spoofed-gateway")
    await second.runtime.publish([forged])
    await second.runtime.drain()
    await second.runtime.publish([noise(i) for i in range(10, 20)])
    await second.runtime.drain()
    await second.close()
    assert [(d.detection_type, d.derived_from) for d in telemetry(second)] == [
        (REPLAY, (forged.id,))
    ]
