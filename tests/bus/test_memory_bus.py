"""The embedded bus: the shared contract over a SQLite journal, plus what only it promises."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
import pytest_asyncio

from smartspaces.bus import (
    Bus,
    BusClosedError,
    ConsumerConflictError,
    JournalError,
    MemoryBus,
)
from smartspaces.bus.journal import Journal
from smartspaces.bus.memory import _Consumer
from smartspaces.config import BusSettings

from .contract import BusContract, BusFactory, drain, observation


class TestMemoryBusContract(BusContract):
    @pytest_asyncio.fixture
    async def make_bus(self, tmp_path: Path) -> AsyncIterator[BusFactory]:
        opened: list[MemoryBus] = []

        async def make(identity: str = "default", *, ack_wait_s: float = 30.0) -> Bus:
            bus = MemoryBus(BusSettings(ack_wait_s=ack_wait_s), tmp_path / f"{identity}.sqlite3")
            opened.append(bus)
            return bus

        yield make
        for bus in opened:
            await bus.close()


def _bus(path: Path | None, **settings: float) -> MemoryBus:
    return MemoryBus(BusSettings(**settings), path)


async def _journal_with_two(path: Path) -> None:
    bus = _bus(path)
    await bus.publish_many([observation(1), observation(2)])
    await bus.close()


def test_garbage_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(JournalError, match=r"cannot open bus journal .*bus\.sqlite3"):
        _bus(path)
    assert path.read_bytes().startswith(b"this is not a database")  # left as found


def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot open bus journal"):
        _bus(tmp_path)  # a directory


@pytest.mark.asyncio
async def test_unreadable_message_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    await _journal_with_two(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE messages SET payload = ? WHERE seq = 2", (b'{"kind": "observ',))
    with pytest.raises(JournalError, match="message 2 is unreadable"):
        _bus(path)


@pytest.mark.asyncio
async def test_missing_message_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    await _journal_with_two(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM messages WHERE seq = 1")
    with pytest.raises(JournalError, match="message 1 is missing"):
        _bus(path)


@pytest.mark.asyncio
async def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    await _journal_with_two(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(JournalError, match="has format 99"):
        _bus(path)


@pytest.mark.asyncio
async def test_one_bus_per_journal(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    bus = _bus(path)
    with pytest.raises(JournalError, match="another process"):
        _bus(path)
    await bus.close()
    await _bus(path).close()


@pytest.mark.asyncio
async def test_memory_only_keeps_nothing(tmp_path: Path) -> None:
    bus = _bus(None)
    assert await bus.publish(observation(1)) == 1
    sub = await bus.subscribe("reader", ["ss.>"])
    assert len(await drain(sub, 1)) == 1
    await bus.close()
    again = _bus(None)
    assert await again.publish(observation(1)) == 1
    await again.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.asyncio
async def test_dedup_window_is_bounded() -> None:
    bus = _bus(None, dedup_window=2)
    assert await bus.publish_many([observation(i) for i in range(3)]) == [1, 2, 3]
    assert await bus.publish(observation(2)) == 3
    assert await bus.publish(observation(0)) == 4  # out of the window: stored again
    off = _bus(None, dedup_window=0)
    assert await off.publish_many([observation(0), observation(0)]) == [1, 2]
    await bus.close()
    await off.close()


@pytest.mark.asyncio
async def test_durable_filters_are_fixed() -> None:
    bus = _bus(None)
    await bus.subscribe("reader", ["ss.observation.>", "ss.detection.>"])
    await bus.subscribe("reader", ["ss.detection.>", "ss.observation.>"])  # same set: fine
    with pytest.raises(ConsumerConflictError):
        await bus.subscribe("reader", ["ss.>"])
    with pytest.raises(ValueError, match="at least one"):
        await bus.subscribe("other", [])
    await bus.close()


@pytest.mark.asyncio
async def test_subscriptions_of_one_durable_share_the_work() -> None:
    bus = _bus(None)
    await bus.publish_many([observation(i) for i in range(10)])
    one, two = await bus.subscribe("work", ["ss.>"]), await bus.subscribe("work", ["ss.>"])
    got = await one.fetch(max_messages=4) + await two.fetch(max_messages=100)
    assert sorted(d.seq for d in got) == list(range(1, 11))
    await bus.close()


@pytest.mark.asyncio
async def test_close_wakes_a_waiting_fetch() -> None:
    bus = _bus(None)
    sub = await bus.subscribe("reader", ["ss.>"])
    waiting = asyncio.create_task(sub.fetch(timeout_s=30))
    await asyncio.sleep(0.01)
    await bus.close()
    with pytest.raises(BusClosedError):
        await asyncio.wait_for(waiting, 1)


@pytest.mark.asyncio
async def test_failed_journal_write_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = _bus(tmp_path / "bus.sqlite3")

    def broken(self: Journal, messages: object) -> None:
        raise JournalError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(Journal, "append", broken)
        with pytest.raises(JournalError):
            await bus.publish_many([observation(1), observation(2)])
    assert await bus.publish(observation(1)) == 1  # neither seq nor dedup entry was used
    got = await drain(await bus.subscribe("reader", ["ss.>"]), 2, timeout_s=0.3)
    assert [d.event for d in got] == [observation(1)]
    await bus.close()


@pytest.mark.asyncio
async def test_acks_are_journalled_without_close(tmp_path: Path) -> None:
    path = tmp_path / "bus.sqlite3"
    bus = _bus(path)
    await bus.publish_many([observation(1), observation(2)])
    sub = await bus.subscribe("reader", ["ss.>"])
    first, _ = await sub.fetch()
    await sub.ack(first)
    await asyncio.sleep(0)  # the acks of one loop iteration are written together
    bus._journal.close()  # a crash: the bus never gets to close
    again = _bus(path)
    sub = await again.subscribe("reader", ["ss.>"])
    assert [d.seq for d in await sub.fetch(timeout_s=0.1)] == [2]
    await again.close()


@pytest.mark.asyncio
async def test_waiting_fetch_does_not_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    take = _Consumer.take

    def counting(self: _Consumer, limit: int, now: float) -> object:
        nonlocal calls
        calls += 1
        return take(self, limit, now)

    monkeypatch.setattr(_Consumer, "take", counting)
    bus = _bus(None)
    sub = await bus.subscribe("reader", ["ss.>"])
    assert await sub.fetch(timeout_s=0.3) == []
    assert calls <= 2
    await bus.close()
