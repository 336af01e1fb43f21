"""Brokers and sinks for the edge tests: the real Mosquitto, a private one, the embedded amqtt."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from smartspaces.clock import Clock
from smartspaces.config import ApiSettings
from smartspaces.edge.buffer.policy import Priority
from smartspaces.edge.mqtt.adapter import MqttAdapter
from smartspaces.edge.mqtt.broker import EmbeddedBroker
from smartspaces.edge.mqtt.settings import MqttSettings
from smartspaces.edge.ports import DeviceDirectory, ObservationSink
from smartspaces.events import Device, Observation

HOST = "127.0.0.1"
MOSQUITTO_PORT = 1883


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
        return True
    return False


@pytest.fixture
def mosquitto() -> int:
    """The real Mosquitto the tests talk to; its absence fails the test, it is not skipped."""
    if not listening(MOSQUITTO_PORT):
        pytest.fail(
            f"Mosquitto is not listening on {HOST}:{MOSQUITTO_PORT}: `make services` starts it "
            "(here: mosquitto -d -c /etc/mosquitto/mosquitto.conf)"
        )
    return MOSQUITTO_PORT


@pytest.fixture
async def embedded_broker() -> AsyncIterator[int]:
    """The amqtt broker `make demo` runs, on a port of its own."""
    port = free_port()
    async with EmbeddedBroker(HOST, port):
        yield port


@pytest.fixture(params=["mosquitto", "embedded_broker"])
def broker(request: pytest.FixtureRequest) -> int:
    """Each test that takes ``broker`` runs against the real Mosquitto and the embedded amqtt."""
    return int(request.getfixturevalue(request.param))


class PrivateMosquitto:
    """A Mosquitto process of the test's own (same binary, own port and files), so that it can
    be stopped and started without touching the one other tests and sessions use."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} {HOST}\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\nlog_dest none\n"
            # run as whoever runs the tests: as root, Mosquitto would switch to its own user,
            # which may not write the test's folder (and so would save no session)
            f"user {getpass.getuser()}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)])  # noqa: S603,S607
        deadline = time.monotonic() + 5
        while not listening(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("private mosquitto did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()  # SIGTERM: Mosquitto saves its sessions, then exits
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    server = PrivateMosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


class Registry:
    """A DeviceDirectory over a dict (the store's repository in production); counts lookups."""

    def __init__(self, *devices: Device) -> None:
        self.devices = {d.id: d for d in devices}
        self.lookups = 0

    async def __call__(self, device_ids: Collection[str]) -> Mapping[str, Device]:
        self.lookups += 1
        return {i: self.devices[i] for i in device_ids if i in self.devices}


def counter(device_id: str, space_id: str = "plaza", **changes: Any) -> Device:
    values: dict[str, Any] = {"id": device_id, "kind": "people_counter", "space_id": space_id}
    values.update(changes)
    return Device(**values)


REGISTRY = Registry(
    *(counter(f"c{i}") for i in range(1, 10)),
    *(counter(f"d{i}") for i in range(10)),
    counter("c1-h", "harbour"),
    Device(id="gw1", kind="gateway", space_id="plaza"),
    counter("g1a", gateway_id="gw1"),
    counter("g1b", gateway_id="gw1", quantities=("entries_count",)),
    counter("off", status="disabled", gateway_id="gw1"),
)
"""The devices the MQTT tests publish as: c1..c9, d0..d9 in plaza, gateway gw1 relaying g1a,
g1b (and the disabled "off")."""


@dataclass
class Recorder:
    """An ObservationSink and a DeadLetterSink that remember what they were given; the sink
    raises while ``down`` is set, as a bus or central node that cannot be reached does."""

    observations: list[Observation] = field(default_factory=list)
    dead: list[tuple[str, str, str]] = field(default_factory=list)
    down: bool = False
    refused: int = 0

    async def __call__(self, observations: Sequence[Observation]) -> None:
        if self.down:
            self.refused += 1
            raise ConnectionError("central node unreachable")
        self.observations.extend(observations)

    async def dead_letter(self, adapter: str, reason: str, payload: str) -> None:
        self.dead.append((adapter, reason, payload))

    def ids(self) -> list[str]:
        return [o.id for o in self.observations]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def mqtt_settings(port: int, **changes: Any) -> MqttSettings:
    """Settings on a topic prefix of this test's own, so runs on a shared broker never mix."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    values: dict[str, Any] = {
        "port": port,
        "topic": f"{prefix}/observations/#",
        "client_id": f"ss-{prefix}",
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
        "embedded": False,
    }
    values.update(changes)
    return MqttSettings(**values)


@contextlib.asynccontextmanager
async def running(
    settings: MqttSettings,
    sink: ObservationSink,
    recorder: Recorder,
    clock: Clock,
    forget_session: bool = True,
    devices: DeviceDirectory | None = None,
    pace: Callable[[Priority], float] | None = None,
) -> AsyncIterator[MqttAdapter]:
    """Run an adapter until the block ends, then remove its persistent session from the broker
    (unless told not to), so the shared broker does not keep queueing for it."""
    adapter = MqttAdapter(
        settings,
        ApiSettings(),
        {"plaza", "harbour"},
        sink,
        recorder.dead_letter,
        clock,
        devices=devices if devices is not None else REGISTRY,
        pace=pace,
    )
    task = asyncio.create_task(adapter.run())
    try:
        await asyncio.wait_for(adapter.ready.wait(), 10)
        yield adapter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if forget_session:
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(
                    HOST, settings.port, identifier=settings.client_id, clean_session=True
                ):
                    pass


async def publish(port: int, messages: Sequence[tuple[str, bytes]], qos: int = 1) -> None:
    async with aiomqtt.Client(HOST, port, timeout=10) as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=qos)


async def until(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what or check}")
        await asyncio.sleep(0.01)
