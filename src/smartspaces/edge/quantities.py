"""The quantities the platform accepts, each with its SI unit and the range a real sensor reports.

A quantity's name ends with its unit (``speed_m_s``, ``noise_laeq_dba``); senders may give the
value in another unit of the same dimension (``"unit": "km/h"``) and the edge converts it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuantitySpec:
    """What a quantity means, its SI unit (as pint writes it), its plausible range."""

    unit: str
    low: float
    high: float
    whole: bool = False
    description: str = ""


QUANTITIES: dict[str, QuantitySpec] = {
    "entries_count": QuantitySpec("count", 0, 100_000, True, "people entering over interval_s"),
    "exits_count": QuantitySpec("count", 0, 100_000, True, "people leaving over interval_s"),
    "passersby_count": QuantitySpec("count", 0, 100_000, True, "people passing over interval_s"),
    "occupancy_persons": QuantitySpec("count", 0, 1_000_000, True, "people present now"),
    "density_p_m2": QuantitySpec("1/m**2", 0, 12, False, "persons per square metre"),
    "speed_m_s": QuantitySpec("m/s", 0, 15, False, "walking or running speed"),
    "flow_p_m_s": QuantitySpec("1/m/s", 0, 10, False, "persons per metre of width per second"),
    "noise_laeq_dba": QuantitySpec("dBA", 0, 194, False, "A-weighted equivalent sound level"),
    "temperature_k": QuantitySpec("K", 173.15, 373.15, False, "air temperature"),
    "battery_ratio": QuantitySpec("dimensionless", 0, 1, False, "battery charge, 0 to 1"),
    # device health, emitted by the edge itself
    "device_silence_s": QuantitySpec("s", 0, 10 * 365 * 86_400, False, "silent past interval"),
    "device_clock_skew_s": QuantitySpec("s", -1e9, 1e9, False, "device clock minus ours"),
    "device_flaps_count": QuantitySpec("count", 0, 1e9, True, "up/down changes in window"),
}
