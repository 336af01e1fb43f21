"""The running pipeline: stage workers wired to the bus and the store (a composition root).

Three durable consumers, each acknowledging only after its work is done (at-least-once; every
write is idempotent thanks to deterministic ids):

- ``detect``  observations -> crowd stage (density, rise, forecast) -> detections (+ status)
- ``fuse``    detections and device-health readings -> fusion rules -> situations
- ``respond`` detections and situations -> risk (spaces, assets, cascades) -> alert policy
- ``deliver`` alerts -> webhooks, MQTT, TAK (only when targets are configured)
- ``store``   every event -> the store, then to live listeners (WebSocket, CLI)
- ``edge-health`` observations -> device clock skew; with the timer, silence and flapping
- ``integrity`` observations -> telemetry integrity, correlated sensors, baselines (cyber)
- ``live``    every event -> live listeners only (an API node of a distributed deployment)

One process runs them all by default (the embedded deployment). ``stages`` picks some of them
for one worker of a distributed deployment (``smartspaces worker``); given a ``worker_id``, the
``detect`` stage shares the spaces out among the workers that run it (``space_shards``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from smartspaces.bus.base import Bus, Delivery, Subscription
from smartspaces.city import CityModel
from smartspaces.clock import Clock
from smartspaces.config import Settings
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.detect.cyber.telemetry_stage import TelemetryIntegrityStage
from smartspaces.detect.fusion import FusionEngine
from smartspaces.edge.health import DeviceHealthMonitor
from smartspaces.events import (
    Alert,
    AnyEvent,
    Detection,
    IncidentStateChanged,
    Level,
    Observation,
    RiskLevel,
    Situation,
    SmartSpace,
)
from smartspaces.respond.alerts.delivery.dispatcher import AlertDelivery
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.risk.assessor import RiskAssessor
from smartspaces.respond_journal import STAGE as STAGE_RESPOND
from smartspaces.respond_journal import RespondJournal
from smartspaces.space_shards import ShardedSubscription
from smartspaces.store import Store
from smartspaces.store.retention import RetentionTimer, apply_retention

log = structlog.get_logger(__name__)

Listener = Callable[[Sequence[AnyEvent]], Awaitable[None] | None]
BATCH = 512
TICK_S = 1.0
STAGES = ("detect", "fuse", "respond", "store", "edge-health", "integrity", "deliver", "live")
EMBEDDED = frozenset(STAGES) - {"live"}  # the store worker feeds the listeners there


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
        stages: Collection[str] | None = None,
        worker_id: str | None = None,
    ) -> None:
        chosen = EMBEDDED if stages is None else frozenset(stages)
        if unknown := sorted(chosen - set(STAGES)):
            raise ValueError(f"unknown stages {unknown}: choose among {', '.join(STAGES)}")
        self.stages, self.worker_id = chosen, worker_id
        self._workers_settings = settings.workers
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
        self.integrity = TelemetryIntegrityStage(settings.integrity)
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
            _Worker("integrity", ("ss.observation.>",), self._integrity),
            _Worker(_live_durable(worker_id), ("ss.>",), self._live),
        ]
        if delivery is not None and delivery.configured:
            self._workers.append(_Worker("deliver", ("ss.alert.>",), self._deliver))
        self._workers = [w for w in self._workers if _stage_of(w.name) in chosen]
        self.shards: ShardedSubscription | None = None
        # distributed respond workers checkpoint what they applied (see respond_journal)
        distributed = worker_id is not None and "respond" in chosen
        self._journal = RespondJournal() if distributed else None

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
            if worker.name == "detect" and self.worker_id is not None:
                worker.subscription = self.shards = ShardedSubscription(
                    self.bus, self.store.leases, "detect", self.worker_id,
                    [s.id for s in self._spaces], lambda space: [f"ss.observation.{space}"],
                    self._restore_crowd, self._workers_settings,
                )  # fmt: skip
            else:
                worker.subscription = await self.bus.subscribe(worker.name, worker.subjects)
            worker.task = asyncio.create_task(self._run(worker), name=f"worker-{worker.name}")
        if self._timers:
            self._timer = asyncio.create_task(self._tick(), name="timer")

    async def _tick(self) -> None:
        # Time-driven alerts (escalation of unacknowledged alerts, the end of a suppression
        # window) come due without any new detection: look once per TICK_S of the clock. Each
        # part runs where its stage runs.
        stages = self.stages
        while True:
            await asyncio.sleep(TICK_S)
            try:
                now = self.clock.now()
                if (
                    "store" in stages
                    and self._retention.due(now)
                    and (self._retention_run is None or self._retention_run.done())
                ):  # a task of its own: a long first run never holds up the alerts' timer
                    self._retention_run = asyncio.create_task(self._retain(now), name="retention")
                found: list[AnyEvent] = []
                if "fuse" in stages:
                    found += self.fusion.tick(now)
                if "respond" in stages:
                    # cascades come due: assets, then the spaces they serve
                    risks = self.risk.tick(now)
                    spaces = [r for r in risks if r.asset_id is None]
                    alerts = [a for r in spaces if (a := self.alerts.step(r, r.observed_at))]
                    found += [*risks, *alerts, *self.alerts.tick(now)]
                    await asyncio.to_thread(
                        self.store.update_status, [_risk_status(r, now) for r in spaces]
                    )
                if "edge-health" in stages:
                    found += self.health.tick(now)
                await self.publish(found)
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
        alerts = [a for a in self.store.latest_per_space("alert") if isinstance(a, Alert)]
        evidence: list[Detection | Situation] = [*detections, *situations]
        if self._journal is not None:
            # a stand-by taking over: the spaces the stage checkpointed start from what it had
            # applied, not from the store's newest (which may be ahead of the bus position)
            saved = self.store.leases.checkpoints(STAGE_RESPOND, [s.id for s in self._spaces])
            self._journal.load(saved)
            evidence = [e for e in evidence if e.space_id not in saved]
            evidence += self._journal.evidence(saved)
            alerts = [a for a in alerts if a.space_id not in saved]
            alerts += self._journal.alerts(saved)
        self.risk.restore(evidence)
        self.alerts.restore(alerts, self.store.incidents.acknowledged_alert_ids())
        if "integrity" in self.stages:
            # the series' windows and baselines go on, and readings the bus delivers again
            # after the restart (counted from 1 by the embedded bus) are recognised
            limit = self.integrity.restore_limit
            self.integrity.restore(
                o for o in self.store.recent("observation", limit) if isinstance(o, Observation)
            )

    def _restore_crowd(self, space_id: str, state: dict[str, Any] | None) -> None:
        """Back to a space's checkpoint: taken over from another worker, or a batch failed."""
        if state is not None and "occupancy_persons" in state:
            self.crowd.restore(space_id, state["occupancy_persons"], Level(state["level"]))

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
        if self.shards is not None:
            await self.shards.close()
            self.shards = None

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
        checkpoints: list[tuple[str, int, Any]] = []
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
            if self.shards is not None:
                last, recent = self.shards.checkpoint(space_id)
                occupancy = self.crowd.occupancy(space_id)
                saved: dict[str, Any] = {
                    "recent": recent,
                    "level": self.crowd.level(space_id).value,
                }
                if occupancy is not None:
                    saved["occupancy_persons"] = occupancy
                checkpoints.append((space_id, last, saved))
        await asyncio.to_thread(self.store.save_progress, status, "detect", checkpoints, now)

    async def _respond(self, batch: list[Delivery]) -> None:
        now = self.clock.now()
        found: list[AnyEvent] = []
        status: list[dict[str, Any]] = []
        journal, touched = self._journal, set()
        for delivery in batch:
            event = delivery.event
            if isinstance(event, IncidentStateChanged):
                self.alerts.observe(event)  # an acknowledged alert is not escalated
                continue
            if not isinstance(event, Detection | Situation):
                continue
            if journal is not None and journal.superseded(event):
                continue  # delivered again after a takeover, behind newer evidence
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
            if journal is not None:
                journal.applied(event)
                touched.add(event.space_id)
        await self.publish(found)
        checkpoints: list[tuple[str, int, Any]] = []
        if journal is not None:
            for issued in found:
                if isinstance(issued, Alert):
                    journal.alerted(issued)
                    touched.add(issued.space_id)
            checkpoints = [(s, 0, journal.state(s)) for s in sorted(touched)]
        await asyncio.to_thread(self.store.save_progress, status, STAGE_RESPOND, checkpoints, now)

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

    async def _integrity(self, batch: list[Delivery]) -> None:
        # a reading the bus delivers again gives the detections it gave the first time (same
        # ids: publishing them again is a no-op), never a replay alarm
        now = self.clock.now()
        found: list[AnyEvent] = []
        for delivery in batch:
            if isinstance(delivery.event, Observation):
                redelivered = delivery.num_delivered > 1
                found.extend(self.integrity.step(delivery.event, now, redelivered))
        await self.publish(found)

    async def _live(self, batch: list[Delivery]) -> None:
        await self._tell_listeners([d.event for d in batch])

    async def _tell_listeners(self, events: list[AnyEvent]) -> None:
        for listener in self._listeners:
            result = listener(events)
            if result is not None:
                await result

    async def _store(self, batch: list[Delivery]) -> None:
        events = [d.event for d in batch]
        await asyncio.to_thread(self.store.append_events, events)
        await self._tell_listeners(events)


def _live_durable(worker_id: str | None) -> str:
    """The live feed's durable: one per API node (by worker id, else host name)."""
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", worker_id or socket.gethostname())
    return f"live-{name}"[:64]


def _stage_of(worker: str) -> str:
    return "live" if worker.startswith("live-") else worker


def _risk_status(risk: RiskLevel, now: Any) -> dict[str, Any]:
    return {
        "space_id": risk.space_id,
        "updated_at": now,
        "risk_level": risk.level.value,
        "risk_score": risk.score,
    }
