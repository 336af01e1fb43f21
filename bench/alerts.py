"""Alert figures: policy + CAP rendering throughput, schema validity, webhook latency.

- alerts.per_s: risk-level changes turned into alerts by the policy and rendered as CAP 1.2 XML
  (three languages, polygon area), per second, one thread; 500 spaces cycling amber, red,
  critical, red, normal so every step issues an Alert, Update or Cancel.
- alerts.cap_valid_fraction: share of those CAP documents (every one in --quick, a sample of
  2,000 otherwise) that validate against the OASIS CAP 1.2 schema. Must be 1.0.
- alerts.webhook_delivery_p99_ms: signed webhook POST of a CAP alert to a receiver on loopback,
  sent one after another through the production sender (httpx), 99th percentile.
- alerts.tak_delivery_p99_ms: one CoT event to a TAK TCP listener on loopback, 99th percentile.

Run alone with ``python bench/alerts.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from lxml import etree

from smartspaces.clock import SimulatedClock
from smartspaces.config import AlertFormatSettings, ScenarioSettings
from smartspaces.config.delivery import TakTarget
from smartspaces.events import GeoPoint, GeoPolygon, Level, RiskLevel, SmartSpace
from smartspaces.respond.alerts.cap import cap_xml
from smartspaces.respond.alerts.cap_xml import CapSchemas
from smartspaces.respond.alerts.cot import cot_event
from smartspaces.respond.alerts.delivery.tak import TakSender
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.alerts.webhooks import RetryPolicy, WebhookSender

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
LADDER = [Level.AMBER, Level.RED, Level.CRITICAL, Level.RED, Level.NORMAL]


def spaces(n: int) -> list[SmartSpace]:
    found = []
    for i in range(n):
        lon, lat = -0.38 + (i % 25) * 0.001, 39.46 + (i // 25) * 0.001
        ring = ((lon, lat), (lon + 0.0008, lat), (lon + 0.0008, lat + 0.0008), (lon, lat + 0.0008))
        found.append(
            SmartSpace(
                id=f"space-{i}",
                name=f"Space {i}",
                area_m2=4000.0,
                geometry=GeoPolygon(coordinates=((*ring, ring[0]),)),
                centroid=GeoPoint(coordinates=(lon + 0.0004, lat + 0.0004)),
            )
        )
    return found


def bench_policy_and_cap(n_spaces: int, rounds: int) -> tuple[float, list[bytes]]:
    all_spaces = spaces(n_spaces)
    by_id = {s.id: s for s in all_spaces}
    policy, formats = AlertPolicy(by_id), AlertFormatSettings()
    risks = []
    for r in range(rounds):
        for minute, level in enumerate(LADDER):
            at = T0 + timedelta(hours=r, minutes=minute * 11)  # past every suppression window
            for space in all_spaces:
                risks.append(
                    RiskLevel(source="bench", space_id=space.id, observed_at=at,
                              received_at=at, level=level, score=0.5, reasons=("bench",))
                )  # fmt: skip
    documents: list[bytes] = []
    first: dict[str, Any] = {}
    started = time.perf_counter()
    for risk in risks:
        alert = policy.step(risk, risk.observed_at)
        if alert is None:
            continue
        head = first.setdefault(alert.references[0] if alert.references else alert.id, alert)
        referenced = [head] if alert.references else []
        documents.append(cap_xml(alert, by_id[alert.space_id], formats, "agencies", referenced))
    elapsed = time.perf_counter() - started
    return len(documents) / elapsed, documents


def valid_fraction(documents: list[bytes], sample: int | None) -> tuple[float, int]:
    schemas = CapSchemas.from_dir(ScenarioSettings().shared_data_dir() / "cap" / "schema")
    step = max(1, len(documents) // sample) if sample else 1
    chosen = documents[::step]
    valid = sum(1 for doc in chosen if not schemas.errors(etree.fromstring(doc), "1.2"))
    return valid / len(chosen), len(chosen)


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


async def bench_webhook(body: bytes, count: int) -> list[float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    latencies = []
    try:
        async with httpx.AsyncClient() as client:
            sender = WebhookSender(client, SimulatedClock(T0), RetryPolicy(max_attempts=1))
            for i in range(count):
                started = time.perf_counter()
                result = await sender.deliver(url, body, b"bench-secret-key", f"d{i}")
                latencies.append((time.perf_counter() - started) * 1000)
                if not result.delivered:
                    raise RuntimeError(result.reason)
    finally:
        server.shutdown()
    return latencies


async def bench_tak(event: bytes, count: int) -> list[float]:
    received = 0

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        while chunk := await reader.read(65536):
            received += chunk.count(b"</event>")
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = TakTarget(name="bench", host="127.0.0.1", port=port)
    sender = TakSender(target, SimulatedClock(T0), RetryPolicy(max_attempts=1))
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        delivered, _attempts = await sender.send(event)
        latencies.append((time.perf_counter() - started) * 1000)
        assert delivered
    await sender.close()
    async with asyncio.timeout(10):
        while received < count:
            await asyncio.sleep(0.001)
    server.close()
    return latencies


def run(quick: bool) -> list[dict[str, Any]]:
    """The alert figures, as dicts like bench/run.py's."""
    n_spaces, rounds = (100, 2) if quick else (500, 4)
    per_s, documents = bench_policy_and_cap(n_spaces, rounds)
    fraction, checked = valid_fraction(documents, None if quick else 2000)
    count = 200 if quick else 2000
    web = asyncio.run(bench_webhook(documents[0], count))
    space = spaces(1)[0]
    policy = AlertPolicy({space.id: space})
    at = T0
    alert = policy.step(
        RiskLevel(source="bench", space_id=space.id, observed_at=at, received_at=at,
                  level=Level.RED, score=0.7),
        at,
    )  # fmt: skip
    assert alert is not None
    tak = asyncio.run(bench_tak(cot_event(alert, space), count))
    return [
        {"name": "alerts.per_s", "value": round(per_s), "unit": "alerts/s",
         "alerts": len(documents), "spaces": n_spaces},
        {"name": "alerts.cap_valid_fraction", "value": fraction, "unit": "fraction",
         "target": "1.0", "checked": checked},
        {"name": "alerts.webhook_delivery_p99_ms",
         "value": round(statistics.quantiles(web, n=100)[98], 2), "unit": "ms",
         "p50_ms": round(statistics.median(web), 2), "samples": count},
        {"name": "alerts.tak_delivery_p99_ms",
         "value": round(statistics.quantiles(tak, n=100)[98], 3), "unit": "ms",
         "p50_ms": round(statistics.median(tak), 3), "samples": count},
    ]  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
