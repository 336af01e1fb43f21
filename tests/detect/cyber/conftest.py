"""Fixtures for the cyber tests: the shared slips-ids captures, a flow factory, endless zeros."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from smartspaces.detect.cyber.flows import Flow
from tests.conftest import shared_data

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
GIB = 1 << 30


@pytest.fixture
def slips_dir() -> Path:
    folder = shared_data("slips-ids")
    return folder


def flow(**values: Any) -> Flow:
    """A flow with plausible defaults: an answered, 1 s TCP connection to port 443."""
    defaults: dict[str, Any] = {
        "ts": 1_700_000_000.0,
        "src": "10.0.0.1",
        "sport": 40_000,
        "dst": "192.0.2.10",
        "dport": 443,
        "proto": "tcp",
        "duration_s": 1.0,
        "orig_bytes": 500,
        "resp_bytes": 5_000,
        "orig_pkts": 8,
        "resp_pkts": 9,
        "conn_state": "SF",
    }
    defaults.update(values)
    return Flow(**defaults)


class Zeros(io.RawIOBase):
    """1 GiB of zeros, produced on demand: never stored anywhere."""

    def __init__(self) -> None:
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), GIB - self.position)
        buffer[:n] = bytes(n)
        self.position += n
        return n
