"""Device health, pure: a device silent past its expected interval, flapping, or with a skewed
clock, reported as Observations of the device-status quantities (``device_*``) so that the
detect stage and the map see them like any other reading."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smartspaces.events import Device, Observation

SOURCE = "edge.health"


@dataclass
class _Seen:
    last_at: datetime
    silent: bool = False
    changes: deque[datetime] = field(default_factory=deque)


class DeviceHealthMonitor:
    """Watches the registered devices that declare an expected reporting interval.

    - silence: nothing for ``silence_factor`` x the interval -> ``device_silence_s`` (once per
      silence; the device speaking again ends it);
    - flapping: ``flap_count`` silences within ``flap_window_s`` -> ``device_flaps_count``;
    - clock skew: a reading stamped more than ``max_skew_s`` ahead of our clock ->
      ``device_clock_skew_s`` (the reading itself is still judged by the edge's validation).
      Only ahead: a stamp in the past is what buffered and aggregated readings look like, so
      a clock running late cannot be told from a late delivery.
    """

    def __init__(
        self,
        devices: Mapping[str, Device],
        silence_factor: float = 3.0,
        max_skew_s: float = 30.0,
        flap_count: int = 3,
        flap_window_s: float = 3600.0,
    ) -> None:
        self._devices = dict(devices)
        self._factor, self._max_skew = silence_factor, max_skew_s
        self._flap_count, self._flap_window = flap_count, timedelta(seconds=flap_window_s)
        self._seen: dict[str, _Seen] = {}

    def step(self, observation: Observation, now: datetime) -> list[Observation]:
        """Account for a reading received ``now``; returns device-status readings it causes."""
        device = self._devices.get(observation.sensor_id)
        if device is None or observation.source == SOURCE:
            return []
        found: list[Observation] = []
        skew = (observation.observed_at - now).total_seconds()
        if skew > self._max_skew:
            found.append(self._status(device, "device_clock_skew_s", skew, now))
        seen = self._seen.get(device.id)
        if seen is None:
            self._seen[device.id] = _Seen(now)
        else:
            seen.last_at = max(seen.last_at, now)
            seen.silent = False
        return found

    def tick(self, now: datetime) -> list[Observation]:
        """Devices that went silent since the last tick (and those now flapping)."""
        found: list[Observation] = []
        for device_id, seen in self._seen.items():
            device = self._devices[device_id]
            if seen.silent or device.expected_interval_s is None:
                continue
            silence = (now - seen.last_at).total_seconds()
            if silence <= self._factor * device.expected_interval_s:
                continue
            seen.silent = True
            found.append(self._status(device, "device_silence_s", silence, now))
            seen.changes.append(now)
            while seen.changes and seen.changes[0] < now - self._flap_window:
                seen.changes.popleft()
            if len(seen.changes) >= self._flap_count:
                found.append(self._status(device, "device_flaps_count", len(seen.changes), now))
        return found

    def _status(self, device: Device, quantity: str, value: float, now: datetime) -> Observation:
        return Observation(
            source=SOURCE,
            space_id=device.space_id,
            observed_at=now,
            received_at=now,
            location=device.location,
            sensor_id=device.id,
            quantity=quantity,
            value=value,
        )
