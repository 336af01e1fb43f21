"""What if an asset failed: the timeline on the shipped València model, the same as live."""

from __future__ import annotations

import pytest

from smartspaces.city import CityModel
from smartspaces.events import SmartSpace
from smartspaces.respond.risk import RiskAssessor, UnknownAsset, what_if
from smartspaces.scenarios.valencia.city import valencia_city_model
from tests.respond.risk.conftest import at, infra


@pytest.fixture(scope="module")
def valencia() -> CityModel:
    return valencia_city_model()


def test_losing_the_old_town_substation(valencia: CityModel) -> None:
    timeline = what_if(valencia, "substation-ciutat-vella", at(0))
    assert [c.at for c in timeline] == sorted(c.at for c in timeline)
    first = {(c.id, c.state): c.after_s for c in timeline if c.kind == "asset"}
    assert first[("substation-ciutat-vella", "down")] == 0
    assert first[("lighting-plaza", "down")] == 0
    assert first[("metro-colon", "down")] == 30
    assert first[("traffic-control-ajuntament", "degraded")] == 0  # on its UPS
    assert first[("traffic-control-ajuntament", "down")] == 1800
    assert first[("counter-sangre", "down")] == 3600  # the gateway's backup runs out
    assert first[("telecom-exchange-ajuntament", "down")] == 4 * 3600
    assert first[("hospital-clinic", "degraded")] == 4 * 3600  # its lines, not its power
    # Xàtiva keeps its Russafa feed: degraded, not down
    assert ("metro-xativa", "down") not in first and ("metro-xativa", "degraded") in first
    square = [c for c in timeline if c.kind == "space" and c.id == "plaza-ayuntamiento"]
    colon = next(c for c in square if c.asset_id == "metro-colon")
    assert colon.why.startswith("Metro Colón, which serves it, is down after 30 s: lost power")


def test_an_asset_nothing_depends_on_affects_only_its_spaces(valencia: CityModel) -> None:
    timeline = what_if(valencia, "camera-sangre", at(0))
    assert [(c.kind, c.id) for c in timeline] == [
        ("asset", "camera-sangre"),
        ("space", "calle-sangre"),
    ]


def test_an_unknown_asset_is_refused(valencia: CityModel) -> None:
    with pytest.raises(UnknownAsset, match="unknown asset 'substation-atlantis'"):
        what_if(valencia, "substation-atlantis", at(0))


def test_what_if_matches_the_live_cascade(valencia: CityModel) -> None:
    spaces: dict[str, SmartSpace] = {}
    live = RiskAssessor(spaces, valencia)
    found = live.step(infra("down", "substation-russafa", 0), at(0))
    found += live.tick(at(48 * 3600))
    seen = [(r.asset_id, r.observed_at) for r in found if r.asset_id is not None]
    planned = [
        (c.id, c.at) for c in what_if(valencia, "substation-russafa", at(0)) if c.kind == "asset"
    ]
    assert seen == planned
