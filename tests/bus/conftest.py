"""Bus test fixtures: a three-node NATS JetStream cluster on loopback, Debian's nats-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class NatsCluster:
    """Three nats-server processes routed to each other; ``kill`` one to test failover."""

    folder: Path
    client_ports: list[int]
    cluster_ports: list[int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{port}" for port in self.client_ports]

    def start(self) -> None:
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.cluster_ports)
        ports = zip(self.client_ports, self.cluster_ports, strict=True)
        for i, (client, cluster) in enumerate(ports):
            name = f"n{i}"
            command = [
                NATS_SERVER, "-a", "127.0.0.1", "-p", str(client), "-n", name,
                "-js", "-sd", str(self.folder / name), "-l", str(self.folder / f"{name}.log"),
                "--cluster_name", "ss-test", "--cluster", f"nats://127.0.0.1:{cluster}",
                "--routes", routes,
            ]  # fmt: skip
            self.processes[name] = subprocess.Popen(command)  # noqa: S603 (our own argv)
        deadline = time.monotonic() + 10
        for port in self.client_ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"nats-server on port {port} did not start") from None
                    time.sleep(0.05)

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no goodbye to the cluster, no flush to disk."""
        process = self.processes[name]
        process.kill()
        process.wait(5)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(
            f"{log.name}: {line}"
            for log in sorted(self.folder.glob("*.log"))
            for line in log.read_text(errors="replace").splitlines()[-lines:]
        )


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """A fresh three-node cluster in ``tmp_path``, always torn down (killed) afterwards."""
    if not Path(NATS_SERVER).exists():
        pytest.fail(f"nats-server not found at {NATS_SERVER}: `make services` installs it")
    ports = _free_ports(6)
    cluster = NatsCluster(tmp_path, ports[:3], ports[3:])
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
