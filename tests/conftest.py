"""Factory fixtures shared by the tests: settings in a temporary folder, a fake clock, spaces."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.edge.devices import hash_token, new_token
from smartspaces.events import Device, GeoPoint, GeoPolygon, Observation, SmartSpace
from smartspaces.store import Store

T0 = datetime(2026, 3, 15, 11, 30, tzinfo=UTC)
POSTGRES_URL = os.environ.get(
    "SMARTSPACES_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


def square(space_id: str = "plaza", area_m2: float = 1000.0, **extra: object) -> SmartSpace:
    """A small square in València's old town with the given walkable area."""
    ring = (
        (-0.3766, 39.4697),
        (-0.3760, 39.4697),
        (-0.3760, 39.4701),
        (-0.3766, 39.4701),
        (-0.3766, 39.4697),
    )
    return SmartSpace(
        id=space_id,
        name=f"Test square {space_id}",
        space_type="square",
        area_m2=area_m2,
        geometry=GeoPolygon(coordinates=(ring,)),
        centroid=GeoPoint(coordinates=(-0.3763, 39.4699)),
        **extra,  # type: ignore[arg-type]
    )


def register(
    store: Store,
    device_id: str,
    space_id: str = "plaza",
    kind: str = "people_counter",
    gateway_id: str | None = None,
) -> str:
    """Register a device in the store and return its token (shown once, stored hashed)."""
    token = new_token()
    store.devices.put(
        Device(
            id=device_id,
            kind=kind,
            space_id=space_id,
            gateway_id=gateway_id,  # type: ignore[arg-type]
            token_sha256=hash_token(token),
        )
    )
    return token


def counts(
    quantity: str, value: float, at: datetime, sensor: str = "c1", space: str = "plaza"
) -> Observation:
    return Observation(
        source="test",
        space_id=space,
        sensor_id=sensor,
        quantity=quantity,
        value=value,
        observed_at=at,
        received_at=at,
        interval_s=10,
    )


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # No MQTT adapter in these tests (tests/edge runs it against real brokers).
    return Settings(store={"data_dir": tmp_path}, mqtt={"enabled": False})  # type: ignore[arg-type]


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """Opens a migrated store on 'sqlite' (a temporary file) or 'postgres' (the real server,
    in a schema of its own so tests never see each other's rows)."""
    opened: list[Store] = []
    schemas: list[str] = []

    def make(backend: str) -> Store:
        if backend == "sqlite":
            store = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        else:
            schema = private_schema()
            schemas.append(schema)
            store = Store(postgres_url(schema))
        store.migrate()
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    for schema in schemas:
        drop_schema(schema)


def private_schema() -> str:
    """A new, empty PostgreSQL schema: tests running at the same time never share tables."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq_url(), autocommit=True) as connection:
        connection.execute(f'create schema "{schema}"')
    return schema


def postgres_url(schema: str) -> str:
    """The test server's URL with ``schema`` first on the search path (PostGIS stays reachable
    in ``public``)."""
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema},public"


def drop_schema(schema: str) -> None:
    with psycopg.connect(_libpq_url(), autocommit=True) as connection:
        connection.execute(f'drop schema if exists "{schema}" cascade')


def _libpq_url() -> str:
    return POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def delete_nats_streams(prefix: str, url: str = "nats://127.0.0.1:4222") -> None:
    """Remove the JetStream streams a test made (names starting with ``prefix``)."""
    import nats

    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        for info in await jetstream.streams_info():
            if info.config.name and info.config.name.startswith(prefix):
                await jetstream.delete_stream(info.config.name)
    finally:
        await client.close()


def shared_data(*parts: str) -> Path:
    """A path under the shared real-data folder (``../shared/data``, or ``SMARTSPACES_DATA``).

    Where it is absent a developer's run skips the test, printing why; in CI (``CI`` set) the
    test fails instead, so a missing data folder never passes as green."""
    from smartspaces.config import shared_data_dir

    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        reason = f"shared data absent: {path} not found (set SMARTSPACES_DATA to its folder)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(reason)
        pytest.skip(reason)
    return path
