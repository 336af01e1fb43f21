"""The running pipeline: stage workers wired to the bus and the store (a composition root).

Three durable consumers, each acknowledging only after its work is done (at-least-once; every
write is idempotent thanks to deterministic ids):

- ``detect``  observations -> crowd stage (density, rise, forecast) -> detections (+ status)
- ``fuse``    detections and device-health readings -> fusion rules -> situations
- ``respond`` detections and situations -> risk (spaces, assets, cascades) -> alert policy
- ``deliver`` alerts -> webhooks, MQTT, TAK (only when targets are configured)
- ``store``   every event -> the store, then to live listeners (WebSocket, CLI)
- ``edge-health`` observations -> device clock skew; with the timer, silence and flapping
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from smartspaces.bus.base import Bus, Delivery, Subscription
from smartspaces.city import CityModel
from smartspaces.clock import Clock
from smartspaces.config import Settings
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.detect.fusion import FusionEngine
from smartspaces.edge.health import DeviceHealthMonitor
from smartspaces.events import (
    Alert,
    AnyEvent,
    Detection,
    IncidentStateChanged,
    Observation,
    RiskLevel,
    Situation,
    SmartSpace,
)
from smartspaces.respond.alerts.delivery.dispatcher import AlertDelivery
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.risk.assessor import RiskAssessor
from smartspaces.store import Store
from smartspaces.store.retention import RetentionTimer, apply_retention

log = structlog.get_logger(__name__)

Listener = Callable[[Sequence[AnyEvent]], Awaitable[None] | None]
BATCH = 512
TICK_S = 1.0


@dataclass
class _Worker:
    name: str
    subjects: tuple[str, ...]
    handle: Callable[[list[Delivery]], Awaitable[None]]
    subscription: Subscription | None = None
    task: asyncio.Task[None] | None = None
    processed: int = 0
    empty_fetches: int = 0
    failures: int = 0
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class Runtime:
    """Runs the stages over a bus and a store; ``start`` it, ``drain`` it, ``stop`` it."""

    def __init__(
        self,
        settings: Settings,
        bus: Bus,
        store: Store,
        spaces: Sequence[SmartSpace],
        clock: Clock,
        poll_s: float = 0.05,
        timers: bool = True,
        city: CityModel | None = None,
        delivery: AlertDelivery | None = None,
    ) -> None:
        self.bus, self.store, self.clock = bus, store, clock
        by_id: Mapping[str, SmartSpace] = {s.id: s for s in spaces}
        self._spaces, self._city, self._fusion_settings = tuple(spaces), city, settings.fusion
        self.crowd = CrowdStage(settings.crowd, settings.forecast, by_id)
        self.risk = RiskAssessor(by_id, city, settings.risk)
        # built at start, once the registered devices are known (cameras, counters)
        self.fusion = FusionEngine.from_settings(settings.fusion, self._spaces)
        self.delivery = delivery
        self.alerts = AlertPolicy(by_id, settings.alert_policy)
        self._edge = settings.edge
        self.health = DeviceHealthMonitor({})
        self._poll_s = poll_s
        self._timer: asyncio.Task[None] | None = None
        self._retention = RetentionTimer(settings.retention)
        self._retention_run: asyncio.Task[None] | None = None
        # Off for deterministic runs (headless demo, replay): then time-driven alerts come due
        # only as events move time on, never from the wall clock.
        self._timers = timers
        self._listeners: list[Listener] = []
        self._workers = [
            _Worker("detect", ("ss.observation.>",), self._detect),
            _Worker("fuse", ("ss.detection.>", "ss.observation.>"), self._fuse),
            _Worker(
                "respond",
                ("ss.detection.>", "ss.situation.>", "ss.incident_state_changed.>"),
                self._respond,
            ),
            _Worker("store", ("ss.>",), self._store),
            _Worker("edge-health", ("ss.observation.>",), self._health),
        ]
        if delivery is not None and delivery.configured:
            self._workers.append(_Worker("deliver", ("ss.alert.>",), self._deliver))

    @property
    def city(self) -> CityModel | None:
        """The city model risk and fusion use (None: no infrastructure known)."""
        return self._city

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with each batch of events once they are stored."""
        self._listeners.append(listener)

    async def publish(self, events: Sequence[AnyEvent]) -> None:
        """Hand events to the pipeline (durable once this returns)."""
        if events:
            await self.bus.publish_many(events)

    async def start(self) -> None:
        """Resume the stages' state from the store, then run the workers and the timer."""
        await asyncio.to_thread(self._restore)
        for worker in self._workers:
            worker.subscription = await self.bus.subscribe(worker.name, worker.subjects)
            worker.task = asyncio.create_task(self._run(worker), name=f"worker-{worker.name}")
        if self._timers:
            self._timer = asyncio.create_task(self._tick(), name="timer")

    async def _tick(self) -> None:
        # Time-driven alerts (escalation of unacknowledged alerts, the end of a suppression
        # window) come due without any new detection: look once per TICK_S of the clock.
        while True:
            await asyncio.sleep(TICK_S)
            try:
                now = self.clock.now()
                if self._retention.due(now) and (
                    self._retention_run is None or self._retention_run.done()
                ):  # a task of its own: a long first run never holds up the alerts' timer
                    self._retention_run = asyncio.create_task(self._retain(now), name="retention")
                await self.publish(self.fusion.tick(now))
                risks = self.risk.tick(now)  # cascades come due: assets, then the spaces they serve
                spaces = [r for r in risks if r.asset_id is None]
                alerts = [a for r in spaces if (a := self.alerts.step(r, r.observed_at))]
                await self.publish(
                    [*risks, *alerts, *self.alerts.tick(now), *self.health.tick(now)]
                )
                await asyncio.to_thread(
                    self.store.update_status, [_risk_status(r, now) for r in spaces]
                )
            except Exception:  # the next tick tries again; nothing is lost meanwhile
                log.exception("timer_failed")

    async def _retain(self, now: datetime) -> None:
        try:
            report = await asyncio.to_thread(
                apply_retention, self.store, self._retention.settings, now
            )
        except Exception:  # the next run (interval_s later) tries again
            log.exception("retention_failed")
            return
        if report.deleted or report.held_back:
            log.info("retention_applied", held_back=report.held_back, **report.counts)

    def _restore(self) -> None:
        # devices registered before the start are watched (a new one from the next start on)
        devices = {d.id: d for d in self.store.devices.all()}
        city = self._city
        self.fusion = FusionEngine.from_settings(
            self._fusion_settings,
            self._spaces,
            devices,
            city.asset_spaces() if city else None,
            city.asset_kinds() if city else None,
        )
        self.health = DeviceHealthMonitor(
            devices,
            silence_factor=self._edge.health_silence_factor,
            max_skew_s=self._edge.health_max_skew_s,
        )
        # Stage state lives in memory; after a restart it is rebuilt from what was stored, so an
        # alert left open is still updated or cancelled, and occupancy does not restart at zero.
        detections = [
            d
            for d in self.store.latest_per_space("detection", "detection_type")
            if isinstance(d, Detection)
        ]
        self.crowd.resume(detections)  # ladder level and occupancy, standing trend warnings
        for space_id, status in self.store.status().items():
            if status["occupancy_persons"] is not None:
                self.crowd.restore(
                    space_id, status["occupancy_persons"], self.crowd.level(space_id)
                )
        situations = [
            s
            for s in self.store.latest_per_space("situation", "situation_type")
            if isinstance(s, Situation)
        ]
        self.risk.restore([*detections, *situations])
        self.alerts.restore(
            (a for a in self.store.latest_per_space("alert") if isinstance(a, Alert)),
            self.store.incidents.acknowledged_alert_ids(),
        )

    async def stop(self) -> None:
        if self._retention_run is not None:
            self._retention_run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention_run
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        for worker in self._workers:
            if worker.task:
                worker.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.task
                worker.task = None

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until every worker has caught up with everything published so far."""
        async with asyncio.timeout(timeout_s):
            while True:
                before = [(w.processed, w.empty_fetches) for w in self._workers]
                # every worker must come back empty-handed once after this point...
                while any(
                    w.empty_fetches == b[1] for w, b in zip(self._workers, before, strict=True)
                ):
                    await asyncio.sleep(self._poll_s / 4)
                # ...and nobody must have done anything meanwhile (work can cascade downstream)
                if all(w.processed == b[0] for w, b in zip(self._workers, before, strict=True)):
                    return

    async def _run(self, worker: _Worker) -> None:
        subscription = worker.subscription
        if subscription is None:
            raise RuntimeError(f"worker {worker.name} runs before it subscribed")
        while True:
            batch = await subscription.fetch(BATCH, timeout_s=self._poll_s)
            if not batch:
                worker.empty_fetches += 1
                continue
            try:
                await worker.handle(batch)
            except Exception:  # a failing batch is retried by redelivery, never lost
                worker.failures += 1
                log.exception("worker_failed", worker=worker.name, batch=len(batch))
                for delivery in batch:
                    await subscription.nak(delivery)
                continue
            for delivery in batch:
                await subscription.ack(delivery)
            worker.processed += len(batch)

    async def _detect(self, batch: list[Delivery]) -> None:
        now = self.clock.now()
        found: list[AnyEvent] = []
        touched: set[str] = set()
        for delivery in batch:
            event = delivery.event
            if isinstance(event, Observation):
                found.extend(self.crowd.step(event, now))
                touched.add(event.space_id)
        await self.publish(found)
        status = []
        for space_id in touched:
            state = self.crowd.state(space_id)
            if state is not None:
                status.append(
                    {
                        "space_id": space_id,
                        "updated_at": now,
                        "occupancy_persons": state.occupancy_persons,
                        "density_p_m2": state.density_p_m2,
                        "level_of_service": state.level_of_service,
                    }
                )
        await asyncio.to_thread(self.store.update_status, status)

    async def _respond(self, batch: list[Delivery]) -> None:
        now = self.clock.now()
        found: list[AnyEvent] = []
        status: list[dict[str, Any]] = []
        for delivery in batch:
            event = delivery.event
            if isinstance(event, IncidentStateChanged):
                self.alerts.observe(event)  # an acknowledged alert is not escalated
                continue
            if not isinstance(event, Detection | Situation):
                continue
            # time moves on with each event: what came due before it is decided first, so the
            # outcome does not depend on how deliveries were batched
            found.extend(self.alerts.tick(event.observed_at))
            for risk in self.risk.step(event, now):
                found.append(risk)
                if risk.asset_id is not None:
                    continue  # an asset's risk is stored and shown; alerts are per space
                status.append(_risk_status(risk, now))
                # the policy runs on event time, so suppression and escalation do not depend on
                # how far behind the workers are (a replay gives the same alerts at any speed)
                alert = self.alerts.step(risk, risk.observed_at)
                if alert is not None:
                    found.append(alert)
        await self.publish(found)
        await asyncio.to_thread(self.store.update_status, status)

    async def _fuse(self, batch: list[Delivery]) -> None:
        now = self.clock.now()
        found: list[AnyEvent] = []
        for delivery in batch:
            event = delivery.event
            if isinstance(event, Detection | Observation):
                # lapsed situations end on event time first, as the alert policy does, so a
                # replay ends them at the same moments whatever the batching
                found.extend(self.fusion.tick(event.observed_at))
                found.extend(self.fusion.step(event, now))
        await self.publish(found)

    async def _deliver(self, batch: list[Delivery]) -> None:
        if self.delivery is None:
            return
        for delivery in batch:
            alert = delivery.event
            if not isinstance(alert, Alert):
                continue
            referenced = await asyncio.to_thread(self._referenced, alert)
            await self.delivery.deliver(alert, referenced)

    def _referenced(self, alert: Alert) -> list[Alert]:
        found = (self.store.event(i) for i in alert.references)
        return [a for a in found if isinstance(a, Alert)]

    async def _health(self, batch: list[Delivery]) -> None:
        now = self.clock.now()
        found: list[AnyEvent] = []
        for delivery in batch:
            if isinstance(delivery.event, Observation):
                found.extend(self.health.step(delivery.event, now))
        await self.publish(found)

    async def _store(self, batch: list[Delivery]) -> None:
        events = [d.event for d in batch]
        await asyncio.to_thread(self.store.append_events, events)
        for listener in self._listeners:
            result = listener(events)
            if result is not None:
                await result


def _risk_status(risk: RiskLevel, now: Any) -> dict[str, Any]:
    return {
        "space_id": risk.space_id,
        "updated_at": now,
        "risk_level": risk.level.value,
        "risk_score": risk.score,
    }
