"""Benchmark of the fusion engine (situation assessment); prints figure dicts like bench/run.py's.

- fusion.detections_per_s: events (detections of every producer, and the counter, camera and
  device-health readings the rules compare) through ``FusionEngine.step`` with the shipped rules,
  plus ``tick`` once per simulated second; 200 smart spaces in a ring of neighbours, 3 devices
  each, 40 infrastructure assets. Most events match no rule (as in a city's real stream); the
  rest open, update and end situations of every shipped rule. Fresh engine each run, best of
  ``RUNS`` runs (a shared machine's other work only ever slows a run down). Target: >= 50,000.

Run alone with ``python bench/fusion.py [--quick]``; bench/run.py can collect ``run(quick)``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from smartspaces.detect.fusion import FusionEngine, load_rules
from smartspaces.events import (
    Detection,
    Device,
    GeoPoint,
    GeoPolygon,
    Level,
    Observation,
    SmartSpace,
)

T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
RUNS = 3
SPACES = 200
ASSETS = 40
RATE_PER_S = 200  # events per simulated second across the city
LEVELS = (Level.NORMAL, Level.AMBER, Level.RED, Level.CRITICAL)
# what the detect stage emits all day that no shipped rule looks at
QUIET = (
    "crowd.count_above_usual", "crowd.count_below_usual", "cyber.beaconing",
    "cyber.unknown_device", "cyber.ssh_password_guessing", "cyber.flood", "video.loitering",
    "video.counter_flow", "video.fall",
)  # fmt: skip


def city() -> tuple[list[SmartSpace], dict[str, Device], dict[str, frozenset[str]], dict[str, str]]:
    ring = ((-0.377, 39.469), (-0.376, 39.469), (-0.376, 39.470), (-0.377, 39.469))
    spaces = [
        SmartSpace(
            id=f"space-{i}",
            name=f"Space {i}",
            space_type="square",
            area_m2=2000.0,
            geometry=GeoPolygon(coordinates=(ring,)),
            centroid=GeoPoint(coordinates=(-0.3765, 39.4695)),
            neighbours=(f"space-{(i + 1) % SPACES}",),
        )
        for i in range(SPACES)
    ]
    devices = {}
    for i in range(SPACES):
        for device_id, kind in ((f"cam-{i}-a", "camera"), (f"cam-{i}-b", "camera"),
                                (f"counter-{i}", "people_counter")):  # fmt: skip
            devices[device_id] = Device(id=device_id, kind=kind, space_id=f"space-{i}")
    per = SPACES // ASSETS
    asset_spaces = {
        f"asset-{a}": frozenset(f"space-{(a * per + k) % SPACES}" for k in range(per * 2))
        for a in range(ASSETS)
    }
    asset_kinds = {
        f"asset-{a}": "substation" if a % 2 == 0 else "telecom_node" for a in range(ASSETS)
    }
    return spaces, devices, asset_spaces, asset_kinds


def stream(total: int, seed: int = 11) -> list[Detection | Observation]:
    """A city's mixed stream: 85% detections no rule looks at, 5% that rules correlate (crowd
    level changes, running, objects, scans, tampering, assets down and up), 10% readings."""
    rnd = random.Random(seed)
    events: list[Detection | Observation] = []
    for n in range(total):
        at = T0 + timedelta(seconds=n / RATE_PER_S)
        i = rnd.randrange(SPACES)
        space, roll = f"space-{i}", rnd.random()
        if roll < 0.85:
            events.append(_det(rnd.choice(QUIET), at, space, Level.AMBER))
        elif roll < 0.865:
            events.append(_det("crowd.density_level", at, space, rnd.choice(LEVELS)))
        elif roll < 0.88:
            heading = float(rnd.randrange(360))
            events.append(_det("video.running", at, space, Level.AMBER, heading_deg=heading))
        elif roll < 0.885:
            events.append(_det("video.unattended_object", at, space, Level.AMBER))
        elif roll < 0.893:
            events.append(_det("crowd.density_rising_fast", at, space, Level.AMBER))
        elif roll < 0.897:
            kind = rnd.choice(("cyber.horizontal_port_scan", "cyber.telemetry_stuck"))
            events.append(_det(kind, at, space, Level.RED))
        elif roll < 0.898:
            kind = rnd.choice(("infra.asset_down", "infra.asset_up"))
            asset = f"asset-{rnd.randrange(ASSETS)}"
            events.append(_det(kind, at, space, Level.RED, asset_id=asset))
        elif roll < 0.998:
            sensor = rnd.choice((f"cam-{i}-a", f"counter-{i}"))
            value = float(rnd.choice((0, 3, 80, 400)))
            events.append(_obs(sensor, space, "occupancy_persons", value, at, "edge"))
        else:
            events.append(_obs(f"cam-{i}-a", space, "device_silence_s", 90.0, at, "edge.health"))
    return events


def _det(kind: str, at: datetime, space: str, level: Level, **attributes: Any) -> Detection:
    return Detection(
        source=kind.split(".")[0], space_id=space, observed_at=at, received_at=at,
        detector=kind.split(".")[0], detection_type=kind, level=level, confidence=0.8,
        attributes=attributes,
    )  # fmt: skip


def _obs(
    sensor: str, space: str, quantity: str, value: float, at: datetime, source: str
) -> Observation:
    return Observation(
        source=source, space_id=space, sensor_id=sensor, quantity=quantity, value=value,
        observed_at=at, received_at=at,
    )  # fmt: skip


def once(events: list[Detection | Observation]) -> tuple[float, Counter[str], int]:
    spaces, devices, asset_spaces, asset_kinds = city()
    engine = FusionEngine(load_rules(), spaces, devices, asset_spaces, asset_kinds)
    found: Counter[str] = Counter()
    next_tick = T0 + timedelta(seconds=1)
    started = time.perf_counter()
    for event in events:
        now = event.observed_at
        if now >= next_tick:
            found["ended"] += len(engine.tick(now))
            next_tick = now + timedelta(seconds=1)
        for situation in engine.step(event, now):
            found[situation.situation_type] += 1
    elapsed = time.perf_counter() - started
    return len(events) / elapsed, found, len(engine.open_situations())


def run(quick: bool) -> list[dict[str, Any]]:
    total = 30_000 if quick else 300_000
    events = stream(total)
    rates, found, still_open = [], Counter[str](), 0
    for _ in range(RUNS):
        rate, found, still_open = once(events)
        rates.append(rate)
    return [
        {
            "name": "fusion.detections_per_s",
            "value": round(max(rates)),
            "unit": "events/s",
            "target": ">= 50000",
            "runs": [round(rate) for rate in rates],
            "events": total,
            "spaces": SPACES,
            "situation_events": dict(sorted(found.items())),
            "open_at_end": still_open,
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
