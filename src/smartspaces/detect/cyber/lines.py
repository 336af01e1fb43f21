"""Bounded, strictly decoded line reading shared by the text log parsers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from smartspaces.detect.cyber.errors import FlowInputError

CHUNK_BYTES = 256 * 1024
"""Bytes read at a time: large enough that per-line Python work dominates, small enough to
keep memory flat (one chunk, its decoded text and at most one partial line)."""


def line_batches(
    stream: IO[bytes], max_line_bytes: int, what: str
) -> Iterator[tuple[int, list[str]]]:
    """Yield (number of the first line, lines without their newlines), a chunk at a time.

    The same rules as one line at a time: a line longer than ``max_line_bytes``, holding NUL
    bytes or not valid UTF-8 is an error naming the line, since a log we cannot read exactly
    is one whose detections we could not trust either. Lines before the bad one are yielded
    first. Checks and decoding run over a whole chunk (C speed); only a chunk found to hold a
    bad line is walked line by line to name it.
    """
    number = 0  # lines yielded so far
    tail = b""
    while chunk := stream.read(CHUNK_BYTES):
        data = tail + chunk if tail else chunk
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        if cut:
            yield from _checked(data[: cut - 1], number, max_line_bytes, what)
            number += data.count(b"\n", 0, cut)
        if len(tail) > max_line_bytes:
            raise FlowInputError(f"{what} line {number + 1}: longer than {max_line_bytes} bytes")
    if tail:
        yield from _checked(tail, number, max_line_bytes, what)


class _BadLine(Exception):
    """A block's good lines up to its first bad one, and the error naming that line."""

    def __init__(self, good: list[str], error: FlowInputError) -> None:
        super().__init__(error.reason)
        self.good, self.error = good, error


def _checked(
    block: bytes, before: int, max_line_bytes: int, what: str
) -> Iterator[tuple[int, list[str]]]:
    try:
        yield before + 1, _decode(block, before, max_line_bytes, what)
    except _BadLine as bad:
        if bad.good:
            yield before + 1, bad.good
        raise bad.error from bad.error.__cause__


def text_lines(stream: IO[bytes], max_line_bytes: int, what: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its newline), with the checks of ``line_batches``."""
    for first, lines in line_batches(stream, max_line_bytes, what):
        yield from enumerate(lines, first)


def _decode(block: bytes, before: int, max_line_bytes: int, what: str) -> list[str]:
    """The lines of ``block`` (newline-separated, none at its end) after line ``before``."""
    if b"\x00" not in block:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            lines = text.split("\n")
            # str lengths are byte lengths only for ASCII; otherwise measure the bytes
            sizes = lines if text.isascii() else block.split(b"\n")
            if max(map(len, sizes)) <= max_line_bytes:
                return [line.rstrip("\r") for line in lines] if "\r" in text else lines
    # something in this block is wrong: find the first bad line and name it
    good: list[str] = []
    for number, raw in enumerate(block.split(b"\n"), before + 1):
        try:
            good.append(_line(raw, number, max_line_bytes, what))
        except FlowInputError as error:
            raise _BadLine(good, error) from error
    return good  # pragma: no cover - the fast path accepted this block


def _line(raw: bytes, number: int, max_line_bytes: int, what: str) -> str:
    if len(raw) > max_line_bytes:
        raise FlowInputError(f"{what} line {number}: longer than {max_line_bytes} bytes")
    if b"\x00" in raw:
        raise FlowInputError(f"{what} line {number}: contains NUL bytes (binary data?)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FlowInputError(
            f"{what} line {number}: not UTF-8 (byte {error.start}: {raw[error.start]:#04x})"
        ) from error
    return text.rstrip("\r")
