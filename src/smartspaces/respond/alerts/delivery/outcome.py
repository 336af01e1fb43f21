"""What one delivery to one target came to, whatever the transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from smartspaces.respond.alerts.delivery.attempts import Attempt


@dataclass(frozen=True)
class Outcome:
    """One delivery of one message to one target, with every attempt it took."""

    channel: str
    target: str
    delivery_id: str
    subject_id: str
    delivered: bool
    attempts: tuple[Attempt, ...]

    @property
    def reason(self) -> str:
        """Why it failed, in words for a dead letter ("" once delivered)."""
        if self.delivered or not self.attempts:
            return ""
        last = self.attempts[-1]
        what = f"HTTP {last.status}" if last.status is not None else last.error
        return (
            f"{self.channel} delivery to {self.target} failed after "
            f"{len(self.attempts)} attempts: {what}"
        )


class DeliveryLog(Protocol):
    """Where attempts are recorded (the store). Writes are idempotent per delivery and attempt
    number, so a redelivered alert does not record its attempts twice."""

    def record_delivery(self, outcome: Outcome) -> None:
        """Keep every attempt of ``outcome``."""
        ...
