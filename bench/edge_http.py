"""HTTP ingest benchmark: one `smartspaces serve` process on loopback, batches of 1,000 from a
gateway's token, counted when answered 202 (journalled on the bus, so durable).

`edge.http_ingest_obs_per_s` (target 50,000). The server runs its whole pipeline at the same
time, as in production; the client shares the machine's two cores with it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from smartspaces.bootstrap import open_store
from smartspaces.config import Settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.events import Device

BATCH = 1000
SENSORS = 50
CONCURRENCY = 4


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bodies(total: int) -> list[bytes]:
    now = datetime.now(UTC)
    items: list[dict[str, Any]] = []
    for i in range(total):
        at = now - timedelta(seconds=600) + timedelta(milliseconds=i)
        items.append(
            {
                "sensor_id": f"counter-{i % SENSORS}",
                "space_id": "plaza-ayuntamiento",
                "quantity": "entries_count" if i % 2 else "exits_count",
                "value": i % 7,
                "observed_at": at.isoformat(),
                "interval_s": 10,
            }
        )
    return [json.dumps(items[i : i + BATCH]).encode() for i in range(0, total, BATCH)]


async def _send(url: str, token: str, bodies: list[bytes]) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            response = await client.post(url, content=queue.get_nowait(), headers=headers)
            if response.status_code != 202:
                raise SystemExit(f"ingest refused a batch: {response.status_code} {response.text}")
            accepted += response.json()["accepted"]

    async with httpx.AsyncClient(timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, accepted


def measure(total: int, extra: list[str]) -> float:
    """Observations per second into one ``smartspaces serve`` process started with ``extra``."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(store={"data_dir": Path(folder)})  # type: ignore[arg-type]
        store = open_store(settings)
        token = new_token()
        store.devices.put(
            Device(
                id="gateway-1",
                kind="gateway",
                space_id="plaza-ayuntamiento",
                token_sha256=hash_token(token),
            )
        )
        for i in range(SENSORS):
            store.devices.put(
                Device(
                    id=f"counter-{i}",
                    kind="people_counter",
                    space_id="plaza-ayuntamiento",
                    gateway_id="gateway-1",
                )
            )
        store.close()
        port = _free_port()
        env = {
            **os.environ,
            "XDG_DATA_HOME": str(Path(folder).parent),
            "SMARTSPACES__STORE__DATA_DIR": folder,
            "SMARTSPACES__MQTT__ENABLED": "false",
            "SMARTSPACES__EDGE__RATE_LIMIT_PER_S": "1000000",
            "SMARTSPACES__EDGE__RATE_BURST": "1000000",
        }
        server = subprocess.Popen(  # noqa: S603 - our own CLI on loopback
            [sys.executable, "-m", "smartspaces.cli", "serve", "--port", str(port), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            elapsed, accepted = asyncio.run(
                _send(base + "/api/v1/observations", token, _bodies(total))
            )
        finally:
            server.terminate()
            server.wait(30)
    if accepted != total:
        raise SystemExit(f"only {accepted} of {total} accepted")
    return total / elapsed


def run(quick: bool) -> list[dict[str, Any]]:
    total = 50_000 if quick else 200_000
    whole = measure(total, [])
    node = measure(total, ["--stages", "none"])
    return [
        {
            "name": "edge.http_ingest_obs_per_s",
            "value": round(whole),
            "unit": "observations/s",
            "target": ">= 50000",
            "method": f"{total} observations, batches of {BATCH}, {CONCURRENCY} concurrent "
            "requests, one server process running the whole pipeline too, loopback",
            "peer": "edge.http_ingest_node_obs_per_s (an ingest node: serve --stages none, the "
            "stages in worker processes)",
            "peer_value": round(node),
        },
        {
            "name": "edge.http_ingest_node_obs_per_s",
            "value": round(node),
            "unit": "observations/s",
            "target": ">= 50000",
            "method": f"{total} observations, batches of {BATCH}, {CONCURRENCY} concurrent "
            "requests, one server process that validates and journals (no stage), loopback",
        },
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
