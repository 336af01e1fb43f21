"""The promises every ``Bus`` engine keeps, as a test suite each engine's tests subclass."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartspaces.bus import Bus, BusClosedError, Delivery, InvalidSubjectError, Subscription
from smartspaces.bus.base import subject_matches
from smartspaces.events import AnyEvent, Detection, Level, Observation, subject_for

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class BusFactory(Protocol):
    """Opens a bus over the storage named ``identity``; the same identity again = a restart."""

    async def __call__(self, identity: str = "default", *, ack_wait_s: float = 30.0) -> Bus: ...


def observation(i: int, space: str = "plaza", sensor: str = "c1") -> Observation:
    """An observation whose id is fixed by ``(i, space, sensor)``."""
    at = T0 + timedelta(seconds=i)
    return Observation(
        source="test",
        space_id=space,
        sensor_id=sensor,
        quantity="entries_count",
        value=3,
        observed_at=at,
        received_at=at,
    )


def detection(i: int, space: str = "plaza") -> Detection:
    at = T0 + timedelta(seconds=i)
    return Detection(
        source="test",
        space_id=space,
        observed_at=at,
        received_at=at,
        detector="density",
        detection_type="overcrowding",
        level=Level.AMBER,
    )


async def drain(
    sub: Subscription, expected: int, batch: int = 256, timeout_s: float = 2.0
) -> list[Delivery]:
    """Fetch and ack until ``expected`` deliveries came (or a fetch times out)."""
    got: list[Delivery] = []
    while len(got) < expected:
        deliveries = await sub.fetch(max_messages=batch, timeout_s=timeout_s)
        if not deliveries:
            break
        assert len(deliveries) <= batch
        for delivery in deliveries:
            await sub.ack(delivery)
        got.extend(deliveries)
    return got


_times = st.integers(0, 12)  # a small range, so duplicates are common
_spaces = st.sampled_from(["plaza", "market"])
_events = st.one_of(
    st.builds(observation, _times, _spaces, st.sampled_from(["c1", "c2"])),
    st.builds(detection, _times, _spaces),
)
Operation = tuple[str, list[AnyEvent], int]  # ("publish" | "batch", events, _) | ("drain", [], i)
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.lists(_events, min_size=1, max_size=1), st.just(0)),
        st.tuples(st.just("batch"), st.lists(_events, max_size=8), st.just(0)),
        st.tuples(st.just("drain"), st.just([]), st.integers(0, 2)),
    ),
    max_size=25,
)
_DURABLES = {"all": ("ss.>",), "plaza": ("ss.*.plaza",), "obs": ("ss.observation.>",)}


class BusContract:
    """Subclass with a ``make_bus`` fixture returning a ``BusFactory`` that closes its buses."""

    pytestmark = pytest.mark.asyncio

    async def test_round_trip(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        event = observation(1)
        seq = await bus.publish(event)
        sub = await bus.subscribe("reader", ["ss.observation.plaza"])
        [delivery] = await sub.fetch(timeout_s=2)
        assert delivery == Delivery(seq, subject_for(event), event, num_delivered=1)
        await sub.ack(delivery)

    async def test_subject_filters(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        await bus.publish_many([observation(1), observation(2, "market"), detection(3)])
        obs_plaza, obs_market = "ss.observation.plaza", "ss.observation.market"
        det_plaza = "ss.detection.plaza"
        cases = {
            "obs": (["ss.observation.>"], {obs_plaza, obs_market}),
            "plaza": (["ss.*.plaza"], {obs_plaza, det_plaza}),
            "two": (["ss.observation.market", "ss.detection.*"], {obs_market, det_plaza}),
            "every": (["ss.>"], {obs_plaza, obs_market, det_plaza}),
        }
        for durable, (filters, subjects) in cases.items():
            sub = await bus.subscribe(durable, filters)
            got = await drain(sub, len(subjects))
            assert {d.subject for d in got} == subjects, durable
        nothing = await bus.subscribe("alerts", ["ss.alert.>"])
        assert await nothing.fetch(timeout_s=0.2) == []

    async def test_bad_filters_and_names_are_refused(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        for bad in ["ss..plaza", "ss.>.plaza", "ss.obs*", "", "ss.observation."]:
            with pytest.raises(InvalidSubjectError):
                await bus.subscribe("reader", [bad])
        with pytest.raises(InvalidSubjectError):
            await bus.subscribe("a.b", ["ss.>"])

    async def test_per_subject_order(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        events = [observation(i, ["plaza", "market", "port"][i % 3]) for i in range(60)]
        for event in events[:30]:
            await bus.publish(event)
        await bus.publish_many(events[30:])
        got = await drain(await bus.subscribe("reader", ["ss.observation.*"]), 60, batch=7)
        by_subject: dict[str, list[str]] = defaultdict(list)
        for delivery in got:
            by_subject[delivery.subject].append(delivery.event.id)
        for subject, ids in by_subject.items():
            assert ids == [e.id for e in events if subject_for(e) == subject]

    async def test_durables_are_independent(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        await bus.publish_many([observation(i) for i in range(5)])
        first = await bus.subscribe("first", ["ss.>"])
        assert len(await drain(first, 5)) == 5
        second = await bus.subscribe("second", ["ss.>"])
        assert [d.event for d in await drain(second, 5)] == [observation(i) for i in range(5)]
        assert await first.fetch(timeout_s=0.1) == []

    async def test_acked_not_redelivered_after_restart(self, make_bus: BusFactory) -> None:
        # A short ack_wait: an engine may hold unacked messages until it expires (JetStream does).
        bus = await make_bus("restart", ack_wait_s=0.5)
        seqs = await bus.publish_many([observation(i) for i in range(3)])
        sub = await bus.subscribe("reader", ["ss.observation.>"])
        got = await sub.fetch(max_messages=3, timeout_s=2)
        assert [d.seq for d in got] == seqs
        for delivery in (got[0], got[2], got[2]):  # acking twice is harmless
            await sub.ack(delivery)
        await bus.close()

        bus = await make_bus("restart", ack_wait_s=0.5)
        sub = await bus.subscribe("reader", ["ss.observation.>"])
        [again] = await sub.fetch(timeout_s=2)
        assert (again.seq, again.event) == (seqs[1], observation(1))
        await sub.ack(again)
        new_seq = await bus.publish(observation(9))
        assert new_seq > max(seqs)
        [fresh] = await sub.fetch(timeout_s=2)
        assert (fresh.seq, fresh.event) == (new_seq, observation(9))

    async def test_unacked_redelivered_after_restart(self, make_bus: BusFactory) -> None:
        bus = await make_bus("crash", ack_wait_s=0.5)  # see above
        seqs = await bus.publish_many([observation(i) for i in range(2)])
        sub = await bus.subscribe("reader", ["ss.>"])
        assert len(await sub.fetch(timeout_s=2)) == 2
        await bus.close()

        bus = await make_bus("crash", ack_wait_s=0.5)
        late = await bus.subscribe("late", ["ss.>"])  # new durable: from the beginning
        assert [d.seq for d in await drain(late, 2)] == seqs
        sub = await bus.subscribe("reader", ["ss.>"])
        again = await drain(sub, 2)
        assert [d.seq for d in again] == seqs
        assert [d.event for d in again] == [observation(0), observation(1)]
        assert all(d.num_delivered >= 1 for d in again)

    async def test_nak_redelivers(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        await bus.publish(observation(1))
        sub = await bus.subscribe("reader", ["ss.>"])
        [first] = await sub.fetch(timeout_s=2)
        await sub.nak(first)
        [second] = await sub.fetch(timeout_s=5)
        assert (second.seq, second.num_delivered) == (first.seq, 2)
        await sub.ack(second)
        await sub.nak(second)  # after an ack: nothing to give back
        assert await sub.fetch(timeout_s=0.2) == []

    async def test_ack_wait_expiry_redelivers(self, make_bus: BusFactory) -> None:
        bus = await make_bus(ack_wait_s=0.5)
        await bus.publish(observation(1))
        sub = await bus.subscribe("reader", ["ss.>"])
        [first] = await sub.fetch(timeout_s=2)
        started = time.monotonic()
        [second] = await sub.fetch(timeout_s=5)
        assert time.monotonic() - started >= 0.3
        assert (second.seq, second.event, second.num_delivered) == (first.seq, first.event, 2)
        await sub.ack(second)
        assert await sub.fetch(timeout_s=0.8) == []

    async def test_dedup_by_event_id(self, make_bus: BusFactory) -> None:
        bus = await make_bus("dedup")
        seq = await bus.publish(observation(1))
        assert await bus.publish(observation(1)) == seq
        seqs = await bus.publish_many([observation(1), observation(2), observation(2)])
        assert seqs[0] == seq and seqs[1] == seqs[2] != seq
        await bus.close()
        bus = await make_bus("dedup")
        assert await bus.publish(observation(2)) == seqs[1]
        got = await drain(await bus.subscribe("reader", ["ss.>"]), 3, timeout_s=0.3)
        assert [d.event for d in got] == [observation(1), observation(2)]

    async def test_fetch_waits_for_a_message_or_the_timeout(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        sub = await bus.subscribe("reader", ["ss.>"])
        started = time.monotonic()
        assert await sub.fetch(timeout_s=0.2) == []
        assert 0.1 <= time.monotonic() - started < 1.0
        started = time.monotonic()
        waiting = asyncio.create_task(sub.fetch(timeout_s=10))
        await asyncio.sleep(0.05)
        await bus.publish(observation(1))
        [delivery] = await asyncio.wait_for(waiting, 5)
        assert delivery.event == observation(1)
        assert time.monotonic() - started < 2.0

    async def test_publish_many(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        events = [observation(i, sensor=f"c{i % 4}") for i in range(500)]
        seqs = await bus.publish_many(events)
        assert len(seqs) == 500 and all(a < b for a, b in zip(seqs, seqs[1:], strict=False))
        assert await bus.publish_many([]) == []
        got = await drain(await bus.subscribe("reader", ["ss.>"]), 500, batch=100)
        assert [d.seq for d in got] == seqs
        assert [d.event for d in got] == events

    async def test_closed_bus_refuses_work(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        await bus.publish(observation(1))
        sub = await bus.subscribe("reader", ["ss.>"])
        [delivery] = await sub.fetch(timeout_s=2)
        await bus.close()
        for refused in (bus.publish(observation(2)), sub.fetch(timeout_s=0.1), sub.ack(delivery)):
            with pytest.raises(BusClosedError):
                await refused
        await bus.close()  # twice is fine

    # differing_executors: every engine's subclass runs this same method, each with its own
    # make_bus; that is the point of a contract suite, not a sign of shared state.
    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(operations=_operations)
    async def test_every_interleaving_delivered_exactly_once(
        self, make_bus: BusFactory, operations: list[Operation]
    ) -> None:
        bus = await make_bus(uuid.uuid4().hex)  # fresh storage for every example
        subs = {name: await bus.subscribe(name, filters) for name, filters in _DURABLES.items()}
        delivered: defaultdict[str, list[Delivery]] = defaultdict(list)
        published: dict[str, int] = {}  # first publish order: event id -> seq
        order: list[AnyEvent] = []
        for op, events, which in operations:
            if op == "drain":
                name = list(subs)[which]
                for d in await subs[name].fetch(max_messages=3, timeout_s=0.01):
                    await subs[name].ack(d)
                    delivered[name].append(d)
                continue
            one = op == "publish"
            seqs = [await bus.publish(events[0])] if one else await bus.publish_many(events)
            for event, seq in zip(events, seqs, strict=True):
                if event.id in published:
                    assert seq == published[event.id], "a duplicate gets the original seq"
                else:
                    published[event.id] = seq
                    order.append(event)
        for name, filters in {**_DURABLES, "late": ("ss.>",)}.items():
            sub = subs.get(name) or await bus.subscribe(name, filters)  # late: after publishing
            expected = [
                e for e in order if any(subject_matches(f, subject_for(e)) for f in filters)
            ]
            delivered[name] += await drain(sub, len(expected) - len(delivered[name]))
            counts = Counter(d.event.id for d in delivered[name])
            assert counts == Counter(e.id for e in expected), name
            for subject in {subject_for(e) for e in expected}:
                got = [d.event for d in delivered[name] if d.subject == subject]
                assert got == [e for e in expected if subject_for(e) == subject], name
        await bus.close()
