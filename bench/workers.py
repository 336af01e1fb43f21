"""The distributed deployment's figures: detect workers over NATS JetStream and PostgreSQL.

- pipeline.nats_observations_per_s: observations through the detect stage (crowd measures, a
  checkpoint and the live status per batch in PostgreSQL) with 1 worker, then 2, each a
  ``smartspaces worker --stage detect`` process; the spaces are shared out before the clock
  starts, then a backlog is published and timed until every space's checkpoint has caught up.
- failover.resume_s: two workers under a steady stream; one is killed (SIGKILL); seconds until
  the survivor has applied new messages of every space the dead one held.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' deployment helpers

from tests.conftest import (  # noqa: E402
    delete_nats_streams,
    drop_schema,
    postgres_url,
    private_schema,
)
from tests.distributed import Workers, query, wait_for, write_config  # noqa: E402

from smartspaces.bus.nats import NatsBus  # noqa: E402
from smartspaces.config import load_settings  # noqa: E402
from smartspaces.events import GeoPoint, GeoPolygon, Observation, SmartSpace  # noqa: E402
from smartspaces.store import Store  # noqa: E402

SPACES = 24
T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


def bench_spaces() -> list[SmartSpace]:
    ring = ((-0.377, 39.469), (-0.376, 39.469), (-0.376, 39.470), (-0.377, 39.469))
    return [
        SmartSpace(
            id=f"space-{i}", name=f"Space {i}", space_type="square", area_m2=5000.0,
            geometry=GeoPolygon(coordinates=(ring,)),
            centroid=GeoPoint(coordinates=(-0.3765, 39.4695)),
        )
        for i in range(SPACES)
    ]  # fmt: skip


def stream(total: int, start: int = 0) -> list[Observation]:
    return [
        Observation(
            source="bench", space_id=f"space-{i % SPACES}", sensor_id=f"door-{i % (SPACES * 4)}",
            quantity="entries_count" if i % 3 else "exits_count", value=2.0, interval_s=10.0,
            observed_at=T0 + timedelta(seconds=(start + i) // SPACES),
            received_at=T0 + timedelta(seconds=(start + i) // SPACES),
        )
        for i in range(total)
    ]  # fmt: skip


class Deployment:
    """A private schema, NATS streams of its own, and worker processes."""

    def __init__(self, folder: Path) -> None:
        self.schema = private_schema()
        self.url = postgres_url(self.schema)
        store = Store(self.url)
        store.migrate()
        store.put_spaces(bench_spaces())
        store.close()
        self.tag = f"bw{uuid.uuid4().hex[:8]}"
        self.config = write_config(folder / "workers.toml", self.url, folder, self.tag)
        self.workers = Workers(self.config)

    def held(self) -> dict[str, str]:
        rows = query(self.url, "select key, holder from leases where stage = 'detect'", self.schema)
        return {str(k): str(h) for k, h in rows if not str(k).startswith("_members")}

    def seqs(self) -> dict[str, int]:
        rows = query(self.url, "select space_id, seq from checkpoints", self.schema)
        return {str(s): int(q) for s, q in rows}  # type: ignore[call-overload]

    def start(self, count: int) -> None:
        for i in range(count):
            self.workers.start("detect", f"w{i + 1}")
        wait_for(lambda: len(self.held()) == SPACES and len(set(self.held().values())) == count, 90)

    async def publish(self, events: list[Observation], pause_s: float = 0.0) -> dict[str, int]:
        """Publish in batches; the last seq of each space."""
        bus = await NatsBus.connect(load_settings(self.config).nats)
        last: dict[str, int] = {}
        try:
            for i in range(0, len(events), 500):
                batch = events[i : i + 500]
                for event, seq in zip(batch, await bus.publish_many(batch), strict=True):
                    last[event.space_id] = max(seq, last.get(event.space_id, 0))
                if pause_s:
                    await asyncio.sleep(pause_s)
        finally:
            await bus.close()
        return last

    def close(self) -> None:
        self.workers.stop_all()
        asyncio.run(delete_nats_streams(self.tag.upper()))
        drop_schema(self.schema)


def throughput(workers: int, total: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        deployment = Deployment(Path(folder))
        try:
            deployment.start(workers)
            started = time.perf_counter()
            last = asyncio.run(deployment.publish(stream(total)))
            wait_for(
                lambda: all(deployment.seqs().get(s, 0) >= q for s, q in last.items()),
                600, every_s=0.05,
            )  # fmt: skip
            return total / (time.perf_counter() - started)
        finally:
            deployment.close()


def resume_after_kill() -> float:
    with tempfile.TemporaryDirectory() as folder:
        deployment = Deployment(Path(folder))
        try:
            deployment.start(2)
            victim = [s for s, h in deployment.held().items() if h == "w1"]
            asyncio.run(deployment.publish(stream(SPACES * 20), pause_s=0.05))
            before = deployment.seqs()
            deployment.workers.kill("w1")
            killed_at = time.monotonic()

            async def steady() -> None:  # a new round of every space each 0.1 s
                for r in range(400):
                    await deployment.publish(stream(SPACES, start=SPACES * (20 + r)))
                    if all(deployment.seqs().get(s, 0) > before.get(s, 0) for s in victim):
                        return
                    await asyncio.sleep(0.1)

            asyncio.run(steady())
            return time.monotonic() - killed_at
        finally:
            deployment.close()


def run(quick: bool) -> list[dict[str, Any]]:
    """The figures, as bench/run.py reports them (NATS and PostgreSQL must be running)."""
    total = 12_000 if quick else 60_000
    one, two = throughput(1, total), throughput(2, total)
    resume = resume_after_kill()
    cores = os.cpu_count()
    note = f"{cores} cores shared by the workers, NATS, PostgreSQL and the publisher"
    return [
        {
            "name": "pipeline.nats_observations_per_s",
            "value": round(one),
            "unit": "observations/s",
            "workers": 1,
            "observations": total,
            "spaces": SPACES,
            "note": f"detect stage, 1 worker; {note}",
        },
        {
            "name": "pipeline.nats_observations_per_s_2_workers",
            "value": round(two),
            "unit": "observations/s",
            "workers": 2,
            "observations": total,
            "spaces": SPACES,
            "note": f"detect stage, 2 workers; {note}",
        },
        {
            "name": "failover.resume_s",
            "value": round(resume, 2),
            "unit": "s",
            "note": "SIGKILL of one of 2 detect workers -> new messages of all its spaces "
            "applied by the other (lease 3 s, renewed every 0.75 s); target < 10",
        },
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
