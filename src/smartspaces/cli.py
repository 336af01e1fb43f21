"""The ``smartspaces`` command: demo, serve, replay."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from smartspaces.cli_accounts import register as register_accounts
from smartspaces.cli_admin import dead_letters, devices, spaces
from smartspaces.cli_cyber import cyber
from smartspaces.cli_options import ConfigOption
from smartspaces.cli_privacy import privacy
from smartspaces.cli_simulate import simulate
from smartspaces.cli_video import video
from smartspaces.config import Settings, load_settings
from smartspaces.errors import ConfigError
from smartspaces.logs import configure_logging

app = typer.Typer(
    help="smartspaces: keeps crowded public spaces safe. Sense, detect, respond.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(devices, name="devices")
app.add_typer(dead_letters, name="dead-letters")
app.add_typer(spaces, name="spaces")
app.add_typer(privacy)  # the `audit` and `retention` groups
app.add_typer(simulate, name="simulate")
app.add_typer(cyber, name="cyber")
app.add_typer(video, name="video")
register_accounts(app)  # `users` and `api-keys`
err = Console(stderr=True)


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError as error:
        raise typer.BadParameter("a number (times real time) or 'max'") from error
    if not 0 < speed <= 100_000:
        raise typer.BadParameter("between 0 and 100000 times real time, or 'max'")
    return speed


def _bus(value: str | None) -> Literal["memory", "nats", "kafka"] | None:
    if value is None:
        return None
    if value not in ("memory", "nats", "kafka"):
        raise typer.BadParameter("--bus is memory, nats or kafka")
    return value  # type: ignore[return-value]


@app.command()
def demo(
    headless: Annotated[bool, typer.Option(help="No server: play the scenario and exit")] = False,
    speed: Annotated[
        str, typer.Option(help="Scenario seconds per real second, or 'max' (as fast as it goes)")
    ] = "60",
    json_lines: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per alert on stdout")
    ] = False,
    record: Annotated[
        Path | None, typer.Option(help="Also write the scenario's observations to this JSONL file")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Interface for the COP (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port for the COP (default 8000)")] = None,
    bus: Annotated[
        str | None, typer.Option(help="memory, nats or kafka (default: the settings' bus)")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(help="Database URL for the demo's state (emptied first); default SQLite"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Play the València scenario: a mascletà crowd in Plaza del Ayuntamiento turns into alerts.

    The demo keeps its own state in DATA_DIR/demo, recreated at every run.
    """
    from smartspaces.demo import DemoOptions, run_demo

    settings = load_settings(config)
    configure_logging(quiet=headless)
    options = DemoOptions(
        headless=headless,
        speed=_speed(speed),
        json_lines=json_lines,
        record=record,
        host=host or settings.api.host,
        port=port or settings.api.port,
        bus=_bus(bus),
        store_url=store,
    )
    raise typer.Exit(asyncio.run(run_demo(settings, options)))


def _stages(value: str | None) -> frozenset[str] | None:
    from smartspaces.runtime import STAGES

    if value is None or value == "all":
        return None
    chosen = frozenset(v.strip() for v in value.split(",") if v.strip())
    if value.strip() == "none":
        return frozenset()
    if unknown := sorted(chosen - set(STAGES)):
        raise typer.BadParameter(f"unknown {unknown}: all, none, or some of {', '.join(STAGES)}")
    return chosen


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    stages: Annotated[
        str | None,
        typer.Option(
            help="Pipeline stages run here: all (default), none, or a list such as 'live' "
            "(an API node beside `smartspaces worker` processes)"
        ),
    ] = None,
    bus: Annotated[
        str | None, typer.Option(help="memory, nats or kafka (default: the settings' bus)")
    ] = None,
    store: Annotated[
        str | None, typer.Option(help="Database URL (default: the settings' store)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the API, the pipeline and the COP on the configured store."""
    import uvicorn

    from smartspaces.api import create_app

    settings = _with_bus_and_store(load_settings(config), _bus(bus), store)
    configure_logging(quiet=False)
    uvicorn.run(
        create_app(settings, stages=_stages(stages)),
        host=host or settings.api.host,
        port=port or settings.api.port,
        log_level="info",
    )


def _with_bus_and_store(settings: Settings, bus: str | None, store: str | None) -> Settings:
    """The settings with ``--bus`` and ``--store`` applied (each wins over every other source)."""
    update: dict[str, object] = {}
    if bus is not None:
        update["bus"] = settings.bus.model_copy(update={"backend": bus})
    if store is not None:
        if not store.startswith(("postgresql", "sqlite")):
            raise typer.BadParameter("--store is a postgresql+psycopg:// or sqlite:/// URL")
        update["store"] = settings.store.model_copy(update={"url": store})
    return settings.model_copy(update=update) if update else settings


@app.command()
def worker(
    stage: Annotated[str, typer.Option(help="detect, fuse, respond, store or edge")],
    worker_id: Annotated[
        str | None, typer.Option("--id", help="Names this worker (default host-pid)")
    ] = None,
    bus: Annotated[str | None, typer.Option(help="nats or kafka (default: the settings')")] = None,
    store: Annotated[
        str | None, typer.Option(help="PostgreSQL URL (default: the settings' store)")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run one stage of the pipeline as a worker of a distributed deployment (NATS or Kafka bus,
    PostgreSQL store). Start as many as needed: detect workers share the spaces out; the
    others stand by to take over (store workers share the writes)."""
    from smartspaces.worker import STAGE_ROLES, run_worker

    if stage not in STAGE_ROLES:
        raise typer.BadParameter(f"--stage is one of {', '.join(STAGE_ROLES)}")
    settings = _with_bus_and_store(load_settings(config), _bus(bus), store)
    configure_logging(quiet=False)
    try:
        code = asyncio.run(run_worker(settings, stage, worker_id))
    except ConfigError as error:
        err.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from error
    raise typer.Exit(code)


@app.command()
def replay(
    file: Annotated[
        Path, typer.Argument(help="Observations: JSON lines or CSV (.gz too)", exists=True)
    ],
    json_lines: Annotated[bool, typer.Option("--json", help="Alerts as JSON on stdout")] = False,
    file_format: Annotated[
        str, typer.Option("--format", help="jsonl, ruzafa-noise or melbourne-counts")
    ] = "jsonl",
    space: Annotated[str | None, typer.Option(help="Smart space of a CSV series' sensors")] = None,
    config: ConfigOption = None,
) -> None:
    """Feed recorded observations through the pipeline on their own (simulated) time.

    JSON lines are the wire format (``demo --record`` writes them); CSV formats are the city
    series in ../shared/data (València's Ruzafa noise, Melbourne's pedestrian counts)."""
    from smartspaces.edge.files import FORMATS
    from smartspaces.replay import run_replay

    if file_format != "jsonl" and (file_format not in FORMATS or space is None):
        raise typer.BadParameter(
            f"--format is jsonl or one of {', '.join(FORMATS)}; CSV needs --space"
        )
    settings = load_settings(config)
    configure_logging(quiet=True)
    raise typer.Exit(asyncio.run(run_replay(settings, file, json_lines, file_format, space)))


if __name__ == "__main__":  # pragma: no cover
    app()
