"""What an edge adapter hands its results to: a sink for observations, one for dead letters.

Adapters are thin I/O shells: they parse with the pure functions of ``edge``, then give valid
observations to an ``ObservationSink`` and every reject to a ``DeadLetterSink``. The composition
root binds the sinks to the bus and the store (or to a store-and-forward buffer).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from smartspaces.events import Device, Observation


class ObservationSink(Protocol):
    """Takes accepted observations. Once the call returns they are durable (journalled on the
    bus or buffered on disk): an adapter may then acknowledge its sender. Idempotent per id."""

    async def __call__(self, observations: Sequence[Observation], /) -> None: ...


class DeadLetterSink(Protocol):
    """Keeps a rejected input with the adapter's name and the reason; never raises for content
    (the payload is cut to a bounded size by the store)."""

    async def __call__(self, adapter: str, reason: str, payload: str, /) -> None: ...


class DeviceDirectory(Protocol):
    """Looks registered devices up by id: those of ``device_ids`` that are registered, by id
    (unknown ids are simply absent). Read-only and idempotent."""

    async def __call__(self, device_ids: Collection[str], /) -> Mapping[str, Device]: ...
