"""The JetStream bus: the shared contract against the real NATS server, plus what only it does."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from smartspaces.bus import Bus, BusClosedError, BusError, ConsumerConflictError
from smartspaces.bus.nats import NatsBus, NatsSettings

from .conftest import NatsCluster
from .contract import BusContract, BusFactory, drain, observation

NATS_URL = "nats://127.0.0.1:4222"


def _require_nats() -> None:
    """Fail (never skip) when the server is down: the suite must not pass without it."""
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
    except OSError as exc:
        pytest.fail(
            f"NATS JetStream is not reachable at {NATS_URL} ({exc}); start it with `make services`"
        )


async def _delete_streams(prefixes: set[str]) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    for info in await js.streams_info():
        if any(info.config.name.startswith(f"{p}_") for p in prefixes):
            await js.delete_stream(info.config.name)
    await nc.close()


class TestNatsBusContract(BusContract):
    @pytest_asyncio.fixture
    async def make_bus(self) -> AsyncIterator[BusFactory]:
        _require_nats()
        run = uuid.uuid4().hex[:8]
        tags: dict[str, str] = {}
        opened: list[NatsBus] = []

        async def make(identity: str = "default", *, ack_wait_s: float = 30.0) -> Bus:
            tag = tags.setdefault(identity, f"T{run}{len(tags)}")
            settings = NatsSettings(
                servers=[NATS_URL],
                stream_prefix=tag,
                subject_prefix=tag.lower(),
                ack_wait_s=ack_wait_s,
            )
            bus = await NatsBus.connect(settings)
            opened.append(bus)
            return bus

        yield make
        for bus in opened:
            await bus.close()
        await _delete_streams(set(tags.values()))


@pytest_asyncio.fixture
async def nats_bus() -> AsyncIterator[NatsBus]:
    _require_nats()
    tag = f"X{uuid.uuid4().hex[:8]}"
    bus = await NatsBus.connect(
        NatsSettings(servers=[NATS_URL], stream_prefix=tag, subject_prefix=tag.lower())
    )
    yield bus
    await bus.close()
    await _delete_streams({tag})


@pytest.mark.asyncio
async def test_durable_filters_are_fixed(nats_bus: NatsBus) -> None:
    await nats_bus.subscribe("reader", ["ss.observation.>", "ss.detection.>"])
    await nats_bus.subscribe("reader", ["ss.detection.>", "ss.observation.>"])  # same set
    with pytest.raises(ConsumerConflictError):
        await nats_bus.subscribe("reader", ["ss.>"])
    with pytest.raises(ConsumerConflictError):  # also where the old filters never reached
        await nats_bus.subscribe("reader", ["ss.alert.>"])
    with pytest.raises(ValueError, match="at least one"):
        await nats_bus.subscribe("other", [])


@pytest.mark.asyncio
async def test_several_spaces_of_one_kind(nats_bus: NatsBus) -> None:
    # One filter per consumer on JetStream 2.9: the bus reads the kind and skips other spaces.
    spaces = ["plaza", "market", "port"]
    await nats_bus.publish_many([observation(i, spaces[i % 3]) for i in range(9)])
    sub = await nats_bus.subscribe("two", ["ss.observation.plaza", "ss.observation.port"])
    got = await drain(sub, 6)
    assert [d.event.space_id for d in got] == ["plaza", "port"] * 3
    assert await sub.fetch(timeout_s=0.2) == []


@pytest.mark.asyncio
async def test_subscriptions_of_one_durable_share_the_work(nats_bus: NatsBus) -> None:
    await nats_bus.publish_many([observation(i) for i in range(10)])
    one = await nats_bus.subscribe("work", ["ss.>"])
    two = await nats_bus.subscribe("work", ["ss.>"])
    got = await one.fetch(max_messages=4) + await two.fetch(max_messages=100)
    assert sorted(d.seq for d in got) == list(range(1, 11))


@pytest.mark.asyncio
async def test_close_wakes_a_waiting_fetch(nats_bus: NatsBus) -> None:
    sub = await nats_bus.subscribe("reader", ["ss.>"])
    waiting = asyncio.create_task(sub.fetch(timeout_s=30))
    await asyncio.sleep(0.05)
    await nats_bus.close()
    with pytest.raises(BusClosedError):
        await asyncio.wait_for(waiting, 2)


@pytest.mark.asyncio
async def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = NatsSettings(servers=[f"nats://127.0.0.1:{port}"], connect_timeout_s=0.5)
    with pytest.raises(BusError, match=f"cannot reach NATS at nats://127.0.0.1:{port}"):
        await NatsBus.connect(settings)


async def _connect(settings: NatsSettings, within_s: float) -> NatsBus:
    """Connect once the cluster has elected its JetStream meta leader (a few seconds)."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await NatsBus.connect(settings)
        except BusError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


@pytest.mark.asyncio
async def test_node_death_mid_stream_loses_nothing(
    nats_cluster: NatsCluster,
) -> None:
    started = time.monotonic()
    settings = NatsSettings(
        servers=nats_cluster.urls,
        replicas=3,
        ack_wait_s=2.0,
        request_timeout_s=2.0,
        publish_retry_s=20.0,
    )
    bus = await _connect(settings, within_s=15)
    sub = await bus.subscribe("worker", ["ss.observation.>"])
    events = [observation(i, f"space-{i % 7}", f"c{i % 5}") for i in range(4000)]
    acked: Counter[str] = Counter()
    first_seq_after_kill = 0
    killed_at = resumed_at = published_at = 0.0

    async def consume() -> None:
        nonlocal resumed_at
        while len(acked) < len(events) and time.monotonic() - started < 45:
            for delivery in await sub.fetch(max_messages=200, timeout_s=0.5):
                await sub.ack(delivery)
                acked[delivery.event.id] += 1
                if first_seq_after_kill and delivery.seq >= first_seq_after_kill:
                    resumed_at = resumed_at or time.monotonic()

    async def produce() -> None:
        nonlocal killed_at, first_seq_after_kill, published_at
        for i in range(0, len(events), 100):
            seqs = await bus.publish_many(events[i : i + 100])
            if killed_at and not first_seq_after_kill:
                first_seq_after_kill = seqs[0]
                published_at = time.monotonic()
            if i == len(events) // 2:
                info = await bus._js.stream_info(bus.stream_name("observation"))
                assert info.cluster is not None and info.cluster.leader is not None
                nats_cluster.kill(info.cluster.leader)  # the stream's leader: the hard case
                killed_at = time.monotonic()
            await asyncio.sleep(0.01)  # a steady stream, so the kill lands mid-stream

    try:
        await asyncio.wait_for(asyncio.gather(produce(), consume()), timeout=50)
    except BaseException:
        print(nats_cluster.log_tail())
        raise
    finally:
        await bus.close()
    assert set(acked) == {e.id for e in events}, "every event delivered and acked"
    assert resumed_at, "consumption never resumed after the kill"
    assert resumed_at - killed_at < 10.0, f"resumed after {resumed_at - killed_at:.1f} s"
    print(
        f"failover: publishing resumed {published_at - killed_at:.2f} s and consuming "
        f"{resumed_at - killed_at:.2f} s after the kill, "
        f"{sum(acked.values()) - len(acked)} redeliveries of {len(events)} events"
    )
