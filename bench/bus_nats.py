"""Publish throughput of the NATS JetStream bus, next to the embedded bus in the same run."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from smartspaces.bus import MemoryBus
from smartspaces.bus.nats import NatsBus, NatsSettings
from smartspaces.config import BusSettings
from smartspaces.events import EVENT_KINDS, AnyEvent, Observation

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
BATCH = 500  # what an edge gateway hands the bus at once


def observations(total: int) -> list[AnyEvent]:
    return [
        Observation(
            source="bench", space_id=f"space-{i % 50}", sensor_id=f"counter-{i % 400}",
            quantity="entries_count", value=float(i % 30), interval_s=10.0,
            observed_at=T0 + timedelta(seconds=10 * (i // 400)), received_at=T0,
        )
        for i in range(total)
    ]  # fmt: skip


async def publish_rate(bus: Any, events: list[AnyEvent]) -> float:
    started = time.perf_counter()
    for i in range(0, len(events), BATCH):
        await bus.publish_many(events[i : i + BATCH])
    return len(events) / (time.perf_counter() - started)


async def measure(total: int, servers: list[str]) -> tuple[float, float]:
    events = observations(total)
    with tempfile.TemporaryDirectory() as folder:  # journalled, as `smartspaces demo` runs it
        memory = MemoryBus(BusSettings(), Path(folder) / "bus.sqlite3")
        memory_rate = await publish_rate(memory, events)
        await memory.close()
    tag = f"BENCH{uuid.uuid4().hex[:8]}"
    bus = await NatsBus.connect(
        NatsSettings(servers=servers, stream_prefix=tag, subject_prefix=tag.lower())
    )
    try:
        nats_rate = await publish_rate(bus, events)
    finally:
        for kind in EVENT_KINDS:
            await bus._js.delete_stream(bus.stream_name(kind))
        await bus.close()
    return nats_rate, memory_rate


def run(quick: bool, servers: list[str] | None = None) -> list[dict[str, Any]]:
    """The figures, as bench/run.py reports them; the NATS server must be running."""
    total = 20_000 if quick else 200_000
    nats_rate, memory_rate = asyncio.run(measure(total, servers or ["nats://127.0.0.1:4222"]))
    return [
        {
            "name": "bus.nats_publish_per_s",
            "value": round(nats_rate),
            "unit": "events/s",
            "events": total,
            "note": f"one publisher, async publishes awaited per batch of {BATCH}, one node, R1",
            "peer": "bus.memory_publish_per_s (embedded bus journalled to SQLite, same events)",
            "peer_value": round(memory_rate),
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
