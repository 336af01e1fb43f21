"""Benchmarks of MQTT ingest at the edge; prints figure dicts like bench/run.py's.

Both run against a Mosquitto process the bench starts on a free 127.0.0.1 port (the same binary
`make services` runs, with no per-client queue limit and its files in a temporary folder), so
that nothing of a shared broker is touched. Devices publish with mosquitto_pub (QoS 1).

- edge.mqtt_ingest_msgs_per_s: one-observation messages from 10 devices, published as fast as
  mosquitto_pub goes, through the broker, the MQTT adapter (validation, manual QoS 1 acks) and
  the store-and-forward buffer into a counting sink. Target: at least 20,000 per second.
- edge.outage_lost / edge.outage_duplicates: devices publish at a steady rate while the central
  node (the buffer's downstream) is unreachable for a while; afterwards every published
  observation must have reached it once. Both must be 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smartspaces.clock import SystemClock
from smartspaces.config import ApiSettings
from smartspaces.edge.buffer import BufferSettings, StoreAndForward
from smartspaces.edge.mqtt.adapter import MqttAdapter
from smartspaces.edge.mqtt.settings import MqttSettings
from smartspaces.events import Device, Observation

HOST = "127.0.0.1"
DEVICES = 10


class Downstream:
    """Counts what reaches the central node; raises while ``down``."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.down = False

    async def __call__(self, observations: Sequence[Observation]) -> None:
        if self.down:
            raise ConnectionError("central node unreachable")
        self.ids.extend(o.id for o in observations)


async def dead_letter(adapter: str, reason: str, payload: str) -> None:
    raise AssertionError(f"unexpected dead letter: {reason}")


REGISTRY = {
    f"d{d}": Device(id=f"d{d}", kind="people_counter", space_id="plaza") for d in range(DEVICES)
}


async def registry(device_ids: Collection[str]) -> Mapping[str, Device]:
    """The registry the adapter checks every reading against (the store's, in production)."""
    return {i: REGISTRY[i] for i in device_ids if i in REGISTRY}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def mosquitto(folder: Path) -> Any:
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} {HOST}\nallow_anonymous true\npersistence false\n"
        f"max_queued_messages 0\nlog_dest none\nuser {getpass.getuser()}\n"
    )
    process = subprocess.Popen(  # noqa: S603
        ["mosquitto", "-c", str(config)],  # noqa: S607
        stderr=subprocess.DEVNULL,  # its warning about running as root
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.02)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def line(device: int, i: int, start: datetime) -> bytes:
    at = start + timedelta(seconds=i)
    item = {
        "sensor_id": f"d{device}",
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": i % 40,
        "observed_at": at.isoformat(),
    }
    return json.dumps(item).encode() + b"\n"


async def publishers(port: int, prefix: str) -> list[asyncio.subprocess.Process]:
    return [
        await asyncio.create_subprocess_exec(
            "mosquitto_pub", "-h", HOST, "-p", str(port), "-q", "1", "-l",
            "-t", f"{prefix}/plaza/d{d}", stdin=asyncio.subprocess.PIPE,
        )
        for d in range(DEVICES)
    ]  # fmt: skip


async def ingest(
    port: int, folder: Path, per_device: int, rate: float, outage: tuple[float, float]
) -> dict[str, Any]:
    """Publish ``per_device`` messages from each device at ``rate`` messages/s in all (0: as
    fast as possible), with the downstream away from ``outage[0]`` to ``outage[1]`` seconds."""
    # a topic and a client of its own per run: a broker session left by an earlier run must
    # not hand its messages to this one
    run_id = time.time_ns() % 10**12
    config = MqttSettings(
        port=port, topic=f"bench{run_id}/observations/#", client_id=f"bench{run_id}",
        embedded=False,
    )  # fmt: skip
    downstream = Downstream()
    buffer = StoreAndForward(
        downstream, folder / f"buffer-{time.time_ns()}.sqlite3", BufferSettings()
    )
    start = datetime.now(UTC) - timedelta(seconds=per_device + 60)
    adapter = MqttAdapter(
        config,
        ApiSettings(),
        {"plaza"},
        buffer,
        dead_letter,
        SystemClock(),
        devices=registry,
        pace=buffer.rate_factor,
    )
    tasks = [asyncio.create_task(adapter.run()), asyncio.create_task(buffer.run())]
    await asyncio.wait_for(adapter.ready.wait(), 10)
    procs = await publishers(port, config.topic_prefix())
    total = per_device * DEVICES
    began = time.perf_counter()
    tick, sent = 0.01, 0
    step = max(1, round(rate * tick / DEVICES)) if rate else per_device
    while sent < per_device:
        for d, proc in enumerate(procs):
            assert proc.stdin is not None
            proc.stdin.write(
                b"".join(line(d, i, start) for i in range(sent, min(sent + step, per_device)))
            )
        sent += step
        elapsed = time.perf_counter() - began
        downstream.down = outage[0] <= elapsed < outage[1]
        if rate:
            await asyncio.sleep(max(0.0, sent * DEVICES / rate - elapsed))
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
    while time.perf_counter() - began < outage[1]:
        await asyncio.sleep(0.01)
    downstream.down = False
    deadline = time.perf_counter() + 120
    while len(downstream.ids) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - began
    await asyncio.sleep(0.2)  # anything arriving twice would come now
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for proc in procs:
        await proc.wait()
    buffer.close()
    return {
        "total": total,
        "rate": len(downstream.ids) / elapsed,
        "lost": total - len(set(downstream.ids)),
        "duplicates": len(downstream.ids) - len(set(downstream.ids)),
        "buffered": buffer.counters.buffered,
        "redelivered": buffer.counters.duplicates,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, mosquitto(Path(tmp)) as port:
        burst = asyncio.run(ingest(port, Path(tmp), 4_000 if quick else 20_000, 0, (-1, -1)))
        rate, seconds, outage = (2_000, 8, (2.0, 5.0)) if quick else (5_000, 45, (5.0, 35.0))
        per_device = rate * seconds // DEVICES
        steady = asyncio.run(ingest(port, Path(tmp), per_device, rate, outage))
    away = outage[1] - outage[0]
    note = f"{steady['total']:,} observations at {rate:,}/s, central node away {away:.0f} s"
    return [
        {
            "name": "edge.mqtt_ingest_msgs_per_s",
            "value": round(burst["rate"]),
            "unit": "messages/s",
            "target": ">= 20000",
            "messages": burst["total"],
        },
        {
            "name": "edge.outage_lost",
            "value": steady["lost"],
            "unit": "observations",
            "target": "0",
            "scenario": note,
            "buffered": steady["buffered"],
        },
        {
            "name": "edge.outage_duplicates",
            "value": steady["duplicates"],
            "unit": "observations",
            "target": "0",
            "scenario": note,
            "redelivered_by_broker": steady["redelivered"],
        },
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
