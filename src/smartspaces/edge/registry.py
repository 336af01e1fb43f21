"""A short-lived cache in front of the device registry, for adapters that check every message.

The MQTT adapter checks each reading against its device's registration; asking the store for
every batch would cost more than the rest of the work. A device's registration (and the absence
of one) is believed for ``ttl_s`` seconds: a device disabled or registered is seen as such
within that time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from smartspaces.clock import Clock
from smartspaces.edge.ports import DeviceDirectory
from smartspaces.events import Device


class CachedDirectory:
    """A DeviceDirectory that asks ``directory`` only for ids it has not looked up lately.

    Example::

        devices = CachedDirectory(store_lookup, ttl_s=5.0, clock=clock)
        found = await devices({"counter-1", "gateway-1"})
    """

    def __init__(
        self, directory: DeviceDirectory, ttl_s: float, clock: Clock, most: int = 100_000
    ) -> None:
        self._directory, self._clock, self._most = directory, clock, most
        self._ttl = timedelta(seconds=ttl_s)
        self._known: dict[str, tuple[datetime, Device | None]] = {}
        self.lookups = 0

    async def __call__(self, device_ids: Collection[str]) -> Mapping[str, Device]:
        now = self._clock.now()
        found: dict[str, Device] = {}
        missing: set[str] = set()
        for device_id in device_ids:
            entry = self._known.get(device_id)
            if entry is None or now - entry[0] >= self._ttl:
                missing.add(device_id)
            elif entry[1] is not None:
                found[device_id] = entry[1]
        if missing:
            self.lookups += 1
            fresh = await self._directory(missing)
            if len(self._known) + len(missing) > self._most:
                self._known.clear()
            for device_id in missing:
                device = fresh.get(device_id)
                self._known[device_id] = (now, device)
                if device is not None:
                    found[device_id] = device
        return found
