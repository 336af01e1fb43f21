"""Alert delivery wired to the store: attempts kept in ``delivery_attempts``, failures in the
dead letters (a composition root piece, like edge_node.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from smartspaces.clock import Clock
from smartspaces.config import Settings
from smartspaces.events import SmartSpace
from smartspaces.respond.alerts.delivery.dispatcher import AlertDelivery
from smartspaces.respond.alerts.delivery.outcome import Outcome
from smartspaces.store import Store
from smartspaces.store.deliveries import AttemptRecord


class StoreDeliveryLog:
    """Keeps every attempt of every delivery in the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record_delivery(self, outcome: Outcome) -> None:
        self._store.deliveries.record(
            [
                AttemptRecord(
                    delivery_id=outcome.delivery_id,
                    subject_id=outcome.subject_id,
                    channel=outcome.channel,
                    target=outcome.target,
                    attempt=a.number,
                    at=datetime.fromisoformat(a.at),
                    status=a.status,
                    error=a.error,
                    elapsed_ms=a.elapsed_ms,
                    delivered=a.ok,
                )
                for a in outcome.attempts
            ]
        )


def build_alert_delivery(
    settings: Settings, store: Store, spaces: Mapping[str, SmartSpace], clock: Clock
) -> AlertDelivery:
    """The delivery of ``settings.delivery``, recording into ``store``."""

    def dead_letter(adapter: str, reason: str, payload: str) -> None:
        store.add_dead_letter(adapter, reason, payload, clock.now())

    return AlertDelivery(
        settings.delivery,
        settings.alerts,
        settings.mqtt,
        spaces,
        StoreDeliveryLog(store),
        dead_letter,
        clock,
    )
