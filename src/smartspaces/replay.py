"""Replay of recorded observations (JSON lines, city CSV series) through the pipeline, on the
recording's own time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from smartspaces.bootstrap import Services, build_services
from smartspaces.clock import SimulatedClock, SystemClock
from smartspaces.config import Settings
from smartspaces.demo import AlertPrinter
from smartspaces.edge.files import Record, csv_records, json_line_records, open_text
from smartspaces.edge.observations import validate_observations
from smartspaces.events import Observation

console = Console(stderr=True)
BATCH = 500


def records_of(path: Path, file_format: str, space_id: str | None) -> Iterator[Record]:
    """The records of a file: JSON lines, or a CSV ``file_format`` of ``edge.files.FORMATS``."""
    with open_text(path) as handle:
        if file_format == "jsonl":
            yield from json_line_records(handle)
        else:
            yield from csv_records(handle, file_format, space_id or "")


async def run_replay(
    settings: Settings,
    path: Path,
    json_lines: bool,
    file_format: str = "jsonl",
    space_id: str | None = None,
) -> int:
    """Validate and publish each record; bad ones become dead letters (adapter = the format).
    Exit code 0, or 1 if any record was rejected (the count is printed)."""
    first = next(
        (_time_of(r) for r in records_of(path, file_format, space_id) if _time_of(r)), None
    )
    clock = SimulatedClock(first or datetime.now().astimezone())
    services = build_services(settings, clock, timers=False)  # deterministic: event time only
    printer = AlertPrinter(services, json_lines)
    services.runtime.add_listener(printer)
    await services.runtime.start()
    try:
        accepted, rejected = await _feed(services, clock, path, file_format, space_id)
        await services.runtime.drain(timeout_s=600)
    finally:
        await services.close()
    console.print(f"{accepted} observations replayed, {rejected} rejected, {printer.count} alerts")
    return 1 if rejected else 0


async def _feed(
    services: Services, clock: SimulatedClock, path: Path, file_format: str, space_id: str | None
) -> tuple[int, int]:
    settings = services.settings
    spaces = {s.id for s in services.spaces}
    adapter = "replay" if file_format == "jsonl" else "csv"
    pending: list[Observation] = []
    accepted = rejected = 0
    real_now = SystemClock().now()
    skew = timedelta(seconds=settings.api.max_future_skew_s)
    with Progress(console=console) as progress:
        # a gzip file's size says nothing of its lines: the bar then just counts
        total = None if path.suffix == ".gz" else path.stat().st_size
        task = progress.add_task(f"replaying {path.name}", total=total)
        for record in records_of(path, file_format, space_id):
            progress.update(task, advance=record.size)
            reason = record.reason
            if record.item is not None:
                # Each record is judged as if it arrived when it was observed (a recording may
                # have gaps, and may go back in time from one sensor to the next); what no
                # recording can hold is a reading from the future of the real clock.
                when = _time_of(record) or clock.now()
                if when > real_now + skew:
                    reason = f"observed_at: {when.isoformat()} is in the future of the real clock"
                else:
                    result = validate_observations(
                        [record.item], adapter, spaces, when, settings.api
                    )
                    if result.accepted and when > clock.now():
                        clock.set(when)
                    pending.extend(result.accepted)
                    reason = result.rejected[0].reason if result.rejected else None
            if reason is not None:
                rejected += 1
                await asyncio.to_thread(
                    services.store.add_dead_letter,
                    adapter,
                    f"line {record.number}: {reason}",
                    record.text,
                    clock.now(),
                )
            if len(pending) >= BATCH:
                accepted += len(pending)
                await services.runtime.publish(pending)
                pending = []
        accepted += len(pending)
        await services.runtime.publish(pending)
    return accepted, rejected


def _time_of(record: Record) -> datetime | None:
    value = record.item.get("observed_at") if record.item else None
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else None
