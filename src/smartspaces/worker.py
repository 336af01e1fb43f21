"""One worker process of a distributed deployment (``smartspaces worker --stage STAGE``).

Stages and how their workers share the work:

- ``detect``: crowd measures; the smart spaces are shared out among all running ``detect``
  workers, each space on one at a time, checkpointed per batch (``space_shards``). Add workers
  to scale; a dead worker's spaces move to the others within the lease time.
- ``fuse``, ``respond`` (with alert delivery) and ``edge`` (device health and telemetry
  integrity, plus the MQTT adapter when enabled): their rules span spaces (neighbouring
  spaces, cascades between assets), so one worker is active and the others stand by; a
  stand-by takes over, restoring the state from the store, when the active worker's lease
  lapses.
- ``store``: writes every event; stateless, so every ``store`` worker shares one durable.
- ``live``: feeds the COP's live stream of an API node (``serve --stages live``), not a worker.

Every stage acknowledges a message only after its effect is stored, and every effect has a
deterministic id, so a takeover repeats work at worst, never loses it nor duplicates an alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from datetime import UTC, datetime

import structlog

from smartspaces.bootstrap import Services, build_services
from smartspaces.clock import SystemClock
from smartspaces.config import Settings
from smartspaces.errors import ConfigError

log = structlog.get_logger(__name__)

STAGE_ROLES: dict[str, tuple[frozenset[str], str]] = {
    "detect": (frozenset({"detect"}), "sharded"),
    "fuse": (frozenset({"fuse"}), "active"),
    "respond": (frozenset({"respond", "deliver"}), "active"),
    "edge": (frozenset({"edge-health", "integrity"}), "active"),
    "store": (frozenset({"store"}), "shared"),
}
ACTIVE_KEY = "active"
EXIT_LEASE_LOST = 75  # EX_TEMPFAIL: the service manager starts it again, as a stand-by


def default_worker_id() -> str:
    """Host and process: unique while it runs, readable in the leases table."""
    return f"{socket.gethostname()}-{os.getpid()}"[:128]


class Worker:
    """Runs one stage of the pipeline until ``stop`` (or a lost lease, for an active stage)."""

    def __init__(self, settings: Settings, stage: str, worker_id: str | None = None) -> None:
        if stage not in STAGE_ROLES:
            raise ConfigError(f"unknown stage {stage!r}: one of {', '.join(STAGE_ROLES)}")
        if settings.bus.backend == "memory":
            raise ConfigError(
                "workers share a distributed bus: set bus.backend to nats or kafka "
                "(the embedded bus serves one process: run `smartspaces serve` instead)"
            )
        self.settings, self.stage = settings, stage
        self.worker_id = worker_id or default_worker_id()
        self.stages, self.role = STAGE_ROLES[stage]
        self._stop = asyncio.Event()
        self.active = False

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        """Work until stopped: 0 on a clean stop, ``EXIT_LEASE_LOST`` if the lease was lost."""
        services = build_services(
            self.settings, SystemClock(), stages=self.stages, worker_id=self.worker_id
        )
        try:
            log.info("worker_started", stage=self.stage, worker=self.worker_id, role=self.role)
            if self.role != "active":
                await services.runtime.start()
                self.active = True
                await self._stop.wait()
                return 0
            return await self._active_standby(services)
        finally:
            await services.close()
            log.info("worker_stopped", stage=self.stage, worker=self.worker_id)

    async def _active_standby(self, services: Services) -> int:
        """Hold the stage's one ``active`` lease, or wait to take it over."""
        settings = self.settings.workers
        leases = services.store.leases
        held_until = 0.0
        edge = None
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    won = await asyncio.to_thread(
                        leases.hold, self.stage, [ACTIVE_KEY], self.worker_id,
                        datetime.now(UTC), settings.lease_s,
                    )  # fmt: skip
                except Exception:
                    log.warning("leases_unreachable", stage=self.stage, worker=self.worker_id)
                    won = set()
                    if self.active and time.monotonic() < held_until:
                        won = {ACTIVE_KEY}  # still ours until it lapses
                if ACTIVE_KEY in won:
                    held_until = started + settings.lease_s
                    if not self.active:
                        await services.runtime.start()  # restores the state from the store
                        if self.stage == "edge":
                            from smartspaces.edge_node import EdgeNode

                            edge = EdgeNode(services)
                            await edge.start()
                        self.active = True
                        log.info("worker_active", stage=self.stage, worker=self.worker_id)
                elif self.active:
                    log.warning("lease_lost", stage=self.stage, worker=self.worker_id)
                    return EXIT_LEASE_LOST
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(settings.renew_s):
                        await self._stop.wait()
            return 0
        finally:
            if edge is not None:
                await edge.stop()
            if self.active:
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(
                        leases.release, self.stage, [ACTIVE_KEY], self.worker_id
                    )


async def run_worker(settings: Settings, stage: str, worker_id: str | None = None) -> int:
    """Run a worker until SIGINT or SIGTERM; the exit code."""
    worker = Worker(settings, stage, worker_id)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    return await worker.run()
