"""Benchmarks of the pipeline; prints the figures and writes them to bench/results.json.

- pipeline.observations_per_s: in one process, wire JSON -> validation -> occupancy/density ->
  risk -> alert (the pure stages, no bus, no store). Target: at least 50,000 per second.
- pipeline.bus_observations_per_s: the same observations through the embedded journalled bus and
  the three stage workers into the SQLite store (what `smartspaces demo` runs).
- pipeline.latency_p99_ms: one observation published -> its alert stored, through bus and store.
  Target: under 50 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import alerts  # bench/alerts.py
import bus_kafka  # bench/bus_kafka.py
import bus_nats  # bench/bus_nats.py
import cop  # bench/cop.py
import crowd  # bench/crowd.py (this folder is on sys.path when run as a script)
import cyber  # bench/cyber.py
import edge_http  # bench/edge_http.py
import edge_mqtt  # bench/edge_mqtt.py
import fusion  # bench/fusion.py
import retention  # bench/retention.py
import risk  # bench/risk.py
import video  # bench/video.py
import workers  # bench/workers.py
from smartspaces.bootstrap import build_services, tune_garbage_collector
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.detect.fusion import FusionEngine
from smartspaces.edge.observations import validate_json_batch, validate_observations
from smartspaces.events import Alert, GeoPoint, GeoPolygon, SmartSpace
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.risk.assessor import RiskAssessor

RESULTS = Path(__file__).with_name("results.json")
STAGE_BENCHES = (
    crowd,
    cyber,
    fusion,
    risk,
    alerts,
    video,
    edge_http,
    edge_mqtt,
    bus_nats,
    bus_kafka,
    retention,
    workers,
    cop,
)
T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
SPACES = 50
COUNTERS = 8
console = Console(stderr=True)


def spaces() -> list[SmartSpace]:
    ring = ((-0.377, 39.469), (-0.376, 39.469), (-0.376, 39.470), (-0.377, 39.469))
    return [
        SmartSpace(
            id=f"space-{i}",
            name=f"Space {i}",
            space_type="square",
            area_m2=2000.0,
            geometry=GeoPolygon(coordinates=(ring,)),
            centroid=GeoPoint(coordinates=(-0.3765, 39.4695)),
        )
        for i in range(SPACES)
    ]


def wire_batches(total: int, batch: int = 1000) -> list[bytes]:
    """JSON bodies as gateways send them: every space's counters every 10 s, crowds that build up
    past red and drain again, so detections, risk changes and alerts really happen."""
    items: list[dict[str, Any]] = []
    step = 0
    while len(items) < total:
        at = (T0 + timedelta(seconds=10 * step)).isoformat()
        phase = (step // 60) % 2  # 10 minutes filling, 10 minutes emptying
        for s in range(SPACES):
            for c in range(COUNTERS):
                entering = 25 if phase == 0 else 3
                leaving = 3 if phase == 0 else 25
                for quantity, value in (("entries_count", entering), ("exits_count", leaving)):
                    items.append(
                        {
                            "sensor_id": f"counter-{s}-{c}",
                            "space_id": f"space-{s}",
                            "quantity": quantity,
                            "value": value,
                            "observed_at": at,
                            "interval_s": 10,
                        }
                    )
        step += 1
    items = items[:total]
    return [json.dumps(items[i : i + batch]).encode() for i in range(0, total, batch)]


def bench_pure(total: int) -> tuple[float, int]:
    # the stages the runtime's workers run, without bus and store: crowd stage (ladder, rise,
    # forecast), fusion over observations and detections, risk, alert policy
    settings = Settings()
    by_id = {s.id: s for s in spaces()}
    crowd = CrowdStage(settings.crowd, settings.forecast, by_id)
    fusion = FusionEngine.from_settings(settings.fusion, list(by_id.values()))
    risk, policy = RiskAssessor(by_id, None, settings.risk), AlertPolicy(by_id)
    bodies = wire_batches(total)
    known = set(by_id)
    now = T0 + timedelta(days=1)
    limits = settings.api.model_copy(update={"max_age_s": 30 * 86_400.0})
    alerts = 0
    started = time.perf_counter()
    for body in bodies:
        result = validate_json_batch(body, "bench", known, now, limits)
        for observation in result.accepted:
            fusion.step(observation, now)
            for detection in crowd.step(observation, now):
                fusion.step(detection, now)
                for level in risk.step(detection, now):
                    if policy.step(level, now) is not None:
                        alerts += 1
    elapsed = time.perf_counter() - started
    return total / elapsed, alerts


async def bench_bus(total: int, folder: Path) -> tuple[float, int]:
    settings = Settings(store={"data_dir": folder / "throughput"})  # type: ignore[arg-type]
    clock = SimulatedClock(T0 + timedelta(days=1))
    services = build_services(settings, clock, spaces=spaces())
    limits = settings.api.model_copy(update={"max_age_s": 30 * 86_400.0})
    known = {s.id for s in services.spaces}
    observations = []
    for body in wire_batches(total):
        observations.extend(
            validate_observations(json.loads(body), "bench", known, clock.now(), limits).accepted
        )
    await services.runtime.start()
    started = time.perf_counter()
    for i in range(0, len(observations), 1000):
        await services.runtime.publish(observations[i : i + 1000])
        await asyncio.sleep(0)
    await services.runtime.drain(timeout_s=600)
    elapsed = time.perf_counter() - started
    stored = services.store.count("observation")
    alerts = services.store.count("alert")
    await services.close()
    if stored != total:
        raise SystemExit(f"bus benchmark lost observations: {stored} stored of {total}")
    return total / elapsed, alerts


async def bench_latency(rounds: int, folder: Path) -> list[float]:
    # no suppression after a cancel: every round's red must give an alert to time
    settings = Settings(
        store={"data_dir": folder / "latency"},  # type: ignore[arg-type]
        alert_policy={"suppress_after_cancel_s": 0},  # type: ignore[arg-type]
    )
    clock = SimulatedClock(T0)
    services = build_services(settings, clock, spaces=spaces()[:1])
    stored: dict[str, float] = {}

    def on_stored(events: Any) -> None:
        for event in events:
            if isinstance(event, Alert):
                stored[event.space_id + event.observed_at.isoformat()] = time.perf_counter()

    services.runtime.add_listener(on_stored)
    await services.runtime.start()
    limits = settings.api.model_copy(update={"max_age_s": 30 * 86_400.0})
    latencies = []
    for i in range(rounds):
        at = clock.advance(10)
        people = 9000 if i % 2 == 0 else 100  # red, then back to normal: an alert each time
        item = {
            "sensor_id": "camera-1",
            "space_id": "space-0",
            "quantity": "occupancy_persons",
            "value": people,
            "observed_at": at.isoformat(),
        }
        (observation,) = validate_observations([item], "bench", {"space-0"}, at, limits).accepted
        key = "space-0" + at.isoformat()
        started = time.perf_counter()
        await services.runtime.publish([observation])
        while key not in stored:
            await asyncio.sleep(0.0005)
        latencies.append((stored[key] - started) * 1000)
    await services.close()
    return latencies


def main() -> int:
    quick = "--quick" in sys.argv
    total = 20_000 if quick else 200_000
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, console.status("benchmarking...") as status:
        status.update(f"pure pipeline, default garbage collector, {total:,} observations")
        default_rate, _ = bench_pure(total)
        tune_garbage_collector()  # what every smartspaces process does at start-up
        status.update(f"pure pipeline, {total:,} observations")
        pure_rate, pure_alerts = bench_pure(total)
        results.append(
            {
                "name": "pipeline.observations_per_s",
                "value": round(pure_rate),
                "unit": "observations/s",
                "target": ">= 50000",
                "alerts": pure_alerts,
                "peer": "same code, CPython's default garbage-collector settings",
                "peer_value": round(default_rate),
            }
        )
        bus_total = total // 4
        status.update(f"through bus and store, {bus_total:,} observations")
        bus_rate, bus_alerts = asyncio.run(bench_bus(bus_total, Path(tmp)))
        results.append(
            {
                "name": "pipeline.bus_observations_per_s",
                "value": round(bus_rate),
                "unit": "observations/s",
                "alerts": bus_alerts,
                "peer": "pipeline.observations_per_s (same stages, no bus, no store)",
                "peer_value": round(pure_rate),
            }
        )
        status.update("latency observation -> alert stored")
        latencies = asyncio.run(bench_latency(50 if quick else 400, Path(tmp)))
        p99 = statistics.quantiles(latencies, n=100)[98]
        results.append(
            {
                "name": "pipeline.latency_p99_ms",
                "value": round(p99, 2),
                "unit": "ms",
                "target": "< 50",
                "p50_ms": round(statistics.median(latencies), 2),
                "samples": len(latencies),
            }
        )
        # the other stages' benchmarks (bench/<stage>.py, each also runnable alone)
        for module in STAGE_BENCHES:
            status.update(f"{module.__name__} benchmarks")
            results.extend(module.run(quick))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    table = Table(
        "figure", "value", "unit", "target", "compared with", title="smartspaces benchmarks"
    )
    for r in results:
        peer = f"{r['peer_value']:,}: {r['peer']}" if "peer" in r else ""
        value = f"{r['value']:,}" if isinstance(r["value"], int | float) else str(r["value"])
        table.add_row(r["name"], value, r["unit"], str(r.get("target", "")), peer)
    console.print(table)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
