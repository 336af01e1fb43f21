"""The composition root: builds the store, the bus, the spaces and the runtime from settings."""

from __future__ import annotations

import gc
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from smartspaces.alert_delivery import build_alert_delivery
from smartspaces.bus.base import Bus
from smartspaces.bus.lazy import LazyBus
from smartspaces.bus.memory import MemoryBus
from smartspaces.city import CityModel, CityModelError, load_city_model
from smartspaces.clock import Clock
from smartspaces.config import Settings
from smartspaces.edge.analytics import RateLimiter
from smartspaces.edge.ngsild.schemas import ModelSchemas
from smartspaces.events import SmartSpace
from smartspaces.runtime import Runtime
from smartspaces.store import Store

log = structlog.get_logger(__name__)


@dataclass
class Services:
    """Everything a running process needs, built once and passed down."""

    settings: Settings
    clock: Clock
    store: Store
    bus: Bus
    spaces: tuple[SmartSpace, ...]
    runtime: Runtime
    schemas: ModelSchemas
    limiter: RateLimiter

    async def close(self) -> None:
        await self.runtime.stop()
        if self.runtime.delivery is not None:
            await self.runtime.delivery.close()
        await self.bus.close()
        self.store.close()


def tune_garbage_collector() -> None:
    """Make CPython's cyclic garbage collector cheap for an event pipeline.

    Every event allocates a few container objects; with the default thresholds (700 allocations)
    the collector runs constantly and its older generations re-scan every long-lived object
    (settings, schemas, spaces): measured, that doubles the cost of an observation. Freezing what
    exists after start-up takes those objects out of every scan, and a larger first threshold
    lets short-lived events die by reference counting first. ``make bench`` shows both figures.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def default_spaces(settings: Settings) -> tuple[SmartSpace, ...]:
    """The embedded default spaces: the València scenario's square and access streets."""
    from smartspaces.scenarios.valencia.scenario import ValenciaScenario

    return ValenciaScenario(settings.scenario).spaces


def load_city(settings: Settings, spaces: Sequence[SmartSpace]) -> CityModel | None:
    """The city model of ``settings.risk.city_model``; without one, the shipped València model
    when the València square is among the spaces (the demo), else none (no cascades)."""
    if settings.risk.city_model is not None:
        return load_city_model(settings.risk.city_model, spaces)
    from smartspaces.scenarios.valencia.city import valencia_city_model
    from smartspaces.scenarios.valencia.layout import SQUARE_ID

    if not any(s.id == SQUARE_ID for s in spaces):
        return None
    try:
        return valencia_city_model(spaces)
    except CityModelError as error:  # other spaces than the scenario's: no shipped model
        log.warning("city_model_not_used", reason=str(error)[:300])
        return None


def open_store(settings: Settings, spaces: Sequence[SmartSpace] | None = None) -> Store:
    """Open the store (migrating it); put ``spaces``, or the default ones if it has none."""
    store = Store(settings.store.database_url())
    store.migrate()
    if spaces is not None:
        store.put_spaces(spaces)
    elif not store.spaces():
        try:
            store.put_spaces(default_spaces(settings))
        except IntegrityError:  # another worker starting at the same time seeded them first
            log.info("spaces_seeded_elsewhere")
    return store


def build_services(
    settings: Settings,
    clock: Clock,
    spaces: Sequence[SmartSpace] | None = None,
    timers: bool = True,
    stages: Collection[str] | None = None,
    worker_id: str | None = None,
) -> Services:
    """Open the store (migrating it), the bus and the runtime; seed spaces if the store has none.

    ``stages`` and ``worker_id`` make the runtime one worker of a distributed deployment."""
    store = open_store(settings, spaces)
    known = tuple(store.spaces())
    if settings.bus.backend == "kafka":
        from smartspaces.bus.kafka import KafkaBus  # aiokafka loads only where Kafka is chosen

        bus: Bus = KafkaBus(settings.kafka)  # connects on first use
    elif settings.bus.backend == "nats":
        from smartspaces.bus.nats import NatsBus

        nats = settings.nats
        bus = LazyBus(lambda: NatsBus.connect(nats))  # connects on first use
    else:
        bus = MemoryBus(settings.bus, settings.journal_path())
    city = load_city(settings, known)
    delivery = build_alert_delivery(settings, store, {s.id: s for s in known}, clock)
    runtime = Runtime(
        settings, bus, store, known, clock, timers=timers, city=city, delivery=delivery,
        stages=stages, worker_id=worker_id,
    )  # fmt: skip
    tune_garbage_collector()
    schemas = ModelSchemas(settings.edge.schema_dir())
    limiter = RateLimiter(settings.edge.rate_limit_per_s, settings.edge.rate_burst)
    return Services(settings, clock, store, bus, known, runtime, schemas, limiter)
