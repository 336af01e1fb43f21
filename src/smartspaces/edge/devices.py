"""Device credentials and what a device may report (the Device model is in events.py).

Pure: tokens are generated and checked here, stored only as SHA-256 hashes (a device token is
32 random bytes, so a fast hash is enough: there is nothing to brute-force, unlike a password).
``authorise`` decides, observation by observation, whether the device that sent a batch may speak
for the sensor named in it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence

from smartspaces.events import Device, Observation


def new_token() -> str:
    """A fresh device token (shown once to the installer, never stored in clear)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def token_matches(token: str, device: Device) -> bool:
    """Constant-time comparison of a presented token with the device's stored hash."""
    if device.token_sha256 is None or device.status != "active":
        return False
    return hmac.compare_digest(hash_token(token), device.token_sha256)


def authorise(
    sender: Device, observations: Sequence[Observation], registry: Mapping[str, Device]
) -> tuple[list[Observation], list[tuple[Observation, str]]]:
    """Split observations into those ``sender`` may report and the others, with the reason.

    A device reports for itself; a gateway for devices whose ``gateway_id`` names it. The sensor
    must be registered, active, serve the observation's space and measure its quantity: a
    counter that suddenly reports for another square is refused, not believed.
    """
    allowed: list[Observation] = []
    refused: list[tuple[Observation, str]] = []
    for observation in observations:
        reason = _refusal(sender, observation, registry)
        if reason is None:
            allowed.append(observation)
        else:
            refused.append((observation, reason))
    return allowed, refused


def _refusal(
    sender: Device, observation: Observation, registry: Mapping[str, Device]
) -> str | None:
    sensor = registry.get(observation.sensor_id)
    if sensor is None:
        return f"sensor_id: unknown device {observation.sensor_id!r} (register it first)"
    if sensor.id != sender.id and sensor.gateway_id != sender.id:
        return f"sensor_id: device {sender.id!r} may not report for {sensor.id!r}"
    if sensor.status != "active":
        return f"sensor_id: device {sensor.id!r} is {sensor.status}"
    if observation.space_id != sensor.space_id:
        return (
            f"space_id: device {sensor.id!r} serves {sensor.space_id!r}, "
            f"not {observation.space_id!r}"
        )
    if sensor.quantities and observation.quantity not in sensor.quantities:
        return f"quantity: device {sensor.id!r} does not measure {observation.quantity}"
    return None
