"""Risk figures on a generated city: 1,000 assets, 10,000 dependencies (a DAG), 50 spaces.

- risk.recompute_ms: one asset failure (the one reaching most of the graph) through the live
  risk: the whole graph's outlook recomputed in one pass, the changes already due published
  (asset and space RiskLevels), the delayed ones scheduled; fresh assessor each run, median of
  ``RUNS``. Target: under 100 ms.
- risk.cascade_ms: the cascade pass alone (``cascade``), the part that grows with the graph.
- risk.city_load_ms: the generated model as YAML text through the loader: parsing, field
  validation, placement against the spaces (shapely, pyproj), cycle check, graph and indexes.

Run alone with ``python bench/risk.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml

from smartspaces.city import CityModel, parse_city_yaml
from smartspaces.events import Detection, GeoPoint, GeoPolygon, Level, SmartSpace
from smartspaces.respond.risk import ASSET_DOWN, RiskAssessor
from smartspaces.respond.risk.cascade import cascade

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
ASSETS = 1_000
DEPENDENCIES = 10_000
SPACES = 50
RUNS = 15
SERVICES = ("power", "telecom", "data", "water", "control", "transport")
KINDS = ("metro_station", "traffic_control", "camera", "sensor", "hospital", "water", "gateway")


def spaces() -> list[SmartSpace]:
    found = []
    for i in range(SPACES):
        lon, lat = -0.385 + (i % 10) * 0.002, 39.465 + (i // 10) * 0.002
        ring = ((lon, lat), (lon + 0.001, lat), (lon + 0.001, lat + 0.001), (lon, lat + 0.001))
        found.append(
            SmartSpace(
                id=f"space-{i}",
                name=f"Space {i}",
                area_m2=9000.0,
                geometry=GeoPolygon(coordinates=((*ring, ring[0]),)),
                centroid=GeoPoint(coordinates=(lon + 0.0005, lat + 0.0005)),
            )
        )
    return found


def city_yaml(seed: int = 7) -> str:
    """A city whose assets 0..n-1 are already in dependency order: every edge goes from a lower
    to a higher index, so the graph is acyclic by construction. Substations and telecom nodes
    come first; every other asset gets a power feed, then random dependencies of any service."""
    rng = random.Random(seed)
    assets: list[dict[str, Any]] = []
    for i in range(ASSETS):
        space = i % SPACES
        lon, lat = -0.385 + (space % 10) * 0.002, 39.465 + (space // 10) * 0.002
        kind = "substation" if i < 20 else "telecom_node" if i < 50 else rng.choice(KINDS)
        asset: dict[str, Any] = {
            "id": f"asset-{i}",
            "name": f"Asset {i}",
            "kind": kind,
            "location": [lon + 0.0005, lat + 0.0005],
            "criticality": rng.randint(1, 5),
        }
        if i >= 50:
            asset["serves"] = [f"space-{space}"]
        if rng.random() < 0.2:
            asset["backup_s"] = {"power": float(rng.choice((900, 3600, 28_800)))}
        assets.append(asset)
    edges: set[tuple[int, int, str]] = {(rng.randrange(20), j, "power") for j in range(20, ASSETS)}
    while len(edges) < DEPENDENCIES:
        j = rng.randrange(1, ASSETS)
        edges.add((rng.randrange(j), j, rng.choice(SERVICES)))
    dependencies = [
        {
            "supplier": f"asset-{i}",
            "dependent": f"asset-{j}",
            "service": service,
            "delay_s": float(rng.choice((0, 0, 30, 60, 300))),
        }
        for i, j, service in sorted(edges)
    ]
    doc = {"name": "generated", "assets": assets, "dependencies": dependencies}
    return yaml.safe_dump(doc, sort_keys=False)


def _times(fn: Callable[[], Any], runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _failure(asset_id: str) -> Detection:
    return Detection(
        source="infra.scada",
        space_id="space-0",
        observed_at=T0,
        received_at=T0,
        detector="infra.scada",
        detection_type=ASSET_DOWN,
        level=Level.RED,
        attributes={"asset_id": asset_id},
    )


def _widest(model: CityModel) -> str:
    """The asset whose failure reaches the most others (a substation near the top)."""
    reach = {a: len(o) for a, o in ((a, cascade(model, {a: T0})) for a in model.order[:20])}
    return max(reach, key=lambda a: reach[a])


def run(quick: bool) -> list[dict[str, Any]]:
    """The risk figures, as dicts like bench/run.py's."""
    runs = 5 if quick else RUNS
    known = spaces()
    by_id = {s.id: s for s in known}
    text = city_yaml()
    load_ms = _times(
        lambda: parse_city_yaml(text, known, source="generated.yaml"), 1 if quick else 3
    )
    model = parse_city_yaml(text, known, source="generated.yaml")
    root = _widest(model)
    failure = _failure(root)
    reached = len(cascade(model, {root: T0}))
    recompute: list[float] = []
    published = 0
    for _ in range(runs):
        assessor = RiskAssessor(by_id, model)  # fresh state each run, built outside the timing
        started = time.perf_counter()
        found = assessor.step(failure, T0)
        recompute.append((time.perf_counter() - started) * 1000)
        published = len(found)
    cascade_ms = _times(lambda: cascade(model, {root: T0}), runs)
    return [
        {
            "name": "risk.recompute_ms",
            "value": round(statistics.median(recompute), 2),
            "unit": "ms",
            "target": "< 100",
            "max_ms": round(max(recompute), 2),
            "runs": runs,
            "assets": len(model.assets),
            "dependencies": len(model.dependencies),
            "assets_reached": reached,
            "risk_levels_published_at_once": published,
        },
        {
            "name": "risk.cascade_ms",
            "value": round(statistics.median(cascade_ms), 2),
            "unit": "ms",
            "assets": len(model.assets),
            "dependencies": len(model.dependencies),
        },
        {
            "name": "risk.city_load_ms",
            "value": round(min(load_ms), 1),
            "unit": "ms",
            "yaml_bytes": len(text.encode()),
        },
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
