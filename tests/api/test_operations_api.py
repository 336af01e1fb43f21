"""The situation-picture routes on the demo's real spaces and city model: assets and what-if,
evacuation advice, responder routes over the real street graph, situations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.scenarios.valencia.scenario import shipped_layout
from tests.api.conftest import admin_key

SQUARE = "plaza-ayuntamiento"
XATIVA = {"from_lon": -0.3773, "from_lat": 39.4666}


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    # an empty store: the app seeds the València spaces, so the shipped city model applies
    key = admin_key(settings)
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as client:
        yield client


def test_assets_are_points_with_their_live_state(api: TestClient) -> None:
    answer = api.get("/api/v1/assets")
    assert answer.status_code == 200
    features = {f["id"]: f for f in answer.json()["features"]}
    substation = features["substation-ciutat-vella"]
    assert substation["geometry"]["type"] == "Point"
    assert substation["properties"]["kind"] == "substation"
    assert substation["properties"]["state"] == "up"
    # the dependency graph shows: something is fed by the old town's substation
    fed = [
        f for f in features.values() if "substation-ciutat-vella" in f["properties"]["suppliers"]
    ]
    assert fed


def test_what_if_a_substation_fails_lists_what_follows_in_order(api: TestClient) -> None:
    answer = api.get("/api/v1/assets/substation-ciutat-vella/what-if")
    assert answer.status_code == 200
    timeline = answer.json()
    assert timeline[0]["id"] == "substation-ciutat-vella" and timeline[0]["after_s"] == 0
    assert [c["after_s"] for c in timeline] == sorted(c["after_s"] for c in timeline)
    assert any(c["kind"] == "space" and c["id"] == SQUARE for c in timeline)
    assert all(c["why"] for c in timeline)
    missing = api.get("/api/v1/assets/no-such-asset/what-if")
    assert missing.status_code == 404 and "no-such-asset" in missing.text


def test_evacuation_ranks_the_square_exits_around_a_hazard(api: TestClient) -> None:
    calm = api.get(f"/api/v1/spaces/{SQUARE}/evacuation").json()
    assert len(calm["exits"]) == 6 and all(e["usable"] for e in calm["exits"])
    widest = max(calm["exits"], key=lambda e: e["width_m"])
    # a hazard at the widest exit: that exit is avoided, the others stay usable
    counter = next(c for c in shipped_layout().counters if c.street_space_id in widest["id"])
    lon, lat = counter.location.coordinates
    hazard = api.get(
        f"/api/v1/spaces/{SQUARE}/evacuation",
        params={"hazard_lon": lon, "hazard_lat": lat, "hazard_radius_m": 10},
    ).json()
    unusable = [e["id"] for e in hazard["exits"] if not e["usable"]]
    assert widest["id"] in unusable and len(unusable) < 6
    assert hazard["advice"]


@pytest.mark.realdata
def test_a_responder_route_reaches_the_square_and_can_avoid_a_street(api: TestClient) -> None:
    route = api.get(f"/api/v1/spaces/{SQUARE}/route", params=XATIVA)
    assert route.status_code == 200, route.text
    body = route.json()
    assert body["geometry"]["type"] == "LineString" and len(body["geometry"]["coordinates"]) > 2
    assert 300 < body["properties"]["length_m"] < 2000
    around = api.get(
        f"/api/v1/spaces/{SQUARE}/route",
        params={**XATIVA, "avoid": "avenida-marques-de-sotelo"},
    )
    assert around.status_code in (200, 404)
    if around.status_code == 200:
        assert around.json()["properties"]["avoided"] == ["avenida-marques-de-sotelo"]


@pytest.mark.parametrize(
    "params",
    [{"from_lon": 200, "from_lat": 39.47}, {"from_lon": -0.37}, {**XATIVA, "mode": "plane"}],
)
def test_bad_route_requests_are_422(api: TestClient, params: dict[str, object]) -> None:
    assert api.get(f"/api/v1/spaces/{SQUARE}/route", params=params).status_code == 422


def test_unknown_spaces_are_404(api: TestClient) -> None:
    assert api.get("/api/v1/spaces/nowhere/evacuation").status_code == 404
    assert api.get("/api/v1/spaces/nowhere/route", params=XATIVA).status_code == 404


def test_situations_start_empty_and_need_credentials(api: TestClient) -> None:
    assert api.get("/api/v1/situations").json() == []
    forged = api.get("/api/v1/situations", headers={"X-API-Key": "not-a-key"})
    assert forged.status_code == 401
