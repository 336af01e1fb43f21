"""Zeek conn.log readers (TSV with its #fields header, or JSON lines) yielding Flows."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.lines import text_lines

REQUIRED = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto")
"""Columns without which a record is not a connection we can reason about."""

# Flow attribute <- Zeek column, for the optional columns (unknown extra columns are ignored).
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
MAX_PORT = 65_535


def read_conn_log(stream: IO[bytes], max_line_bytes: int = 65_536) -> Iterator[Flow]:
    """Yield the flows of a conn.log, TSV or JSON lines (told apart by the first line)."""
    lines = text_lines(stream, max_line_bytes, "conn.log")
    for number, text in lines:
        if not text.strip():
            continue
        if text.startswith("#"):
            yield from _tsv(number, text, lines)
        elif text.lstrip().startswith("{"):
            yield _json_flow(number, text)
            for number, text in lines:
                if text.strip():
                    yield _json_flow(number, text)
        else:
            raise FlowInputError(
                f"conn.log line {number}: neither a Zeek TSV header ('#...') nor a JSON object"
            )
        return


def _tsv(first_number: int, first: str, lines: Iterator[tuple[int, str]]) -> Iterator[Flow]:
    header = _Header()
    header.read(first_number, first)
    for number, text in lines:
        if text.startswith("#"):
            header.read(number, text)
        elif header.index is None:
            raise FlowInputError(f"conn.log line {number}: data before the #fields header")
        elif text:
            yield _tsv_flow(number, text.split(header.separator), header.index, header)


class _Header:
    """What the '#' lines of a Zeek TSV log have said so far (they may repeat mid-file)."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.unset = "-"
        self.empty = "(empty)"
        self.index: dict[str, int] | None = None
        self.plan: list[tuple[str, int, Callable[[str], object]]] = []

    def read(self, number: int, text: str) -> None:
        if text.startswith("#separator "):
            # the only header line written with a space, its value escaped: "#separator \x09"
            self.separator = text[len("#separator ") :].encode().decode("unicode_escape")
            return
        key, *values = text[1:].split(self.separator)
        if key == "fields":
            self.index = _field_index(number, values)
            self.plan = _plan(self.index)
        elif key == "unset_field" and values:
            self.unset = values[0]
        elif key == "empty_field" and values:
            self.empty = values[0]


def _field_index(number: int, names: list[str]) -> dict[str, int]:
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise FlowInputError(
            f"conn.log line {number}: #fields lacks required column(s) {', '.join(missing)}"
        )
    return {name: i for i, name in enumerate(names)}


def _tsv_flow(number: int, parts: list[str], index: dict[str, int], header: _Header) -> Flow:
    # the hot path of every conn.log: plain int()/float() with range checks inline
    if len(parts) < len(index):
        raise FlowInputError(
            f"conn.log line {number}: {len(parts)} columns where #fields names {len(index)}"
        )
    unset, empty = header.unset, header.empty
    try:
        ts = float(parts[index["ts"]])
        sport, dport = int(parts[index["id.orig_p"]]), int(parts[index["id.resp_p"]])
        if not (math.isfinite(ts) and ts >= 0):
            raise ValueError(f"ts {ts} is not a finite non-negative number")
        if not (0 <= sport <= MAX_PORT and 0 <= dport <= MAX_PORT):
            raise ValueError(
                f"port {sport if sport > MAX_PORT or sport < 0 else dport} out of range"
            )
        values: dict[str, Any] = {}
        for attr, i, convert in header.plan:
            raw = parts[i]
            if raw != unset and raw != empty:
                values[attr] = convert(raw)
    except ValueError as error:
        raise FlowInputError(f"conn.log line {number}: {error}") from error
    return Flow(
        ts, parts[index["id.orig_h"]], sport, parts[index["id.resp_h"]], dport,
        parts[index["proto"]], **values,
    )  # fmt: skip


def _tsv_count(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"negative count {value}")
    return value


def _tsv_duration(raw: str) -> float:
    return _finite(float(raw))


def _tsv_text(raw: str) -> str:
    return raw


def _plan(index: dict[str, int]) -> list[tuple[str, int, Callable[[str], object]]]:
    """(Flow attribute, column, converter) for the optional columns this log has."""
    plan: list[tuple[str, int, Callable[[str], object]]] = []
    if "duration" in index:
        plan.append(("duration_s", index["duration"], _tsv_duration))
    plan += [(a, index[c], _tsv_count) for a, c in OPTIONAL_INT.items() if c in index]
    plan += [(a, index[c], _tsv_text) for a, c in OPTIONAL_STR.items() if c in index]
    return plan


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
