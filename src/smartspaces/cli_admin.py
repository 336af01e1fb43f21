"""Administration commands: ``smartspaces devices ...`` and ``smartspaces dead-letters ...``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartspaces.bootstrap import open_store
from smartspaces.config import Settings, load_settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.edge.ngsild.devices import device_from_sdm, device_to_sdm
from smartspaces.errors import RejectedInput
from smartspaces.events import Device
from smartspaces.spaces_io import spaces_from_geojson
from smartspaces.store import Store

devices = typer.Typer(help="Register sensors and gateways, issue and revoke their tokens.")
dead_letters = typer.Typer(help="See what was refused and why; replay it after a fix.")
spaces = typer.Typer(help="The smart spaces watched: list them, load more from GeoJSON.")
console = Console()
ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file")]


def _store(config: Path | None) -> tuple[Settings, Store]:
    settings = load_settings(config)
    return settings, open_store(settings)


@devices.command("add")
def add_device(
    device_id: Annotated[str, typer.Argument(help="Device id, e.g. counter-ribera")],
    space: Annotated[str, typer.Option(help="Smart space the device serves")],
    kind: Annotated[
        str, typer.Option(help="people_counter, camera, noise_sensor, ...")
    ] = "people_counter",
    quantity: Annotated[
        list[str] | None, typer.Option(help="Quantity it measures (repeat)")
    ] = None,
    interval: Annotated[float | None, typer.Option(help="Expected reporting interval, s")] = None,
    gateway: Annotated[str | None, typer.Option(help="Gateway that relays it")] = None,
    config: ConfigOption = None,
) -> None:
    """Register a device and print its token (shown once; only its hash is stored)."""
    _, store = _store(config)
    token = new_token()
    try:
        device = Device(
            id=device_id,
            kind=kind,
            space_id=space,
            quantities=tuple(quantity or ()),
            expected_interval_s=interval,
            gateway_id=gateway,
            token_sha256=hash_token(token),
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    if store.space(space) is None:
        raise typer.BadParameter(f"unknown space {space!r}")
    store.devices.put(device)
    console.print(f"registered {device.id}; its token (keep it, it is not shown again):")
    print(token)


@devices.command("list")
def list_devices(config: ConfigOption = None) -> None:
    """The registered devices."""
    _, store = _store(config)
    table = Table("id", "kind", "space", "quantities", "gateway", "status", "token")
    for d in store.devices.all():
        table.add_row(
            d.id,
            d.kind,
            d.space_id,
            ", ".join(d.quantities),
            d.gateway_id or "",
            d.status,
            "yes" if d.token_sha256 else "no",
        )
    console.print(table)


@devices.command("token")
def rotate_token(device_id: str, config: ConfigOption = None) -> None:
    """Issue a new token for a device (the old one stops working at once)."""
    _, store = _store(config)
    device = store.devices.get(device_id)
    if device is None:
        raise typer.BadParameter(f"unknown device {device_id!r}")
    token = new_token()
    store.devices.put(device.model_copy(update={"token_sha256": hash_token(token)}))
    print(token)


@devices.command("disable")
def disable_device(device_id: str, config: ConfigOption = None) -> None:
    """Refuse everything from a device from now on (its readings go to dead letters)."""
    _, store = _store(config)
    device = store.devices.get(device_id)
    if device is None:
        raise typer.BadParameter(f"unknown device {device_id!r}")
    store.devices.put(device.model_copy(update={"status": "disabled"}))
    console.print(f"{device_id} disabled")


@devices.command("export")
def export_devices(file: Path, config: ConfigOption = None) -> None:
    """Write every device as a Smart Data Models Device entity (JSON array; no tokens)."""
    _, store = _store(config)
    entities = [device_to_sdm(d) for d in store.devices.all()]
    file.write_text(json.dumps(entities, indent=2, ensure_ascii=False) + "\n")
    console.print(f"{len(entities)} devices written to {file}")


@devices.command("import")
def import_devices(
    file: Annotated[Path, typer.Argument(exists=True)],
    space: Annotated[str | None, typer.Option(help="Space for entities without areaServed")] = None,
    config: ConfigOption = None,
) -> None:
    """Register the Device entities of a JSON array (key-values or normalized). Tokens are kept
    for devices already registered; new ones get none until `devices token`."""
    _, store = _store(config)
    entities = json.loads(file.read_text(encoding="utf-8"))
    if not isinstance(entities, list):
        raise typer.BadParameter("expected a JSON array of Device entities")
    refused = 0
    for index, entity in enumerate(entities):
        try:
            device = device_from_sdm(entity, space)
        except RejectedInput as error:
            console.print(f"entity {index}: {error.reason}", style="red")
            refused += 1
            continue
        known = store.devices.get(device.id)
        if store.space(device.space_id) is None:
            console.print(f"entity {index}: unknown space {device.space_id!r}", style="red")
            refused += 1
            continue
        token = known.token_sha256 if known else None
        store.devices.put(device.model_copy(update={"token_sha256": token}))
    console.print(f"{len(entities) - refused} devices imported, {refused} refused")
    raise typer.Exit(1 if refused else 0)


@spaces.command("list")
def list_spaces(config: ConfigOption = None) -> None:
    """The smart spaces with their areas."""
    _, store = _store(config)
    table = Table("id", "name", "type", "area m²")
    for space in store.spaces():
        table.add_row(space.id, space.name, space.space_type, f"{space.area_m2:,.0f}")
    console.print(table)


@spaces.command("import")
def import_spaces(
    file: Annotated[
        Path, typer.Argument(exists=True, help="GeoJSON FeatureCollection of polygons")
    ],
    id_property: Annotated[str, typer.Option(help="Feature property holding the id")] = "id",
    name_property: Annotated[str, typer.Option(help="Feature property holding the name")] = "name",
    space_type: Annotated[
        str, typer.Option(help="square, street, station, venue or zone")
    ] = "zone",
    attribution: Annotated[str, typer.Option(help="Data attribution shown with the space")] = "",
    config: ConfigOption = None,
) -> None:
    """Add or replace spaces from polygons (areas computed in the local UTM zone)."""
    _, store = _store(config)
    try:
        found, refused = spaces_from_geojson(
            file, id_property, name_property, space_type, attribution
        )
    except RejectedInput as error:
        raise typer.BadParameter(error.reason) from error
    store.put_spaces(found)
    for reason in refused:
        console.print(reason, style="red")
    console.print(f"{len(found)} spaces imported, {len(refused)} refused")
    raise typer.Exit(1 if refused else 0)


@dead_letters.command("list")
def list_dead_letters(
    limit: int = 50,
    adapter: str | None = None,
    pending: bool = typer.Option(False, help="Only those not replayed yet"),
    config: ConfigOption = None,
) -> None:
    """The newest refused inputs with their reasons."""
    _, store = _store(config)
    table = Table("id", "received", "adapter", "reason", "bytes", "replayed")
    for r in store.dead_letters(limit, adapter, pending):
        table.add_row(
            str(r.id),
            r.received_at.isoformat(timespec="seconds"),
            r.adapter,
            r.reason[:120],
            str(r.payload_bytes),
            "yes" if r.replayed_at else "",
        )
    console.print(table)


@dead_letters.command("replay")
def replay_dead_letters_command(
    limit: int = 1000, adapter: str | None = None, config: ConfigOption = None
) -> None:
    """Validate pending dead letters again and publish the ones that pass now.

    Runs its own pipeline: stop `smartspaces serve` first (or POST /api/v1/dead-letters/replay
    to a running server)."""
    settings = load_settings(config)
    raise typer.Exit(asyncio.run(_replay(settings, limit, adapter)))


async def _replay(settings: Settings, limit: int, adapter: str | None) -> int:
    from smartspaces.bootstrap import build_services
    from smartspaces.clock import SystemClock
    from smartspaces.dead_letter_replay import replay_dead_letters

    services = build_services(settings, SystemClock())
    await services.runtime.start()
    try:
        letters = services.store.dead_letters(limit, adapter, True)
        report = await replay_dead_letters(services, letters)
        await services.runtime.drain()
    finally:
        await services.close()
    for letter_id, reason in report.still_rejected:
        console.print(f"{letter_id}: still refused: {reason}", style="yellow")
    console.print(f"{len(report.replayed)} replayed, {len(report.still_rejected)} still refused")
    return 0
