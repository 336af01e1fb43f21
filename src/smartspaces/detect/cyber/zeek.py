"""Zeek conn.log readers (TSV with its #fields header, or JSON lines) yielding Flows."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import chain
from typing import IO, Any

from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.lines import line_batches
from smartspaces.detect.cyber.zeek_tsv import REQUIRED, TsvReader

OPTIONAL_INT = {
    "orig_bytes": "orig_bytes",
    "resp_bytes": "resp_bytes",
    "orig_pkts": "orig_pkts",
    "resp_pkts": "resp_pkts",
}
OPTIONAL_STR = {
    "conn_state": "conn_state",
    "service": "service",
    "history": "history",
    "uid": "uid",
    "src_mac": "orig_l2_addr",
}
"""Flow attribute <- Zeek key, for the optional keys of JSON records (unknown keys ignored)."""
MAX_PORT = 65_535
Batches = Iterator[tuple[int, list[str]]]


def read_conn_log(stream: IO[bytes], max_line_bytes: int = 65_536) -> Iterator[Flow]:
    """Yield the flows of a conn.log, TSV or JSON lines (told apart by the first line)."""
    batches = line_batches(stream, max_line_bytes, "conn.log")
    for first, lines in batches:
        for offset, text in enumerate(lines):
            if not text.strip():
                continue
            rest: Batches = chain([(first + offset, lines[offset:])], batches)
            if text.startswith("#"):
                yield from TsvReader().read(rest)
            elif text.lstrip().startswith("{"):
                yield from _json(rest)
            else:
                raise FlowInputError(
                    f"conn.log line {first + offset}: neither a Zeek TSV header ('#...') nor "
                    f"a JSON object"
                )
            return


def _json(batches: Iterable[tuple[int, list[str]]]) -> Iterator[Flow]:
    for first, lines in batches:
        for number, text in enumerate(lines, first):
            if text.strip():
                yield _json_flow(number, text)


def _json_flow(number: int, text: str) -> Flow:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise FlowInputError(f"conn.log line {number}: invalid JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise FlowInputError(f"conn.log line {number}: a JSON object was expected")
    missing = [name for name in REQUIRED if record.get(name) is None]
    if missing:
        raise FlowInputError(f"conn.log line {number}: missing {', '.join(missing)}")
    try:
        values: dict[str, Any] = {
            "ts": _timestamp(record["ts"]),
            "src": _text(record["id.orig_h"]),
            "sport": _port(record["id.orig_p"]),
            "dst": _text(record["id.resp_h"]),
            "dport": _port(record["id.resp_p"]),
            "proto": _text(record["proto"]),
        }
        if record.get("duration") is not None:
            values["duration_s"] = _finite(float(record["duration"]))
        for attr, column in OPTIONAL_INT.items():
            if record.get(column) is not None:
                values[attr] = _count(record[column])
        for attr, column in OPTIONAL_STR.items():
            if record.get(column) is not None:
                values[attr] = _text(record[column])
    except (TypeError, ValueError) as error:
        raise FlowInputError(f"conn.log line {number}: {error}") from error
    return Flow(**values)


def _timestamp(value: object) -> float:
    if isinstance(value, str):
        # Zeek's JSON::TS_ISO8601 writes times as ISO 8601 strings
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"ts must be a number or ISO 8601 string, not {value!r:.40}")
    return _finite(float(value))


def _finite(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{value} is not a finite non-negative number")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected an integer, got {value!r:.40}")
    return int(value)


def _port(value: object) -> int:
    port = _int(value)
    if not 0 <= port <= MAX_PORT:
        raise ValueError(f"port {port} out of range")
    return port


def _count(value: object) -> int:
    count = _int(value)
    if count < 0:
        raise ValueError(f"negative count {count}")
    return count


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > 256:
        raise ValueError(f"expected a short string, got {value!r:.40}")
    return value
