"""``smartspaces cyber``: network captures and flow logs through the cyber detectors.

``analyse`` reads a Zeek conn.log (TSV or JSON), a pcap or an argus/NetFlow CSV as a stream
(bounded memory, a progress bar over the bytes read), runs every network detector and lists
what they found with the evidence; ``--publish`` hands the detections to the pipeline, so they
are stored, fused with the physical picture, weighed by risk and shown on the map.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Literal

import rich.progress
import typer
from rich.console import Console
from rich.table import Table

from smartspaces.cli_options import ConfigOption
from smartspaces.config import Settings, load_settings
from smartspaces.errors import SmartspacesError
from smartspaces.events import Detection

cyber = typer.Typer(help="Network captures and flow logs through the cyber detectors.")
console = Console(stderr=True)
out = Console()
Format = Literal["zeek", "pcap", "flows"]


def _flows(stream: IO[bytes], fmt: Format, settings: Settings) -> Iterator[object]:
    from smartspaces.detect.cyber.flowcsv import read_flow_csv
    from smartspaces.detect.cyber.pcap import PcapFlowReader
    from smartspaces.detect.cyber.zeek import read_conn_log

    if fmt == "pcap":
        return PcapFlowReader(stream, settings.cyber).flows()
    if fmt == "flows":
        return read_flow_csv(stream)
    return read_conn_log(stream)


def detect_file(
    path: Path, fmt: Format, settings: Settings, assets: Path | None, progress: bool = True
) -> list[Detection]:
    """Every detection the network detectors make over the file."""
    from smartspaces.detect.cyber.assets import AssetMap, load_asset_map
    from smartspaces.detect.cyber.network import NetworkDetectors

    detectors = NetworkDetectors(settings.cyber, load_asset_map(assets) if assets else AssetMap())
    now = datetime.now(UTC)
    found: list[Detection] = []
    opener = rich.progress.open if progress else open
    with opener(path, "rb") as stream:
        for flow in _flows(stream, fmt, settings):
            found.extend(detectors.step(flow, now))  # type: ignore[arg-type]
    return found


async def _publish(settings: Settings, detections: Sequence[Detection]) -> int:
    from smartspaces.bootstrap import build_services
    from smartspaces.clock import SystemClock

    services = build_services(settings, SystemClock())
    known = {s.id for s in services.spaces}
    wanted = [d for d in detections if d.space_id in known]
    try:
        await services.runtime.start()
        await services.runtime.publish(wanted)
        await services.runtime.drain()
    finally:
        await services.close()
    return len(wanted)


@cyber.command()
def analyse(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The capture or log")],
    fmt: Annotated[Format, typer.Option("--format", help="zeek (conn.log), pcap, flows (CSV)")],
    assets: Annotated[
        Path | None, typer.Option(help="Asset map (JSON): address -> device -> asset -> spaces")
    ] = None,
    publish: Annotated[bool, typer.Option(help="Hand the detections to the pipeline")] = False,
    json_lines: Annotated[bool, typer.Option("--json", help="One detection per line")] = False,
    config: ConfigOption = None,
) -> None:
    """Run the network detectors over a file and list what they found."""
    settings = load_settings(config)
    try:
        found = detect_file(path, fmt, settings, assets, progress=not json_lines)
    except SmartspacesError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    if json_lines:
        for detection in found:
            out.print_json(json.dumps(detection.model_dump(mode="json")), indent=None)
    else:
        table = Table("when (UTC)", "detection", "level", "attacker", "target", "summary")
        for d in found:
            a = d.attributes
            table.add_row(
                d.observed_at.strftime("%Y-%m-%d %H:%M:%S"),
                d.detection_type,
                d.level.value,
                str(a.get("attacker_ip", "")),
                str(a.get("target_ip", "")),
                d.summary,
            )
        out.print(table)
        console.print(f"{len(found)} detection(s) in {path.name}")
    if publish:
        sent = asyncio.run(_publish(settings, found))
        console.print(
            f"{sent} detection(s) handed to the pipeline ({len(found) - sent} for "
            "spaces this store does not know)"
        )
