"""The shipped València model loads and fits the demo's real spaces (valencia-spaces.geojson)."""

from __future__ import annotations

from importlib import resources

from smartspaces.city import load_city_model
from smartspaces.events import SmartSpace
from smartspaces.scenarios.valencia.city import shipped_city_text, valencia_city_model
from smartspaces.scenarios.valencia.scenario import shipped_layout


def test_the_shipped_model_validates_against_the_real_spaces(
    valencia_spaces: list[SmartSpace],
) -> None:
    model = valencia_city_model(valencia_spaces)
    space_ids = {s.id for s in valencia_spaces}
    served = set().union(*model.asset_spaces().values())
    assert served == space_ids  # every demo space is served by something
    kinds = set(model.asset_kinds().values())
    assert {"substation", "telecom_node", "metro_station", "hospital", "traffic_control"} <= kinds
    assert {"camera", "sensor", "water"} <= kinds
    assert {"metro-xativa", "metro-colon", "metro-angel-guimera"} <= set(model.assets)
    assert model.assets["hospital-clinic"].backup_s["power"] == 8 * 3600
    assert "ILLUSTRATIVE, NOT THE REAL GRID" in shipped_city_text()


def test_cameras_and_counters_are_the_layouts_own(valencia_spaces: list[SmartSpace]) -> None:
    # same ids and places as the scenario's devices, so fusion can tie their events to assets
    model = valencia_city_model(valencia_spaces)
    layout = shipped_layout()
    for device in (*layout.cameras, *layout.counters):
        asset = model.assets[device.id]
        assert asset.location.coordinates == device.location.coordinates
        assert device.space_id in asset.serves


def test_a_substation_reaches_the_square_through_its_dependents(
    valencia_spaces: list[SmartSpace],
) -> None:
    model = valencia_city_model(valencia_spaces)
    spaces = model.asset_spaces()
    assert spaces["substation-ciutat-vella"] == {s.id for s in valencia_spaces}
    assert "plaza-ayuntamiento" in spaces["substation-pla-del-real"]  # via the hospital
    assert model.main_space["substation-ciutat-vella"] == "plaza-ayuntamiento"
    assert set(model.dependents("metro-angel-guimera")) == {"metro-xativa", "metro-colon"}


def test_the_file_loads_by_path_too(valencia_spaces: list[SmartSpace]) -> None:
    files = resources.files("smartspaces.scenarios.valencia").joinpath("city.yaml")
    with resources.as_file(files) as path:
        model = load_city_model(path, valencia_spaces)
    assert model.name == "valencia-old-town" and len(model.assets) == 25
