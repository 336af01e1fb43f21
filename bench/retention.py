"""Retention of observations on PostgreSQL: dropping whole daily partitions against deleting the
same rows in batches, in the same run, on identical data (needs the PostgreSQL server).

- store.retention_drop_ms: one retention run that expires ``DAYS`` days of observations by
  dropping their partitions (what the store does). Peer: the same run over an identical copy with
  ``observations_drop_partitions`` off, deleting the rows in batches of ``batch_rows``.

Both runs also ready the partitions ahead, as every run does. Run alone with
``python bench/retention.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from smartspaces.config import RetentionSettings
from smartspaces.events import AnyEvent, Observation
from smartspaces.store import Store
from smartspaces.store.partitions import maintain
from smartspaces.store.retention import apply_retention

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
KEPT_DAYS = 2  # days after the expired ones, still within the period
URL = os.environ.get("SMARTSPACES_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test")


def day_of_readings(day: int, per_day: int) -> list[AnyEvent]:
    step = DAY / per_day
    return [
        Observation(
            source="bench", space_id=f"space-{i % 50}", sensor_id=f"counter-{i % 400}",
            quantity="entries_count", value=float(i % 30), interval_s=10.0,
            observed_at=T0 + day * DAY + i * step, received_at=T0,
        )
        for i in range(per_day)
    ]  # fmt: skip


def measure(days: int, per_day: int) -> tuple[float, float, int]:
    """Milliseconds to drop, to delete, and the rows each run removed."""
    libpq = URL.replace("postgresql+psycopg://", "postgresql://", 1)
    schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(libpq, autocommit=True) as connection:
        for schema in schemas:
            connection.execute(f'create schema "{schema}"')
    stores = [Store(f"{URL}?options=-csearch_path%3D{schema},public") for schema in schemas]
    try:
        total = days + KEPT_DAYS
        for store in stores:
            store.migrate()
            maintain(store.engine, DAY, total, T0, T0)  # every day its partition, as in service
        for day in range(total):  # the real write path, then an identical copy for the peer
            stores[0].append_events(day_of_readings(day, per_day))
        with stores[1].engine.begin() as connection:
            connection.exec_driver_sql(
                f'insert into observations select * from "{schemas[0]}".observations'  # noqa: S608
            )
        now = T0 + (days + 7) * DAY  # the first ``days`` days are past the 7 days kept
        timings, removed = [], []
        for store, drop in zip(stores, (True, False), strict=True):
            settings = RetentionSettings(observations_drop_partitions=drop, max_batches=10_000)
            with store.engine.connect() as connection:  # fresh statistics for both, alike
                connection.exec_driver_sql("analyze observations")
            started = time.perf_counter()
            report = apply_retention(store, settings, now)
            timings.append((time.perf_counter() - started) * 1000)
            removed.append(report.counts["observations"])
        if removed[0] != removed[1] or removed[0] != days * per_day:
            raise SystemExit(f"retention benchmark: removed {removed}, expected {days * per_day}")
        return timings[0], timings[1], removed[0]
    finally:
        for store in stores:
            store.close()
        with psycopg.connect(libpq, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'drop schema if exists "{schema}" cascade')


def run(quick: bool) -> list[dict[str, Any]]:
    """The figures, as bench/run.py reports them; the PostgreSQL server must be running."""
    days, per_day = (3, 10_000) if quick else (7, 40_000)
    drop_ms, delete_ms, rows = measure(days, per_day)
    return [
        {
            "name": "store.retention_drop_ms",
            "value": round(drop_ms, 1),
            "unit": "ms",
            "days": days,
            "rows": rows,
            "note": f"{days} daily partitions of {per_day:,} observations expired, "
            f"{KEPT_DAYS} days kept; PostgreSQL on this machine",
            "peer": "store.retention_delete_ms (the same rows deleted in batches, same run)",
            "peer_value": round(delete_ms, 1),
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
