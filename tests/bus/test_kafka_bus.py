"""The Kafka bus: the shared contract against a Kafka-compatible broker, plus what only it does."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from smartspaces.bus import Bus, BusClosedError, BusError, ConsumerConflictError
from smartspaces.bus.kafka import KafkaBus, _reaches
from smartspaces.bus.kafka_offsets import Handover, PartitionOffsets, decode_seq, encode_seq
from smartspaces.config import KafkaSettings

from .contract import BusContract, BusFactory, detection, drain, observation
from .kafka_broker import KafkaBroker, durable_kafka_broker, free_port, kafka_broker

__all__ = ["durable_kafka_broker", "kafka_broker"]  # fixtures, used by name


def _settings(broker: KafkaBroker, tag: str, **overrides: object) -> KafkaSettings:
    """Topics and groups of their own for each test; short timeouts for a local broker.

    A short session also bounds a wait particular to Tansu: it numbers a group's generations
    from 0, and aiokafka says goodbye to a group only from generation 1 on, so a restarted
    durable's new member waits for the old one's session to run out.
    """
    values: dict[str, object] = {
        "bootstrap_servers": [broker.bootstrap], "topic_prefix": f"{tag}.ss",
        "group_prefix": f"{tag}-", "partitions": 3, "session_timeout_s": 2.0,
        "request_timeout_s": 10.0, "linger_s": 0.0, **overrides,
    }  # fmt: skip
    return KafkaSettings.model_validate(values)


class TestKafkaBusContract(BusContract):
    @pytest_asyncio.fixture
    async def make_bus(self, kafka_broker: KafkaBroker) -> AsyncIterator[BusFactory]:
        run = uuid.uuid4().hex[:8]
        tags: dict[str, str] = {}
        opened: list[KafkaBus] = []

        async def make(identity: str = "default", *, ack_wait_s: float = 30.0) -> Bus:
            tag = tags.setdefault(identity, f"t{run}{len(tags)}")
            bus = await KafkaBus.connect(_settings(kafka_broker, tag, ack_wait_s=ack_wait_s))
            opened.append(bus)
            return bus

        yield make
        for bus in opened:
            await bus.close()


@pytest_asyncio.fixture
async def kafka_bus(kafka_broker: KafkaBroker) -> AsyncIterator[KafkaBus]:
    bus = await KafkaBus.connect(_settings(kafka_broker, f"x{uuid.uuid4().hex[:8]}"))
    yield bus
    await bus.close()


async def _produce(broker: KafkaBroker, topic: str, *records: tuple[bytes | None, bytes]) -> None:
    """Send (key, value) records as a foreign producer would: no headers, its own client."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def _read_topic(broker: KafkaBroker, topic: str, count: int) -> list[object]:
    """The first ``count`` records of ``topic``, read as a foreign consumer would."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.subscribe([topic])
        found: list[object] = []
        deadline = time.monotonic() + 10
        while len(found) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += records
        return found
    finally:
        await consumer.stop()


@pytest.mark.asyncio
async def test_durable_filters_are_fixed(kafka_bus: KafkaBus) -> None:
    await kafka_bus.subscribe("reader", ["ss.observation.>", "ss.detection.>"])
    await kafka_bus.subscribe("reader", ["ss.detection.>", "ss.observation.>"])  # same set
    with pytest.raises(ConsumerConflictError):
        await kafka_bus.subscribe("reader", ["ss.>"])
    with pytest.raises(ValueError, match="at least one"):
        await kafka_bus.subscribe("other", [])


@pytest.mark.asyncio
async def test_wire_format_is_the_event_json_keyed_by_space(
    kafka_broker: KafkaBroker, kafka_bus: KafkaBus
) -> None:
    events = [observation(1), observation(2, "market"), detection(3)]
    seqs = await kafka_bus.publish_many(events)
    topic = kafka_bus.topic("observation")
    records = sorted(await _read_topic(kafka_broker, topic, 2), key=lambda r: r.timestamp)  # type: ignore[attr-defined]
    assert (
        [(r.key, r.value) for r in records]
        == [  # type: ignore[attr-defined]
            (e.space_id.encode(), e.model_dump_json().encode()) for e in events[:2]
        ]
    )
    assert dict(records[0].headers)["ss-event-id"] == events[0].id.encode()  # type: ignore[attr-defined]
    assert seqs[0] != seqs[1], "seqs are unique within a kind (and may repeat across kinds)"


@pytest.mark.asyncio
async def test_foreign_producer_events_are_delivered(
    kafka_broker: KafkaBroker, kafka_bus: KafkaBus
) -> None:
    event = observation(5, "harbour")
    await _produce(
        kafka_broker, kafka_bus.topic("observation"), (b"harbour", event.model_dump_json().encode())
    )
    [delivery] = await drain(await kafka_bus.subscribe("reader", ["ss.*.harbour"]), 1, timeout_s=5)
    assert (delivery.subject, delivery.event) == ("ss.observation.harbour", event)


@pytest.mark.asyncio
async def test_foreign_garbage_is_dead_lettered_not_lost(
    kafka_broker: KafkaBroker, kafka_bus: KafkaBus
) -> None:
    topic = kafka_bus.topic("observation")
    good = [observation(1), observation(2)]
    await kafka_bus.publish(good[0])
    await _produce(
        kafka_broker, topic,
        (b"plaza", b"{not json"),
        (None, good[1].model_dump_json().encode()),  # no key: order per space is lost
        (b"plaza", detection(3).model_dump_json().encode()),  # a detection on observations
        (b"market", good[1].model_dump_json().encode()),  # keyed by another space
    )  # fmt: skip
    await kafka_bus.publish(good[1])
    sub = await kafka_bus.subscribe("reader", ["ss.>"])
    got = await drain(sub, 2, timeout_s=5)
    assert [d.event for d in got] == good, "the consumer went past the garbage"
    assert await sub.fetch(timeout_s=0.5) == []
    assert sub.dead_lettered == 4
    letters = await _read_topic(kafka_broker, f"{kafka_bus.settings.topic_prefix}.dead_letter", 4)
    reasons = {  # the keyless one may sit on any partition: their order is not fixed
        dict(r.headers)["dlq-reason"].decode().split(":")[0]: r.value  # type: ignore[attr-defined]
        for r in letters
    }
    assert reasons.keys() == {
        "not a valid event", "no key",
        "detection of space 'plaza' keyed 'plaza' on the observation topic",
        "observation of space 'plaza' keyed 'market' on the observation topic",
    }  # fmt: skip
    assert reasons["not a valid event"] == b"{not json"
    assert {dict(r.headers)["dlq-topic"] for r in letters} == {topic.encode()}  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_members_of_one_durable_share_the_work_by_space(kafka_bus: KafkaBus) -> None:
    spaces = [f"space-{i}" for i in range(12)]
    events = [observation(i, spaces[i % 12]) for i in range(48)]
    await kafka_bus.publish_many(events)
    one = await kafka_bus.subscribe("work", ["ss.observation.>"])
    two = await kafka_bus.subscribe("work", ["ss.observation.>"])
    got: dict[str, list[str]] = {"one": [], "two": []}
    deadline = time.monotonic() + 20
    while sum(map(len, got.values())) < 48 and time.monotonic() < deadline:
        for name, sub in (("one", one), ("two", two)):
            for delivery in await sub.fetch(timeout_s=0.2):
                await sub.ack(delivery)
                got[name].append(delivery.event.space_id)
    assert Counter(got["one"] + got["two"]) == Counter(e.space_id for e in events)
    assert got["one"] and got["two"], "both members took part"
    assert not set(got["one"]) & set(got["two"]), "each space went to one member"


@pytest.mark.asyncio
async def test_close_wakes_a_waiting_fetch(kafka_bus: KafkaBus) -> None:
    sub = await kafka_bus.subscribe("reader", ["ss.>"])
    waiting = asyncio.create_task(sub.fetch(timeout_s=30))
    await asyncio.sleep(0.05)
    await kafka_bus.close()
    with pytest.raises(BusClosedError):
        await asyncio.wait_for(waiting, 5)


@pytest.mark.asyncio
async def test_unreachable_broker_is_a_clear_error() -> None:
    port = free_port()  # nobody listens there
    settings = KafkaSettings(bootstrap_servers=[f"127.0.0.1:{port}"], request_timeout_s=2.0)
    with pytest.raises(BusError, match=f"cannot reach Kafka at 127.0.0.1:{port}"):
        await KafkaBus.connect(settings)


@pytest.mark.asyncio
@pytest.mark.parametrize("down_s", [1.5, 4.0])  # shorter, then longer than a session
async def test_broker_restart_mid_stream_loses_nothing(
    durable_kafka_broker: KafkaBroker, down_s: float
) -> None:
    broker = durable_kafka_broker
    settings = _settings(broker, "restart", ack_wait_s=5.0, publish_retry_s=30.0)
    bus = await KafkaBus.connect(settings)
    sub = await bus.subscribe("worker", ["ss.observation.>"])
    events = [observation(i, f"space-{i % 7}", f"c{i % 5}") for i in range(600)]
    published: set[str] = set()
    acked: Counter[str] = Counter()
    first_seen: dict[str, list[str]] = {}  # space -> ids in the order first delivered
    killed_at = back_at = 0.0
    backlog = 0  # published, not yet acked, when the broker died

    async def restart() -> None:
        nonlocal killed_at, back_at, backlog
        backlog = len(published) - len(acked)
        broker.kill()  # a crash, with a backlog not yet consumed and publishes on their way
        killed_at = time.monotonic()
        await asyncio.sleep(down_s)
        await asyncio.to_thread(broker.start)
        back_at = time.monotonic()

    async def consume() -> None:
        deadline = time.monotonic() + 60
        while len(acked) < len(events) and time.monotonic() < deadline:
            for delivery in await sub.fetch(max_messages=20, timeout_s=0.5):
                await sub.ack(delivery)
                if not acked[delivery.event.id]:
                    first_seen.setdefault(delivery.event.space_id, []).append(delivery.event.id)
                acked[delivery.event.id] += 1
            await asyncio.sleep(0.05)  # slower than the producer: a backlog builds up

    async def produce() -> None:
        restarting = None
        for i in range(0, len(events), 50):
            await bus.publish_many(events[i : i + 50])  # returns once the broker has them
            published.update(e.id for e in events[i : i + 50])
            if i == len(events) // 2:
                restarting = asyncio.create_task(restart())
            await asyncio.sleep(0.05)
        assert restarting is not None
        await restarting

    try:
        await asyncio.wait_for(asyncio.gather(produce(), consume()), timeout=90)
        # A new durable reads the topic from the start: the broker kept all of it.
        stored = await drain(await bus.subscribe("audit", ["ss.>"]), len(events), batch=200)
    except BaseException:
        print(broker.log_tail())
        raise
    finally:
        await bus.close()
    assert Counter(d.event.id for d in stored) == Counter(e.id for e in events)
    assert killed_at and back_at
    assert published == {e.id for e in events}
    assert set(acked) == published, "every event acknowledged as published was delivered"
    for space, ids in first_seen.items():  # each space's events came in order
        assert ids == [e.id for e in events if e.space_id == space]
    print(
        f"broker restart: down {back_at - killed_at:.1f} s with {backlog} events unconsumed, "
        f"{sum(acked.values()) - len(acked)} redeliveries of {len(events)} events"
    )


def test_seq_holds_partition_and_offset_and_grows_with_the_offset() -> None:
    assert decode_seq(encode_seq(5, 123)) == (5, 123)
    assert encode_seq(3, 10) < encode_seq(3, 11) < encode_seq(0, 12)
    with pytest.raises(ValueError, match="65536"):
        encode_seq(1 << 16, 0)


def test_the_floor_is_the_lowest_offset_not_acked() -> None:
    part = PartitionOffsets()
    assert part.floor is None and part.to_commit() is None
    for offset in (7, 8, 9, 10):
        assert part.admit(offset)
    assert (part.floor, part.to_commit()) == (7, None)  # resumed at 7: nothing new to commit
    assert part.finish(9) and part.finish(8)
    assert (part.floor, part.handover()) == (7, Handover(7, (8, 9)))
    assert part.finish(7) and not part.finish(7)  # twice: nothing more
    assert (part.floor, part.to_commit(), part.handover()) == (10, 10, None)
    assert part.finish(10)
    assert part.floor == 11


def test_a_handover_counts_only_at_its_own_floor() -> None:
    handover = Handover(4, (6, 7))
    fresh = PartitionOffsets(handover)
    assert [fresh.admit(o) for o in (4, 5, 6, 7, 8)] == [True, True, False, False, True]
    stale = PartitionOffsets(handover)  # someone committed 6 since: the record is old
    assert [stale.admit(o) for o in (6, 7)] == [True, True]
    assert Handover.from_json(handover.to_json()) == handover
    assert Handover.from_json(b"{nonsense") is None


@pytest.mark.parametrize(
    ("subject_filter", "kinds"),
    [
        ("ss.>", {"observation", "detection"}),
        (">", {"observation", "detection"}),
        ("ss.*.plaza", {"observation", "detection"}),
        ("ss.observation.>", {"observation"}),
        ("ss.observation.plaza", {"observation"}),
        ("ss.observation", set()),
        ("other.>", set()),
    ],
)
def test_a_durable_reads_the_topics_its_filters_reach(subject_filter: str, kinds: set[str]) -> None:
    assert {k for k in ("observation", "detection") if _reaches(subject_filter, k)} == kinds
