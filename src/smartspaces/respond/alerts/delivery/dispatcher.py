"""Sends each alert to every configured target at once, records every attempt, dead-letters
what could not be delivered.

At-least-once: the caller acknowledges the alert on the bus only after ``deliver`` returned, so
a crash mid-way sends it again; each target sees the same delivery id both times and can
deduplicate on it. Alerts below a target's ``min_level`` are not sent to it, but an Update or
Cancel of an alert it received always is (so nobody is left holding a stale warning).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import httpx

from smartspaces.clock import Clock
from smartspaces.config import AlertFormatSettings, DeliverySettings, MqttSettings
from smartspaces.config.delivery import WebhookTarget
from smartspaces.events import Alert, Level, SmartSpace, derive_id
from smartspaces.respond.alerts.cap import cap_xml
from smartspaces.respond.alerts.cot import cot_event, cot_unit_event
from smartspaces.respond.alerts.delivery.attempts import RetryPolicy
from smartspaces.respond.alerts.delivery.mqtt_out import MqttPublisher
from smartspaces.respond.alerts.delivery.outcome import DeliveryLog, Outcome
from smartspaces.respond.alerts.delivery.tak import TakSender
from smartspaces.respond.alerts.ngsi_ld import ngsi_ld_alert
from smartspaces.respond.alerts.webhooks import WebhookSender

DeadLetter = Callable[[str, str, str], None]
"""``(adapter, reason, payload)``: where failed deliveries go (the store's dead letters)."""

_CONTENT_TYPES = {
    "cap": "application/cap+xml",
    "json": "application/json",
    "ngsi-ld": "application/ld+json",
}


class AlertDelivery:
    """Delivery to the targets of ``settings``; ``close`` it when done."""

    def __init__(
        self,
        settings: DeliverySettings,
        formats: AlertFormatSettings,
        mqtt: MqttSettings,
        spaces: Mapping[str, SmartSpace],
        log: DeliveryLog,
        dead_letter: DeadLetter,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._settings, self._formats, self._spaces = settings, formats, spaces
        self._log, self._dead_letter = log, dead_letter
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            first_backoff_s=settings.first_backoff_s,
            max_backoff_s=settings.max_backoff_s,
            timeout_s=settings.timeout_s,
        )
        self._http = httpx.AsyncClient(follow_redirects=False)
        self._webhooks = WebhookSender(self._http, clock, policy, sleep)
        self._tak = [TakSender(t, clock, policy, sleep) for t in settings.tak]
        self._mqtt = (
            MqttPublisher(mqtt.host, mqtt.port, clock, policy, sleep)
            if settings.mqtt_topic
            else None
        )
        self._sent_to: dict[str, set[str]] = {}  # first alert of a chain -> targets it reached

    @property
    def configured(self) -> bool:
        s = self._settings
        return bool(s.webhooks or s.tak or s.mqtt_topic)

    async def deliver(self, alert: Alert, referenced: Sequence[Alert] = ()) -> list[Outcome]:
        """Send ``alert`` everywhere it should go; ``referenced`` are the alerts it updates."""
        space = self._spaces.get(alert.space_id)
        if space is None:
            self._dead_letter("delivery", f"alert {alert.id}: unknown space", alert.id)
            return []
        chain = alert.references[0] if alert.references else alert.id
        reached = self._sent_to.setdefault(chain, set())
        jobs: list[Awaitable[Outcome]] = []
        for hook in self._settings.webhooks:
            if _wanted(alert, hook.min_level, f"webhook:{hook.name}", reached):
                jobs.append(self._webhook(hook, alert, space, referenced))
        for sender in self._tak:
            if _wanted(alert, sender.target.min_level, f"tak:{sender.target.name}", reached):
                jobs.append(self._cot(sender, alert, cot_event(alert, space, self._cot_stale)))
        if self._mqtt is not None:
            jobs.append(self._publish(self._mqtt, alert))
        outcomes = list(await asyncio.gather(*jobs))
        for outcome in outcomes:
            if outcome.delivered:
                reached.add(f"{outcome.channel}:{outcome.target}")
        self._keep(outcomes, alert.model_dump_json())
        return outcomes

    async def deliver_unit(
        self, unit_id: str, incident_id: str, space_id: str, at: datetime, released: bool
    ) -> list[Outcome]:
        """Show (or remove) a unit assigned to an incident on every TAK target."""
        space = self._spaces.get(space_id)
        if space is None or not self._tak:
            return []
        event = cot_unit_event(unit_id, incident_id, space, at, released, self._cot_stale)
        subject = derive_id("unit", unit_id, incident_id, at, released)
        outcomes = list(
            await asyncio.gather(*(self._cot(s, None, event, subject) for s in self._tak))
        )
        self._keep(outcomes, event.decode())
        return outcomes

    @property
    def _cot_stale(self) -> float:
        return self._settings.cot_stale_after_s

    async def _webhook(
        self, hook: WebhookTarget, alert: Alert, space: SmartSpace, referenced: Sequence[Alert]
    ) -> Outcome:
        if hook.format == "cap":
            body = cap_xml(alert, space, self._formats, hook.audience, referenced)
        elif hook.format == "ngsi-ld":
            body = json.dumps(ngsi_ld_alert(alert, space, self._formats)).encode()
        else:
            body = alert.model_dump_json().encode()
        delivery_id = derive_id("dlv", alert.id, "webhook", hook.name)
        result = await self._webhooks.deliver(
            hook.url,
            body,
            hook.secret.get_secret_value().encode(),
            delivery_id,
            _CONTENT_TYPES[hook.format],
        )
        return Outcome(
            "webhook", hook.name, delivery_id, alert.id, result.delivered, result.attempts
        )

    async def _cot(
        self, sender: TakSender, alert: Alert | None, event: bytes, subject: str = ""
    ) -> Outcome:
        subject_id = alert.id if alert is not None else subject
        delivery_id = derive_id("dlv", subject_id, "tak", sender.target.name)
        delivered, attempts = await sender.send(event)
        return Outcome("tak", sender.target.name, delivery_id, subject_id, delivered, attempts)

    async def _publish(self, publisher: MqttPublisher, alert: Alert) -> Outcome:
        topic = f"{self._settings.mqtt_topic}/{alert.space_id}"
        delivery_id = derive_id("dlv", alert.id, "mqtt", topic)
        delivered, attempts = await publisher.publish(topic, alert.model_dump_json().encode())
        return Outcome("mqtt", topic, delivery_id, alert.id, delivered, attempts)

    def _keep(self, outcomes: Sequence[Outcome], payload: str) -> None:
        for outcome in outcomes:
            self._log.record_delivery(outcome)
            if not outcome.delivered:
                self._dead_letter(f"delivery.{outcome.channel}", outcome.reason, payload)

    async def close(self) -> None:
        for sender in self._tak:
            await sender.close()
        if self._mqtt is not None:
            await self._mqtt.close()
        await self._http.aclose()


def _wanted(alert: Alert, min_level: str, key: str, reached: set[str]) -> bool:
    if alert.msg_type != "Alert" and key in reached:
        return True  # updates and cancellations follow what the target already holds
    return alert.level.rank >= Level(min_level).rank
