"""Risk in the running pipeline: outages reach the store as asset risks, alerts stay per space."""

from __future__ import annotations

from smartspaces.bootstrap import build_services
from smartspaces.city import CityModel
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.events import Alert, AnyEvent, Level, RiskLevel, SmartSpace
from smartspaces.respond.risk import RiskAssessor
from tests.conftest import T0
from tests.respond.risk.conftest import event, infra


async def test_an_outage_flows_through_the_pipeline(
    settings: Settings, spaces: dict[str, SmartSpace], town: CityModel
) -> None:
    services = build_services(settings, SimulatedClock(T0), spaces=list(spaces.values()))
    # the assessor the composition root builds once RiskSettings.city_model names this model
    services.runtime.risk = RiskAssessor(spaces, town)
    stored: list[AnyEvent] = []
    services.runtime.add_listener(stored.extend)
    await services.runtime.start()
    # reported for the street, so the square's own level comes from its infrastructure only
    await services.runtime.publish([infra("down", "substation-s", 0, space="calle")])
    await services.runtime.drain()
    # 91 s later anything at all moves time on: the loss has reached the camera by then
    await services.runtime.publish([event(Level.NORMAL, 91, kind="video.zone_density")])
    await services.runtime.drain()
    await services.close()

    assets = [
        (e.asset_id, e.level.value) for e in stored if isinstance(e, RiskLevel) and e.asset_id
    ]
    assert assets == [
        ("substation-s", "critical"),
        ("hospital-h", "amber"),
        ("metro-m", "red"),
        ("camera-c", "amber"),
    ]
    alerts = [(a.space_id, a.level.value) for a in stored if isinstance(a, Alert)]
    assert alerts == [("calle", "red"), ("plaza", "amber")]  # none raised on an asset's risk
    assert services.store.status()["plaza"]["risk_level"] == "amber"
