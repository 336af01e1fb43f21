"""Column-at-a-time conversion of well-formed Zeek TSV rows: the fast path of ``zeek_tsv``.

Converting a chunk of rows column by column lets ``map(float, ...)``, ``map(int, ...)`` and
the range checks (``min``/``max``) run in C, and builds every Flow without a Python-level loop
body. It makes exactly the checks of the row-at-a-time path, on whole columns; a chunk that
fails any of them is handed back (None) so the row path can name the bad line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from math import isnan
from sys import intern
from typing import TypeVar

from smartspaces.detect.cyber.flows import Flow

N = TypeVar("N", int, float)
_INF = float("inf")
_new_flow = tuple.__new__  # every field is given: NamedTuple's generated __new__ adds nothing


def columnar(
    lines: list[str], columns: tuple[int, ...], width: int, separator: str, markers: tuple[str, str]
) -> list[Flow] | None:
    """The flows of header-free ``lines``, or None if any row is malformed or out of range.

    ``columns`` gives, in Flow field order, each field's column (-1: the log lacks it);
    ``markers`` are the log's unset and empty markers, which read as the field's default.
    """
    if not lines:
        return []
    count = len(lines)
    cells: Sequence[Sequence[str]]
    separators = list(map(str.count, lines, repeat(separator)))
    if min(separators) == max(separators) == width - 1:
        # every row exactly as wide as #fields: split the chunk once and take every
        # width-th cell, instead of a list per row for the garbage collector to track
        flat = separator.join(lines).split(separator)
        cells = [flat[i::width] if i in columns else () for i in range(width)]
    else:
        rows = [line.split(separator) for line in lines]
        if min(map(len, rows)) < width:
            return None  # an empty or short row: the row path skips or names it
        cells = list(zip(*rows, strict=False))  # longer rows are cut, as tolerated
    its, isrc, isp, idst, idp, iproto, idur, iob, irb, iop, irp = columns[:11]
    # a marker that parses as a number must still read as the default, so no map() shortcut
    shortcut = not any(_parses(marker) for marker in markers)
    try:
        ts = list(map(float, cells[its]))
        sport, dport = list(map(int, cells[isp])), list(map(int, cells[idp]))
        duration = _numbers(cells, idur, float, 0.0, count, markers, shortcut)
        counts = [_numbers(cells, i, int, 0, count, markers, shortcut) for i in columns[7:11]]
    except ValueError:
        return None
    if not (
        _finite_non_negative(ts)
        and _finite_non_negative(duration)
        and min(sport) >= 0
        and max(sport) <= 65_535
        and min(dport) >= 0
        and max(dport) <= 65_535
        and all(min(column) >= 0 for column in counts)
    ):
        return None
    blank = dict.fromkeys(markers, "")
    state, service, history, mac, uid = (
        _texts(cells, i, blank, count) for i in columns[11:]
    )  # fmt: skip
    fields = zip(
        ts, map(intern, cells[isrc]), sport, map(intern, cells[idst]), dport,
        map(intern, cells[iproto]), duration, *counts, map(intern, state),
        map(intern, service), history, mac, uid, strict=False,
    )  # fmt: skip
    return list(map(_new_flow, repeat(Flow, count), fields))


def _numbers(
    cells: Sequence[Sequence[str]],
    index: int,
    convert: Callable[[str], N],
    default: N,
    count: int,
    markers: tuple[str, str],
    shortcut: bool,
) -> list[N]:
    if index < 0:
        return [default] * count
    column = cells[index]
    if shortcut:
        # markers become "0" on the way into convert(), all in C; a bad value still raises
        zero = dict.fromkeys(markers, "0")
        return list(map(convert, map(zero.get, column, column)))
    return [default if value in markers else convert(value) for value in column]


def _texts(
    cells: Sequence[Sequence[str]], index: int, blank: dict[str, str], count: int
) -> Iterable[str]:
    if index < 0:
        return repeat("", count)
    column = cells[index]
    return map(blank.get, column, column)


def _finite_non_negative(values: list[float]) -> bool:
    # NaN compares false with everything, so min/max cannot be trusted until it is ruled out
    return not any(map(isnan, values)) and min(values) >= 0.0 and max(values) < _INF


def _parses(marker: str) -> bool:
    try:
        float(marker)
    except ValueError:
        return False
    return True
