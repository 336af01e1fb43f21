"""The demo: the València scenario played through the real pipeline, with or without the COP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from smartspaces.bootstrap import Services, build_services
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.edge.observations import wire_item
from smartspaces.edge_node import EdgeNode
from smartspaces.events import Alert, AnyEvent, Observation
from smartspaces.reporting import alert_json, alert_line
from smartspaces.scenarios.valencia.scenario import ValenciaScenario
from smartspaces.store import Store

console = Console(stderr=True)
LOCAL_TIME = ZoneInfo("Europe/Madrid")


@dataclass(frozen=True)
class DemoOptions:
    headless: bool
    speed: float | None  # scenario seconds per real second; None = as fast as possible
    json_lines: bool
    record: Path | None
    host: str
    port: int
    bus: Literal["memory", "nats", "kafka"] | None = None
    store_url: str | None = None


class AlertPrinter:
    """Prints each stored alert: a coloured line, or JSON with its provenance on stdout."""

    def __init__(self, services: Services, json_lines: bool) -> None:
        self._services, self._json = services, json_lines
        self.count = 0

    async def __call__(self, events: Sequence[AnyEvent]) -> None:
        for event in events:
            if not isinstance(event, Alert):
                continue
            self.count += 1
            if self._json:
                chain = await asyncio.to_thread(self._services.store.provenance, event.id)
                print(alert_json(event, chain), flush=True)
            else:
                console.print(alert_line(event, LOCAL_TIME))


def demo_settings(settings: Settings, options: DemoOptions | None = None) -> Settings:
    """The demo's own state lives in DATA_DIR/demo and is recreated at every run.

    On a distributed deployment (``--bus nats|kafka``, ``--store postgresql://...``) the
    demo's tables in that database are emptied first, and its streams or topics get names of
    their own for this run (``DEMO<time>_<KIND>``, ``demo<time>.``), so that an earlier run's
    events are never played again; remove old ones with ``nats stream rm``."""
    folder = settings.store.data_dir / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url = (options.store_url if options else None) or f"sqlite:///{folder / 'smartspaces.sqlite3'}"
    if options is not None and options.store_url:
        fresh = Store(url)
        fresh.drop_all()
        fresh.close()
    store = settings.store.model_copy(update={"url": url})
    backend = (options.bus if options else None) or settings.bus.backend
    bus = settings.bus.model_copy(
        update={"journal_path": folder / "bus.sqlite3", "backend": backend}
    )
    run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    nats = settings.nats.model_copy(
        update={"stream_prefix": f"DEMO{run}", "subject_prefix": f"demo{run}"}
    )
    kafka = settings.kafka.model_copy(update={"topic_prefix": f"demo{run}"})
    return settings.model_copy(update={"store": store, "bus": bus, "nats": nats, "kafka": kafka})


async def run_demo(settings: Settings, options: DemoOptions) -> int:
    scenario = ValenciaScenario(settings.scenario)
    settings = demo_settings(settings, options)
    clock = SimulatedClock(scenario.start)
    # Headless runs are deterministic: time-driven alerts come due on event time only.
    services = build_services(settings, clock, spaces=scenario.spaces, timers=not options.headless)
    printer = AlertPrinter(services, options.json_lines)
    services.runtime.add_listener(printer)
    await services.runtime.start()
    server = None
    edge = EdgeNode(services)
    try:
        if not options.headless:
            await edge.start()  # sensors may also publish over MQTT while the demo plays
            server = await _start_server(settings, services, options)
            console.print(
                f"[bold]Common Operational Picture:[/] http://{options.host}:{options.port}/"
            )
        with _recorder(options.record) as record:
            await _play(scenario, services, clock, options.speed, record)
        await services.runtime.drain()
        console.print(f"scenario over: {printer.count} alerts", style="bold")
        if server is not None:
            console.print("the COP stays up; press Ctrl-C to stop")
            await server
    finally:
        await edge.stop()
        await services.close()
    return 0


async def _play(
    scenario: ValenciaScenario,
    services: Services,
    clock: SimulatedClock,
    speed: float | None,
    record: IO[str] | None,
) -> None:
    total_s = (scenario.end - scenario.start).total_seconds()
    started = time.monotonic()
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[at]} scenario time"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("mascletà, Plaza del Ayuntamiento", total=total_s, at="")
        for step in scenario.steps():
            elapsed_s = (step.at - scenario.start).total_seconds()
            if speed is not None:
                await asyncio.sleep(max(0.0, started + elapsed_s / speed - time.monotonic()))
            clock.set(max(step.at, clock.now()))
            await services.runtime.publish(step.observations)
            if record is not None:
                _write(record, step.observations)
            local = step.at.astimezone(LOCAL_TIME).strftime("%H:%M")
            progress.update(task, completed=elapsed_s, at=local)
            if speed is None:
                await asyncio.sleep(0)  # let the workers run between steps


async def _start_server(
    settings: Settings, services: Services, options: DemoOptions
) -> asyncio.Task[None]:
    import uvicorn

    from smartspaces.api import create_app

    config = uvicorn.Config(
        create_app(settings, services), host=options.host, port=options.port, log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises why the server could not start (port taken...)
            raise RuntimeError("the COP server stopped at start")
        await asyncio.sleep(0.05)
    return task


@contextlib.contextmanager
def _recorder(path: Path | None) -> Iterator[IO[str] | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _write(handle: IO[str], observations: Sequence[Observation]) -> None:
    for observation in observations:
        handle.write(json.dumps(wire_item(observation)) + "\n")
