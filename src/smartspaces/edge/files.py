"""Recorded observations in files: JSON lines and the CSV series of the city's open data.

Pure parsing, streamed line by line (bounded line length, gzip allowed): each record becomes a
wire observation item for ``edge.observations`` to validate, or a reason it could not be read.
Formats are listed in ``FORMATS``; each names the CSV columns it needs and refuses a file that
lacks them before reading further.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from smartspaces.errors import RejectedInput

MAX_LINE_BYTES = 65_536


@dataclass(frozen=True)
class Record:
    """One line of a file: where it was, its text, and the item or the reason it is unusable."""

    number: int
    size: int
    text: str
    item: dict[str, Any] | None
    reason: str | None = None


RowMapper = Callable[[dict[str, str], str], dict[str, Any]]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:128] or "unnamed"


def _ruzafa_noise(row: dict[str, str], space_id: str) -> dict[str, Any]:
    # Daily LAeq of the city's Ruzafa sensors: the day is València's, the reading covers it all.
    day = datetime.strptime(row["dateObserved"], "%Y-%m-%d").replace(tzinfo=_VALENCIA)
    return {
        "sensor_id": row["entityId"],
        "space_id": space_id,
        "quantity": "noise_laeq_dba",
        "value": float(row["LAeq"]),
        "unit": "dBA",
        "interval_s": 86_400.0,
        "observed_at": (day + timedelta(days=1)).astimezone(UTC).isoformat(),
    }


def _melbourne_counts(row: dict[str, str], space_id: str) -> dict[str, Any]:
    # Hourly counts of people passing a sensor; the time given is the start of the hour.
    start = datetime.fromisoformat(row["date_time_utc"].replace("Z", "+00:00"))
    if start.tzinfo is None:
        raise ValueError("date_time_utc needs its Z")
    return {
        "sensor_id": _slug(row["sensor"]),
        "space_id": space_id,
        "quantity": "passersby_count",
        "value": float(row["count"]),
        "interval_s": 3600.0,
        "observed_at": (start + timedelta(hours=1)).isoformat(),
    }


_VALENCIA = ZoneInfo("Europe/Madrid")
FORMATS: dict[str, tuple[tuple[str, ...], RowMapper]] = {
    "ruzafa-noise": (("entityId", "LAeq", "dateObserved"), _ruzafa_noise),
    "melbourne-counts": (("sensor", "date_time_utc", "count"), _melbourne_counts),
}


def open_text(path: Path) -> IO[str]:
    """The file as text (gunzipped if it ends in .gz); undecodable bytes are marked, not fatal."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline=""
        )
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", errors="replace", newline="")


def json_line_records(handle: IO[str]) -> Iterator[Record]:
    for number, line in enumerate(_bounded_lines(handle), start=1):
        if not line.strip():
            continue
        size = len(line.encode())
        if size > MAX_LINE_BYTES:
            yield Record(
                number, size, line[:MAX_LINE_BYTES], None, f"longer than {MAX_LINE_BYTES} bytes"
            )
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            yield Record(number, size, line, None, f"not JSON: {error}")
            continue
        if isinstance(item, dict):
            yield Record(number, size, line, item)
        else:
            yield Record(number, size, line, None, "a line must hold one JSON object")


def csv_records(handle: IO[str], file_format: str, space_id: str) -> Iterator[Record]:
    """Records of a CSV file in one of ``FORMATS`` (raises RejectedInput if the header lacks a
    needed column or the format is unknown)."""
    if file_format not in FORMATS:
        raise RejectedInput(f"unknown format {file_format!r} (known: {', '.join(FORMATS)})")
    needed, mapper = FORMATS[file_format]
    lines = _bounded_lines(handle)
    header = next(csv.reader([next(lines, "")]), [])
    missing = [column for column in needed if column not in header]
    if missing:
        raise RejectedInput(f"{file_format}: the header lacks {', '.join(missing)}")
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        size = len(line.encode())
        try:
            values = next(csv.reader([line]))
            if len(values) != len(header):
                raise ValueError(f"{len(values)} fields where the header has {len(header)}")
            item = mapper(dict(zip(header, values, strict=True)), space_id)
        except (ValueError, KeyError, csv.Error) as error:
            yield Record(number, size, line[:MAX_LINE_BYTES], None, f"unreadable row: {error}")
            continue
        yield Record(number, size, line, item)


def _bounded_lines(handle: IO[str]) -> Iterator[str]:
    # readline with a limit: a file without newlines cannot make us hold it whole.
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            while True:  # skip the rest of the over-long line
                rest = handle.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith("\n"):
                    break
        yield line.rstrip("\r\n") if len(line) <= MAX_LINE_BYTES else line
