"""Store-and-forward: the overflow policy, the rate factor, and no loss across an outage."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from smartspaces.clock import SimulatedClock
from smartspaces.edge.buffer import (
    BufferSettings,
    Priority,
    StoreAndForward,
    admit,
    priority_of,
    rate_factor,
)
from smartspaces.events import Observation
from tests.conftest import T0, counts
from tests.edge.conftest import Recorder, mqtt_settings, publish, running, until

LOW, NORMAL, ALARM = Priority.LOW, Priority.NORMAL, Priority.ALARM


def test_what_fits_is_kept_without_evicting() -> None:
    assert admit(100, {NORMAL: 100}, 50, NORMAL, 200).keep
    assert admit(100, {NORMAL: 100}, 50, NORMAL, 200).evict == {}


def test_overflow_evicts_low_before_normal_and_never_alarms() -> None:
    used = {LOW: 30, NORMAL: 50, ALARM: 20}
    assert admit(100, used, 10, NORMAL, 100).evict == {LOW: 10}
    assert admit(100, used, 40, NORMAL, 100).evict == {LOW: 30, NORMAL: 10}
    decision = admit(100, used, 500, ALARM, 100)
    assert decision.keep and decision.evict == {LOW: 30, NORMAL: 50}  # and exceeds the bound


def test_a_newcomer_never_evicts_higher_priorities_and_is_dropped_instead() -> None:
    assert not admit(100, {NORMAL: 80, ALARM: 20}, 10, LOW, 100).keep
    assert not admit(100, {ALARM: 100}, 10, NORMAL, 100).keep
    assert admit(100, {ALARM: 100}, 10, ALARM, 100).keep


@given(
    backlog=st.integers(0, 10**9),
    bound=st.integers(1, 10**9),
    priority=st.sampled_from(Priority),
)
def test_rate_factor_is_a_share_that_never_slows_alarms(
    backlog: int, bound: int, priority: Priority
) -> None:
    factor = rate_factor(backlog, bound, priority)
    assert 0.05 <= factor <= 1.0
    assert rate_factor(backlog + bound // 10, bound, priority) <= factor
    if priority is ALARM:
        assert factor == 1.0
    assert rate_factor(backlog, bound, LOW) <= rate_factor(backlog, bound, NORMAL)


def test_priorities_follow_quantity_and_level() -> None:
    assert priority_of(counts("density_p_m2", 4.5, T0)) is ALARM
    assert priority_of(counts("density_p_m2", 1.0, T0)) is NORMAL
    assert priority_of(counts("entries_count", 10, T0)) is NORMAL
    assert priority_of(counts("battery_ratio", 0.5, T0)) is LOW


def reading(i: int, sensor: str = "c1", quantity: str = "entries_count") -> Observation:
    value = 4.5 if quantity == "density_p_m2" else 1.0 if quantity == "battery_ratio" else i
    return counts(quantity, value, T0 + timedelta(seconds=i), sensor=sensor)


async def test_while_down_observations_wait_on_disk_and_leave_in_order(tmp_path: Path) -> None:
    downstream = Recorder()
    buffer = StoreAndForward(downstream, tmp_path / "b.sqlite3", BufferSettings(batch=7))
    await buffer([reading(0)])
    assert downstream.ids() == [reading(0).id] and buffer.counters.passed == 1
    downstream.down = True
    for i in range(1, 30):
        await buffer([reading(i)])
    assert buffer.backlog().count == 29
    assert downstream.refused == 1  # once down, nothing overtakes the backlog
    downstream.down = False
    await buffer([reading(30)])  # still behind the backlog
    assert buffer.backlog().count == 30
    assert await buffer.forward() == 30
    assert downstream.ids() == [reading(i).id for i in range(31)]
    assert buffer.backlog().count == 0 and buffer.backlog().bytes == 0
    buffer.close()


async def test_the_backlog_survives_a_restart(tmp_path: Path) -> None:
    downstream = Recorder(down=True)
    path = tmp_path / "b.sqlite3"
    first = StoreAndForward(downstream, path, BufferSettings())
    await first([reading(i) for i in range(5)])
    first.close()
    downstream.down = False
    second = StoreAndForward(downstream, path, BufferSettings())
    assert second.backlog().count == 5
    assert await second.forward() == 5
    assert downstream.ids() == [reading(i).id for i in range(5)]
    second.close()


async def test_a_full_buffer_drops_oldest_low_priority_first_and_keeps_alarms(
    tmp_path: Path,
) -> None:
    downstream = Recorder(down=True)
    size = len(reading(0).model_dump_json())
    buffer = StoreAndForward(
        downstream, tmp_path / "b.sqlite3", BufferSettings(max_bytes=10 * size)
    )
    await buffer([reading(i, "b1", "battery_ratio") for i in range(4)])
    await buffer([reading(i) for i in range(10, 16)])
    await buffer([reading(i, "d1", "density_p_m2") for i in range(20, 32)])
    assert buffer.counters.evicted == 10  # the 4 low ones first, then the 6 oldest normal ones
    assert buffer.counters.dropped == 0
    await buffer([reading(40)])  # normal, while only alarms are left: the newcomer goes
    assert buffer.counters.dropped == 1
    downstream.down = False
    await buffer.forward()
    assert [o.sensor_id for o in downstream.observations] == ["d1"] * 12


async def test_an_id_seen_recently_is_passed_on_once(tmp_path: Path) -> None:
    downstream = Recorder()
    buffer = StoreAndForward(downstream, tmp_path / "b.sqlite3", BufferSettings())
    await buffer([reading(1), reading(2)])
    await buffer([reading(2), reading(3)])
    assert downstream.ids() == [reading(i).id for i in (1, 2, 3)]
    assert buffer.counters.duplicates == 1


async def test_an_outage_of_the_central_node_loses_and_repeats_nothing(
    mosquitto: int, recorder: Recorder, clock: SimulatedClock, tmp_path: Path
) -> None:
    """Observations flow through the real Mosquitto while the downstream is away for a while:
    afterwards each arrived exactly once, in order per device."""
    config = mqtt_settings(mosquitto)
    prefix = config.topic_prefix()
    buffer = StoreAndForward(
        recorder, tmp_path / "b.sqlite3", BufferSettings(retry_min_s=0.05, retry_max_s=0.2)
    )
    forwarder = asyncio.create_task(buffer.run())
    devices, per_device = 5, 400
    messages = [
        (
            f"{prefix}/plaza/d{d}",
            json.dumps(
                {
                    "sensor_id": f"d{d}",
                    "space_id": "plaza",
                    "quantity": "entries_count",
                    "value": i % 40,
                    "observed_at": (T0 - timedelta(seconds=per_device - i)).isoformat(),
                }
            ).encode(),
        )
        for i in range(per_device)
        for d in range(devices)
    ]
    chunk = 100
    async with running(config, buffer, recorder, clock):
        for start in range(0, len(messages), chunk):
            if start == len(messages) // 4:
                recorder.down = True
            if start == 3 * len(messages) // 4:
                recorder.down = False
            await publish(mosquitto, messages[start : start + chunk])
        await until(lambda: len(recorder.observations) >= len(messages), what="every observation")
    forwarder.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await forwarder
    buffer.close()
    ids = recorder.ids()
    assert len(set(ids)) == devices * per_device  # nothing lost
    assert len(ids) == len(set(ids))  # nothing twice
    assert recorder.refused > 0 and buffer.counters.buffered > 0  # the outage really happened
    by_device: dict[str, list[datetime]] = defaultdict(list)
    for observation in recorder.observations:
        by_device[observation.sensor_id].append(observation.observed_at)
    assert all(times == sorted(times) for times in by_device.values())
