"""Replay of recorded observations (JSON lines) through the pipeline, on the recording's time."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from smartspaces.bootstrap import build_services
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.demo import AlertPrinter
from smartspaces.edge.observations import validate_observations

console = Console(stderr=True)
ADAPTER = "replay"
MAX_LINE_BYTES = 65_536


async def run_replay(settings: Settings, path: Path, json_lines: bool) -> int:
    """Validate and publish each line; bad lines become dead letters. Exit code 0, or 1 if any
    line was rejected (the count is printed)."""
    first = _first_time(path)
    clock = SimulatedClock(first)
    services = build_services(settings, clock)
    printer = AlertPrinter(services, json_lines)
    services.runtime.add_listener(printer)
    await services.runtime.start()
    spaces = {s.id for s in services.spaces}
    accepted = rejected = 0
    try:
        with Progress(console=console) as progress, path.open("rb") as handle:
            task = progress.add_task(f"replaying {path.name}", total=path.stat().st_size)
            for number, raw in enumerate(handle, start=1):
                progress.update(task, advance=len(raw))
                if not raw.strip():
                    continue
                reason, item = _parse(raw)
                if reason is None:
                    # The recording's own time drives the clock, but one bogus far-future line
                    # must not drag it ahead and make every later line look stale.
                    now, when = clock.now(), _time_of(item)
                    limit = now + timedelta(seconds=settings.api.max_age_s)
                    at = when if when is not None and now < when <= limit else now
                    result = validate_observations([item], ADAPTER, spaces, at, settings.api)
                    if result.accepted and at > now:
                        clock.set(at)
                    await services.runtime.publish(result.accepted)
                    accepted += len(result.accepted)
                    reason = result.rejected[0].reason if result.rejected else None
                if reason is not None:
                    rejected += 1
                    text = raw[:MAX_LINE_BYTES].decode("utf-8", "replace")
                    await asyncio.to_thread(
                        services.store.add_dead_letter,
                        ADAPTER,
                        f"line {number}: {reason}",
                        text,
                        clock.now(),
                    )
        await services.runtime.drain()
    finally:
        await services.close()
    console.print(f"{accepted} observations replayed, {rejected} rejected, {printer.count} alerts")
    return 1 if rejected else 0


def _parse(raw: bytes) -> tuple[str | None, object]:
    if len(raw) > MAX_LINE_BYTES:
        return f"line longer than {MAX_LINE_BYTES} bytes", None
    try:
        return None, json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not JSON: {error}", None


def _time_of(item: object) -> datetime | None:
    if isinstance(item, dict) and isinstance(item.get("observed_at"), str):
        try:
            when = datetime.fromisoformat(item["observed_at"])
        except ValueError:
            return None
        return when if when.tzinfo else None
    return None


def _first_time(path: Path) -> datetime:
    with path.open("rb") as handle:
        for raw in handle:
            _, item = _parse(raw)
            when = _time_of(item)
            if when is not None:
                return when
    from smartspaces.clock import SystemClock

    return SystemClock().now()
