"""`bus.backend` chooses the engine the whole pipeline runs on: NATS JetStream here, the real
server on 127.0.0.1:4222 (`make services` starts it)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from smartspaces.bootstrap import build_services
from smartspaces.bus.lazy import LazyBus
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.events import Observation
from tests.conftest import T0, delete_nats_streams, square


async def test_the_pipeline_runs_on_nats_when_the_settings_say_so(tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]  # streams of their own: nothing shared with other tests
    settings = Settings(
        store={"data_dir": tmp_path},  # type: ignore[arg-type]
        mqtt={"enabled": False},  # type: ignore[arg-type]
        bus={"backend": "nats"},  # type: ignore[arg-type]
        nats={"stream_prefix": f"T{run}", "subject_prefix": f"t{run}"},  # type: ignore[arg-type]
    )
    services = build_services(settings, SimulatedClock(T0), spaces=[square("plaza", 100.0)])
    assert isinstance(services.bus, LazyBus)
    readings = [
        Observation(source="cam", space_id="plaza", observed_at=T0 + timedelta(seconds=10 * i),
                    received_at=T0, sensor_id="cam", quantity="occupancy_persons", value=500)
        for i in range(3)
    ]  # fmt: skip
    try:
        await services.runtime.start()
        await services.runtime.publish(readings)
        await services.runtime.drain(30)
        assert services.store.count("observation") == 3
        assert services.store.count("alert") == 1  # 5 persons/m2: critical, one alert
    finally:
        await services.close()
        await delete_nats_streams(f"T{run}")
