"""Worker processes of a distributed deployment on the real NATS server and PostgreSQL: the
spaces are shared out, and a killed worker or a restarted database loses nothing and applies
nothing twice (the final occupancy of every space is exactly what the counters said)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smartspaces.bootstrap import build_services, default_spaces
from smartspaces.bus.nats import NatsBus
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings, load_settings
from smartspaces.events import Observation
from smartspaces.store import Store
from tests.conftest import (
    delete_nats_streams,
    drop_schema,
    postgres_url,
    private_schema,
    square,
)
from tests.distributed import (
    PrivatePostgres,
    Workers,
    counter_stream,
    door_counts,
    query,
    wait_for,
    write_config,
)

SPACES = [s.id for s in default_spaces(Settings())]
ROUNDS = 40


@pytest.fixture
def tag() -> Iterator[str]:
    name = f"wf{uuid.uuid4().hex[:10]}"
    yield name
    asyncio.run(delete_nats_streams(name.upper()))


def expected_occupancy(rounds: int) -> float:
    return 2.0 * rounds  # 3 in and 1 out per round


def occupancy(url: str, schema: str | None) -> dict[str, float]:
    rows = query(url, "select space_id, occupancy_persons from space_status", schema)
    return {str(s): float(o or 0) for s, o in rows}


def holders(url: str, schema: str | None) -> dict[str, str]:
    rows = query(url, "select key, holder from leases where stage = 'detect'", schema)
    return {str(k): str(h) for k, h in rows if not str(k).startswith("_members")}


def checkpoint_seqs(url: str, schema: str | None) -> dict[str, int]:
    rows = query(url, "select space_id, seq from checkpoints where stage = 'detect'", schema)
    return {str(s): int(q) for s, q in rows}  # type: ignore[call-overload]


async def publish_rounds(config: Path, rounds: list, pause_s: float, on_round=None) -> None:  # type: ignore[no-untyped-def, type-arg]
    bus = await NatsBus.connect(load_settings(config).nats)
    try:
        for i, batch in enumerate(rounds):
            await bus.publish_many(batch)
            if on_round is not None:
                on_round(i)
            await asyncio.sleep(pause_s)
    finally:
        await bus.close()


def test_a_killed_detect_worker_loses_nothing_and_applies_nothing_twice(
    tmp_path: Path, tag: str
) -> None:
    schema = private_schema()
    url = postgres_url(schema)
    config = write_config(tmp_path / "worker.toml", url, tmp_path, tag)
    workers = Workers(config)
    try:
        workers.start("detect", "w1")
        workers.start("detect", "w2")
        # both alive, the spaces shared out between them (4 and 3)
        wait_for(
            lambda: (
                sorted(set(holders(url, schema).values())) == ["w1", "w2"]
                and len(holders(url, schema)) == len(SPACES)
            ),
            timeout_s=60,
        )
        shares = holders(url, schema)
        assert sorted(list(shares.values()).count(w) for w in ("w1", "w2")) == [3, 4]
        victim_spaces = [s for s, h in shares.items() if h == "w1"]
        killed: dict[str, object] = {}

        def kill_mid_stream(i: int) -> None:
            if i == ROUNDS // 3:
                killed["seqs"] = checkpoint_seqs(url, schema)
                workers.kill("w1")
                killed["at"] = time.monotonic()

        asyncio.run(publish_rounds(config, counter_stream(SPACES, ROUNDS), 0.15, kill_mid_stream))
        before = killed["seqs"]
        assert isinstance(before, dict)

        # the survivor takes the dead worker's spaces over and goes on from their checkpoints
        def resumed() -> bool:
            now = checkpoint_seqs(url, schema)
            return all(now.get(s, 0) > before.get(s, 0) for s in victim_spaces)

        wait_for(resumed, timeout_s=30, every_s=0.05)
        resume_s = time.monotonic() - float(killed["at"])  # type: ignore[arg-type]
        assert resume_s < 10, f"processing resumed after {resume_s:.1f} s"
        assert set(holders(url, schema).values()) == {"w2"}

        # every counter message applied once in effect: the occupancy is exact everywhere
        want = expected_occupancy(ROUNDS)
        try:
            wait_for(lambda: occupancy(url, schema) == dict.fromkeys(SPACES, want), 60)
        except AssertionError:
            pytest.fail(f"occupancy {occupancy(url, schema)}, want {want}\n{workers.log('w2')}")
        time.sleep(4)  # past the ack wait: a redelivered message would show now
        assert occupancy(url, schema) == dict.fromkeys(SPACES, want)
    finally:
        workers.stop_all()
        drop_schema(schema)


def test_a_postgresql_restart_mid_stream_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, tag: str
) -> None:
    postgres = PrivatePostgres()
    postgres.start()
    config = write_config(tmp_path / "worker.toml", postgres.url, tmp_path, tag)
    workers = Workers(config)
    restarted: dict[str, float] = {}
    try:
        workers.start("detect", "d1")
        workers.start("store", "s1")
        wait_for(lambda: len(holders(postgres.url, None)) == len(SPACES), timeout_s=60)

        def restart_mid_stream(i: int) -> None:
            if i == ROUNDS // 3:
                postgres.restart()
                restarted["at"] = time.monotonic()
                restarted["seqs"] = sum(checkpoint_seqs(postgres.url, None).values())

        rounds = counter_stream(SPACES, ROUNDS)
        asyncio.run(publish_rounds(config, rounds, 0.15, restart_mid_stream))
        resume_s = wait_for(
            lambda: sum(checkpoint_seqs(postgres.url, None).values()) > restarted["seqs"], 30
        )
        assert resume_s < 10
        want = expected_occupancy(ROUNDS)
        try:
            wait_for(lambda: occupancy(postgres.url, None) == dict.fromkeys(SPACES, want), 60)
        except AssertionError:
            pytest.fail(f"occupancy {occupancy(postgres.url, None)}\n{workers.log('d1')}")
        published = sum(len(batch) for batch in rounds)
        stored = lambda: query(postgres.url, "select count(*) from observations")[0][0]  # noqa: E731
        wait_for(lambda: stored() == published, 60)
        time.sleep(4)
        assert stored() == published  # each stored once, none lost
        assert occupancy(postgres.url, None) == dict.fromkeys(SPACES, want)
    finally:
        workers.stop_all()
        postgres.stop()


def test_a_worker_refuses_the_embedded_bus(tmp_path: Path) -> None:
    from smartspaces.errors import ConfigError
    from smartspaces.worker import Worker

    with pytest.raises(ConfigError, match="distributed bus"):
        Worker(Settings(store={"data_dir": tmp_path}), "detect")
    with pytest.raises(ConfigError, match="unknown stage"):
        Worker(Settings(bus={"backend": "nats"}), "everything")


def test_a_stand_by_takes_over_when_the_active_respond_worker_dies(
    tmp_path: Path, tag: str
) -> None:
    schema = private_schema()
    url = postgres_url(schema)
    workers = Workers(write_config(tmp_path / "worker.toml", url, tmp_path, tag))

    def active() -> str | None:
        rows = query(url, "select holder from leases where stage = 'respond'", schema)
        return str(rows[0][0]) if rows else None

    try:
        workers.start("respond", "r1")
        workers.start("respond", "r2")
        wait_for(lambda: active() is not None, timeout_s=60)
        first = active()
        assert first in ("r1", "r2")
        other = "r2" if first == "r1" else "r1"
        assert workers.processes[other].poll() is None  # standing by, not exited
        workers.kill(str(first))
        took_s = wait_for(lambda: active() == other, timeout_s=20)
        assert took_s < 10
        wait_for(lambda: "worker_active" in workers.log(other), timeout_s=10)
    finally:
        workers.stop_all()
        drop_schema(schema)


def test_serve_refuses_unknown_stages() -> None:
    from typer.testing import CliRunner

    from smartspaces.cli import app

    result = CliRunner().invoke(app, ["serve", "--stages", "live,everything"])
    assert result.exit_code == 2
    assert "everything" in result.output


def test_serve_and_worker_take_the_bus_and_the_store_from_flags(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from smartspaces.cli import _with_bus_and_store, app

    runner = CliRunner()
    bad_store = runner.invoke(app, ["serve", "--store", "mysql://x/y"])
    assert bad_store.exit_code == 2 and "--store" in bad_store.output
    bad_bus = runner.invoke(app, ["serve", "--bus", "carrier-pigeon"])
    assert bad_bus.exit_code == 2
    embedded = runner.invoke(app, ["worker", "--stage", "detect", "--bus", "memory"])
    assert embedded.exit_code == 2 and "distributed bus" in embedded.output
    chosen = _with_bus_and_store(Settings(), "nats", "postgresql+psycopg://db/x")
    assert (chosen.bus.backend, chosen.store.url) == ("nats", "postgresql+psycopg://db/x")


def ramp(spaces: list[str], rounds: int) -> list[list[Observation]]:
    """Crowds filling four small squares past critical, then leaving: alerts are raised,
    updated and cancelled."""
    # recorded readings of the last minutes (none ahead of the workers' clocks)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5 * rounds + 60)
    out = []
    for r in range(rounds):
        at = start + timedelta(seconds=5 * r)
        entries, exits = (40.0, 0.0) if r < rounds // 2 else (0.0, 40.0)
        out.append([o for space in spaces for o in door_counts(space, at, entries, exits, 5)])
    return out


def alert_runs(alerts: list[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Per space, the (message type, level) of its alerts, sorted: alerts of one instant have
    no order of their own, and a duplicate or a missing alert still shows."""
    by_space: dict[str, list[tuple[str, str]]] = {}
    for space, msg_type, level in alerts:
        by_space.setdefault(space, []).append((msg_type, level))
    return {space: sorted(runs) for space, runs in by_space.items()}


def test_killing_workers_mid_crowd_gives_the_same_alerts_once(tmp_path: Path, tag: str) -> None:
    schema = private_schema()
    url = postgres_url(schema)
    spaces = [square(f"sq-{i}", area_m2=200) for i in range(4)]
    seeded = Store(url)
    seeded.migrate()
    seeded.put_spaces(spaces)
    seeded.close()
    ids = [s.id for s in spaces]
    rounds = ramp(ids, 60)

    # the reference: the same observations through the embedded pipeline in one process
    reference = build_services(
        Settings(store={"data_dir": tmp_path / "ref"}),
        SimulatedClock(rounds[0][0].observed_at), spaces=spaces, timers=False,
    )  # fmt: skip

    async def embedded() -> None:
        await reference.runtime.start()
        for batch in rounds:
            await reference.runtime.publish(batch)
        await reference.runtime.drain()
        await reference.close()

    asyncio.run(embedded())
    want = alert_runs(
        [(a.space_id, a.msg_type, a.level.value) for a in reversed(reference.store.alerts(1000))]
    )
    assert all(len(runs) >= 2 for runs in want.values())  # raised and cancelled, at least

    workers = Workers(write_config(tmp_path / "worker.toml", url, tmp_path, tag))

    def active_respond() -> str | None:
        rows = query(url, "select holder from leases where stage = 'respond'", schema)
        return str(rows[0][0]) if rows else None

    end = rounds[-1][-1].observed_at

    def stored_alerts() -> list[tuple[str, str, str]]:
        # those the stream caused; later ones come from the workers' timers on the wall clock
        # (the reference runs without timers)
        rows = query(url, "select space_id, msg_type, level, observed_at from alerts "
                     "order by observed_at, id", schema)  # fmt: skip
        return [(str(s), str(m), str(v)) for s, m, v, at in rows if at <= end]  # type: ignore[operator]

    try:
        for stage, name in (("detect", "d1"), ("detect", "d2"), ("respond", "r1"),
                            ("respond", "r2"), ("store", "s1")):  # fmt: skip
            workers.start(stage, name)
        wait_for(lambda: len(holders(url, schema)) == 4 and active_respond(), timeout_s=60)

        def kill_mid_crowd(i: int) -> None:
            if i == 20:
                workers.kill("d1")
            if i == 35:
                workers.kill(str(active_respond()))

        asyncio.run(publish_rounds(workers.config, rounds, 0.1, kill_mid_crowd))
        wait_for(lambda: occupancy(url, schema) == dict.fromkeys(ids, 0.0), 60)
        wait_for(lambda: alert_runs(stored_alerts()) == want, 30)
        time.sleep(5)  # past the ack wait: a late duplicate would show now
        got = stored_alerts()
        assert alert_runs(got) == want, f"{got}\n{workers.log('r1')[-800:]}"
    finally:
        workers.stop_all()
        drop_schema(schema)
