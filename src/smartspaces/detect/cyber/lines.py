"""Bounded, strictly decoded line reading shared by the text log parsers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from smartspaces.detect.cyber.errors import FlowInputError


def text_lines(stream: IO[bytes], max_line_bytes: int, what: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its newline); never holds more than one line.

    A line longer than ``max_line_bytes`` or not valid UTF-8 is an error naming the line, since
    a log we cannot read exactly is one whose detections we could not trust either.
    """
    number = 0
    while True:
        raw = stream.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            raise FlowInputError(f"{what} line {number}: longer than {max_line_bytes} bytes")
        if b"\x00" in raw:
            raise FlowInputError(f"{what} line {number}: contains NUL bytes (binary data?)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FlowInputError(
                f"{what} line {number}: not UTF-8 (byte {error.start}: {raw[error.start]:#04x})"
            ) from error
        yield number, text.rstrip("\r\n")
