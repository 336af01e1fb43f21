"""A distributed deployment on this machine for tests and benchmarks: worker processes of
``smartspaces worker`` over the real NATS server and PostgreSQL (a private schema, or a private
PostgreSQL cluster when the test restarts the server)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from smartspaces.events import Observation

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SMARTSPACES = Path(sys.executable).parent / "smartspaces"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(
    path: Path, store_url: str, data_dir: Path, tag: str, *, lease_s: float = 3.0
) -> Path:
    """A TOML config for workers: NATS streams and subjects of their own (``tag``), short
    acknowledgement waits and leases so that a takeover is quick."""
    path.write_text(
        f"""
[store]
url = "{store_url}"
data_dir = "{data_dir}"

[bus]
backend = "nats"

[nats]
stream_prefix = "{tag.upper()}"
subject_prefix = "{tag.lower()}"
ack_wait_s = {lease_s}

[workers]
lease_s = {lease_s}
renew_s = {lease_s / 4}

[retention]
enabled = false
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Workers:
    """Worker processes started with one config; their logs go to files beside it."""

    config: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, stage: str, worker_id: str) -> subprocess.Popen[bytes]:
        log = open(self.config.parent / f"{worker_id}.log", "wb")  # noqa: SIM115 - kept open
        env = {**os.environ, "SMARTSPACES_CONFIG": str(self.config)}
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(SMARTSPACES), "worker", "--stage", stage, "--id", worker_id],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.processes[worker_id] = process
        return process

    def kill(self, worker_id: str) -> None:
        """Die at once, as a crashed machine would: no lease given back, nothing acked."""
        process = self.processes[worker_id]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def log(self, worker_id: str) -> str:
        return (self.config.parent / f"{worker_id}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary folder), to restart at will
    without disturbing anything else on the machine's server."""

    def __init__(self) -> None:
        # not under pytest's folder: the server runs as ``postgres``, who may not enter there
        self.root = Path(tempfile.mkdtemp(prefix="smartspaces-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _server_options(self) -> str:
        return f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        argv = [*prefix, *command]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)  # noqa: S603

    def start(self) -> None:
        if not self.data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.root, "postgres")
            self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                              "-U", "postgres")  # fmt: skip
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.root / "pg.log"),
            "-o", self._server_options(), "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._as_postgres(
                str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop"
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "restart",
            "-l", str(self.root / "pg.log"), "-o", self._server_options(),
        )  # fmt: skip


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1).split("?")[0]


def query(url: str, sql: str, schema: str | None = None) -> list[tuple[object, ...]]:
    """Rows of ``sql`` on the database of ``url`` (in ``schema`` when given)."""
    with psycopg.connect(libpq(url), autocommit=True, connect_timeout=3) as connection:
        if schema:
            connection.execute(f'set search_path to "{schema}", public')
        return list(connection.execute(sql).fetchall())  # type: ignore[arg-type]


def door_counts(
    space: str, at: datetime, entries: float, exits: float, interval_s: float
) -> list[Observation]:
    """One interval of a space's door counter: its entries and its exits."""
    return [
        Observation(
            id=f"o-{uuid.uuid4().hex}",
            source="test",
            space_id=space,
            sensor_id=f"{space}-door",
            quantity=quantity,
            value=value,
            observed_at=at,
            received_at=at,
            interval_s=interval_s,
        )  # fmt: skip
        for quantity, value in (("entries_count", entries), ("exits_count", exits))
    ]


def counter_stream(
    spaces: Sequence[str], rounds: int, start: datetime | None = None
) -> list[list[Observation]]:
    """Rounds of entries and exits for every space (3 in, 1 out each second): the occupancy
    never nears zero, so its sum does not depend on the order messages are applied in."""
    start = start or datetime.now(UTC).replace(microsecond=0)
    return [
        [o for space in spaces for o in door_counts(space, start + timedelta(seconds=r), 3, 1, 1)]
        for r in range(rounds)
    ]


def wait_for(check: object, timeout_s: float, every_s: float = 0.1) -> float:
    """Poll ``check()`` until it is truthy; seconds waited (AssertionError at the timeout)."""
    started = time.monotonic()
    while True:
        try:
            if check():  # type: ignore[operator]
                return time.monotonic() - started
        except psycopg.Error:
            pass  # the database is restarting
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"not reached within {timeout_s} s")
        time.sleep(every_s)
