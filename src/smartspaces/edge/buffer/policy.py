"""Pure store-and-forward policy: priorities, the overflow rule, the reporting-rate factor.

Overflow policy (declared): the buffer is bounded in bytes. When an observation does not fit,
the oldest buffered observations of the lowest priority go first, then the oldest of normal
priority, never one of a higher priority than the newcomer's. An alarm is never dropped: it
evicts low and normal ones and, if only alarms are left, is kept beyond the bound. A low or
normal newcomer that cannot fit that way is itself dropped. Every eviction and drop is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from smartspaces.config import BufferSettings as BufferSettings
from smartspaces.events import Observation


class Priority(IntEnum):
    """How much an observation matters when space runs out; higher survives longer."""

    LOW = 0
    NORMAL = 1
    ALARM = 2


# Quantities that describe the sensor more than the crowd: first to go, first slowed down.
LOW_QUANTITIES = frozenset(
    {"battery_ratio", "temperature_k", "noise_laeq_dba", "device_clock_skew_s"}
)
# A density at or above Fruin's red level (the default red of the crowd settings) is an alarm:
# it is exactly what must reach the central node after an outage.
ALARM_DENSITY_P_M2 = 4.0


def priority_of(observation: Observation) -> Priority:
    """The default priority: alarms for ``*_alarm`` quantities and red densities, low for
    sensor housekeeping, normal for the rest (counts, occupancy, flow, speed, device health)."""
    quantity = observation.quantity
    if quantity.endswith("_alarm") or (
        quantity == "density_p_m2" and observation.value >= ALARM_DENSITY_P_M2
    ):
        return Priority.ALARM
    if quantity in LOW_QUANTITIES:
        return Priority.LOW
    return Priority.NORMAL


@dataclass(frozen=True)
class Admission:
    """Whether a newcomer is kept, and how many bytes to evict (oldest first) per priority."""

    keep: bool
    evict: Mapping[Priority, int] = field(default_factory=dict)


def admit(
    used_bytes: int,
    evictable: Mapping[Priority, int],
    size: int,
    priority: Priority,
    max_bytes: int,
) -> Admission:
    """Apply the overflow policy to one newcomer of ``size`` bytes.

    ``used_bytes`` is everything buffered; ``evictable`` the bytes per priority that may still
    be evicted (already on disk).
    """
    over = used_bytes + size - max_bytes
    if over <= 0:
        return Admission(True)
    evict: dict[Priority, int] = {}
    for victim in (Priority.LOW, Priority.NORMAL):
        if victim > priority:
            break
        take = min(over, evictable.get(victim, 0))
        if take > 0:
            evict[victim] = take
            over -= take
        if over <= 0:
            return Admission(True, evict)
    if priority is Priority.ALARM:
        return Admission(True, evict)  # never drop an alarm: exceed the bound instead
    return Admission(False)


def rate_factor(backlog_bytes: int, max_bytes: int, priority: Priority) -> float:
    """The share of its normal reporting rate a stream of ``priority`` should use now.

    Alarms always report at full rate. Low-priority streams slow down once the backlog passes
    10 % of the bound, down to 5 % of their rate when it is full; normal ones from 50 %, down to
    25 %. Adapters multiply their reporting intervals by ``1 / rate_factor``.
    """
    if priority is Priority.ALARM or max_bytes <= 0:
        return 1.0
    start, floor = (0.1, 0.05) if priority is Priority.LOW else (0.5, 0.25)
    fill = backlog_bytes / max_bytes
    if fill <= start:
        return 1.0
    return max(floor, 1.0 - (fill - start) / (1.0 - start) * (1.0 - floor))
