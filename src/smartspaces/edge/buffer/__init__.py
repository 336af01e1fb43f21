"""Store-and-forward: buffer observations on disk while the bus or central node is away."""

from smartspaces.edge.buffer.policy import (
    Admission,
    BufferSettings,
    Priority,
    admit,
    priority_of,
    rate_factor,
)
from smartspaces.edge.buffer.sink import Backlog, BufferCounters, StoreAndForward

__all__ = [
    "Admission",
    "Backlog",
    "BufferCounters",
    "BufferSettings",
    "Priority",
    "StoreAndForward",
    "admit",
    "priority_of",
    "rate_factor",
]
