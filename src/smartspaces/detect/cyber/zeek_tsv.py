"""Zeek TSV conn.log rows to Flows: the hot path of every log, kept lean on purpose.

A conn.log of a busy city network has millions of rows, so each row costs one split, the few
conversions a Flow needs and one tuple: no per-row dicts, converter lookups or validation
objects. Optional columns the log lacks point at a sentinel cell holding the unset marker, so
every row runs the same branch-free code whatever the header said.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from sys import intern
from typing import Final

from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.zeek_columns import columnar

REQUIRED = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto")
"""Columns without which a record is not a connection we can reason about."""

# The Zeek column behind each Flow field, in Flow's field order.
COLUMNS: Final = (
    *REQUIRED, "duration", "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts",
    "conn_state", "service", "history", "orig_l2_addr", "uid",
)  # fmt: skip
_ABSENT = -1  # a column the log lacks: the sentinel cell appended to every row
_INF = float("inf")
_new_flow = tuple.__new__  # skips NamedTuple's generated __new__: every field is given


class TsvReader:
    """What the '#' lines of a Zeek TSV log have said so far (they may repeat mid-file)."""

    def __init__(self) -> None:
        self.separator = "\t"
        self.unset = "-"
        self.empty = "(empty)"
        self.columns: tuple[int, ...] | None = None
        self.width = 0

    def read(self, batches: Iterable[tuple[int, list[str]]]) -> Iterator[Flow]:
        """Flows of the lines in ``batches`` (the first is the log's first header line)."""
        for first, lines in batches:
            flows: list[Flow] = []
            try:
                self._rows(first, lines, flows)
            except FlowInputError:
                yield from flows  # what was read before the bad line still counts
                raise
            yield from flows

    def _header(self, number: int, text: str) -> None:
        if text.startswith("#separator "):
            # the only header line written with a space, its value escaped: "#separator \x09"
            try:
                separator = text[len("#separator ") :].encode().decode("unicode_escape")
            except UnicodeDecodeError:
                separator = ""
            if not separator or "\n" in separator or "\r" in separator:
                raise FlowInputError(f"conn.log line {number}: unusable #separator {separator!r}")
            self.separator = separator
            return
        key, *values = text[1:].split(self.separator)
        if key == "fields":
            missing = [name for name in REQUIRED if name not in values]
            if missing:
                raise FlowInputError(
                    f"conn.log line {number}: #fields lacks required column(s) {', '.join(missing)}"
                )
            index = {name: i for i, name in enumerate(values)}
            self.columns = tuple(index.get(name, _ABSENT) for name in COLUMNS)
            self.width = len(values)
        elif key == "unset_field" and values:
            self.unset = values[0]
        elif key == "empty_field" and values:
            self.empty = values[0]

    def _rows(self, first: int, lines: list[str], out: list[Flow]) -> None:
        """Append the flows of ``lines`` (numbered from ``first``) to ``out``."""
        if not any(map(str.startswith, lines, repeat("#"))):
            self._segment(first, lines, out)
            return
        # header lines are rare (the top of the log, a repeated header when logs were joined)
        start = 0
        for head in [i for i, text in enumerate(lines) if text.startswith("#")]:
            if head > start:
                self._segment(first + start, lines[start:head], out)
            self._header(first + head, lines[head])
            start = head + 1
        if start < len(lines):
            self._segment(first + start, lines[start:], out)

    def _segment(self, first: int, lines: list[str], out: list[Flow]) -> None:
        """Rows without header lines: column at a time if they are all well formed, else
        row at a time, which names the first bad line."""
        if self.columns is not None:
            flows = columnar(lines, self.columns, self.width, self.separator,
                             (self.unset, self.empty))  # fmt: skip
            if flows is not None:
                out.extend(flows)
                return
        self._row_path(first, lines, out)

    def _row_path(self, first: int, lines: list[str], out: list[Flow]) -> None:
        columns, sep, unset, empty = self.columns, self.separator, self.unset, self.empty
        blank = {unset: "", empty: ""}
        if columns is not None:
            its, isrc, isp, idst, idp, iproto, idur, iob, irb, iop, irp = columns[:11]
            istate, iservice, ihistory, imac, iuid = columns[11:]
        width = self.width
        append = out.append
        for offset, text in enumerate(lines):
            if not text:
                continue
            if columns is None:
                raise FlowInputError(
                    f"conn.log line {first + offset}: data before the #fields header"
                )
            parts = text.split(sep)
            if len(parts) < width:
                raise FlowInputError(
                    f"conn.log line {first + offset}: {len(parts)} columns where #fields "
                    f"names {width}"
                )
            parts.append(unset)  # the cell every absent optional column reads
            try:
                ts = float(parts[its])
                sport, dport = int(parts[isp]), int(parts[idp])
                raw = parts[idur]
                duration = 0.0 if raw == unset or raw == empty else float(raw)
                raw = parts[iob]
                orig_bytes = 0 if raw == unset or raw == empty else int(raw)
                raw = parts[irb]
                resp_bytes = 0 if raw == unset or raw == empty else int(raw)
                raw = parts[iop]
                orig_pkts = 0 if raw == unset or raw == empty else int(raw)
                raw = parts[irp]
                resp_pkts = 0 if raw == unset or raw == empty else int(raw)
                # one comparison chain per row; NaN fails every comparison, so it is caught too
                if not (
                    0.0 <= ts < _INF
                    and 0 <= sport <= 65_535
                    and 0 <= dport <= 65_535
                    and 0.0 <= duration < _INF
                    and orig_bytes >= 0
                    and resp_bytes >= 0
                    and orig_pkts >= 0
                    and resp_pkts >= 0
                ):
                    raise ValueError(
                        _range_error(ts, sport, dport, duration, orig_bytes, resp_bytes,
                                     orig_pkts, resp_pkts)
                    )  # fmt: skip
            except ValueError as error:
                raise FlowInputError(f"conn.log line {first + offset}: {error}") from error
            state, service = parts[istate], parts[iservice]
            history, mac, uid = parts[ihistory], parts[imac], parts[iuid]
            append(_new_flow(Flow, (
                ts, intern(parts[isrc]), sport, intern(parts[idst]), dport,
                intern(parts[iproto]), duration, orig_bytes, resp_bytes, orig_pkts, resp_pkts,
                intern(blank.get(state, state)), intern(blank.get(service, service)),
                blank.get(history, history), blank.get(mac, mac), blank.get(uid, uid),
            )))  # fmt: skip


def _range_error(ts: float, sport: int, dport: int, duration: float, *counts: int) -> str:
    # only reached for a bad row, so it can afford to find which value was wrong
    if not 0.0 <= ts < _INF:
        return f"ts {ts} is not a finite non-negative number"
    for port in (sport, dport):
        if not 0 <= port <= 65_535:
            return f"port {port} out of range"
    if not 0.0 <= duration < _INF:
        return f"{duration} is not a finite non-negative number"
    return f"negative count {next(c for c in counts if c < 0)}"
