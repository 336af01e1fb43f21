"""Common Operational Picture benchmark: how long an alert takes from the API to the screen.

`cop.alert_to_screen_p95_ms` (target under 1,000 ms): in Debian's chromium, the page itself
posts a reading that turns one space red (a gateway's token, like a real gateway) and waits for
the alert to be painted in the live feed; the time is taken by the browser's clock around the
whole trip (HTTP in, bus, detect, risk, alert policy, store, WebSocket, render). One alert per
space, one space at a time, so each sample is one alert alone on the wire.

Run alone: .venv/bin/python bench/cop.py [--quick]
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from smartspaces.api import create_app
from smartspaces.bootstrap import open_store
from smartspaces.config import Settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.events import Device, GeoPoint, GeoPolygon, SmartSpace

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
AREA_M2 = 100.0
RED_PERSONS = 450  # 4.5 persons/m2 on 100 m2: red

# Runs in the page: post one red reading per space, wait until its alert is painted.
MEASURE_JS = """
async ({ token, spaces }) => {
  const painted = (space) => new Promise((resolve) => {
    const look = () => {
      const at = window.copMetrics.firstBySpace.get(space);
      if (at !== undefined) resolve(at); else requestAnimationFrame(look);
    };
    look();
  });
  const samples = [];
  for (const space of spaces) {
    const body = [{ sensor_id: `camera-${space}`, space_id: space, quantity: "occupancy_persons",
                    value: 450, observed_at: new Date().toISOString() }];
    const started = performance.now();
    const response = await fetch("/api/v1/observations", { method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body) });
    if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
    samples.push((await painted(space)) - started);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return samples;
}
"""


def _spaces(count: int) -> list[SmartSpace]:
    found = []
    for i in range(count):
        # a grid of small squares over the old town, each ~100 m2 on the ground
        lon, lat = -0.3800 + (i % 15) * 0.0004, 39.4680 + (i // 15) * 0.0004
        d = 0.0001
        ring = ((lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d), (lon, lat))
        found.append(
            SmartSpace(
                id=f"space-{i}",
                name=f"Space {i}",
                space_type="square",
                area_m2=AREA_M2,
                geometry=GeoPolygon(coordinates=(ring,)),
                centroid=GeoPoint(coordinates=(lon + d / 2, lat + d / 2)),
            )
        )
    return found


def _seed(settings: Settings, spaces: list[SmartSpace]) -> str:
    store = open_store(settings)
    store.put_spaces(spaces)
    token = new_token()
    store.devices.put(
        Device(
            id="gateway-1", kind="gateway", space_id=spaces[0].id, token_sha256=hash_token(token)
        )
    )
    for space in spaces:
        store.devices.put(
            Device(
                id=f"camera-{space.id}", kind="camera", space_id=space.id, gateway_id="gateway-1"
            )
        )
    store.close()
    return token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(alerts: int) -> list[float]:
    """Milliseconds from posting each red reading to its alert painted in the page."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(store={"data_dir": Path(folder)}, mqtt={"enabled": False})
        spaces = _spaces(alerts)
        token = _seed(settings, spaces)
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                page.goto(f"http://127.0.0.1:{port}/")
                # the development server's demo police operator, as a control room signs in
                page.wait_for_selector("#login:not([hidden])", timeout=30_000)
                page.fill("#login-user", "police")
                page.fill("#login-password", "smartspaces-demo")
                page.locator("#login-form button[type=submit]").click()
                page.wait_for_selector("#login", state="hidden", timeout=30_000)
                page.wait_for_selector("#connection.online", timeout=30_000)
                samples: list[float] = page.evaluate(
                    MEASURE_JS, {"token": token, "spaces": [s.id for s in spaces]}
                )
                browser.close()
        finally:
            server.should_exit = True
            thread.join(10)
    return samples


def run(quick: bool) -> list[dict[str, Any]]:
    alerts = 50 if quick else 200
    samples = measure(alerts)
    p95 = statistics.quantiles(samples, n=20)[18]
    return [
        {
            "name": "cop.alert_to_screen_p95_ms",
            "value": round(p95, 1),
            "unit": "ms",
            "target": "< 1000",
            "p50_ms": round(statistics.median(samples), 1),
            "max_ms": round(max(samples), 1),
            "samples": len(samples),
            "measured": "in chromium: reading posted -> its alert painted in the live feed",
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
