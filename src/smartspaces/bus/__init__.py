"""The event bus: one interface (``Bus``), an embedded engine (``MemoryBus``), its errors."""

from smartspaces.bus.base import Bus, Delivery, Subscription, subject_matches, validate_filter
from smartspaces.bus.errors import (
    BusClosedError,
    BusError,
    ConsumerConflictError,
    InvalidSubjectError,
    JournalError,
)
from smartspaces.bus.memory import MemoryBus

__all__ = [
    "Bus",
    "BusClosedError",
    "BusError",
    "ConsumerConflictError",
    "Delivery",
    "InvalidSubjectError",
    "JournalError",
    "MemoryBus",
    "Subscription",
    "subject_matches",
    "validate_filter",
]
