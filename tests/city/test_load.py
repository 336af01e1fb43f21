"""Loading a city model: a good one is indexed; every bad one is refused, naming the asset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smartspaces.city import (
    DEFAULT_REACH_M,
    CityModel,
    CityModelError,
    load_city_model,
    parse_city_geojson,
    parse_city_yaml,
)
from smartspaces.events import SmartSpace
from tests.city.conftest import SMALL


def refused(text: str, spaces: list[SmartSpace]) -> str:
    with pytest.raises(CityModelError) as caught:
        parse_city_yaml(text, spaces, source="bad.yaml")
    assert str(caught.value).startswith("bad.yaml: ")
    return str(caught.value)


def test_a_small_model_loads_with_its_graph_and_helpers(plaza: list[SmartSpace]) -> None:
    model = parse_city_yaml(SMALL, plaza)
    assert model.name == "test-town"
    assert model.order == ("substation-a", "metro-a", "camera-a")  # suppliers first
    assert sorted(model.graph.edges) == [("metro-a", "camera-a"), ("substation-a", "metro-a")]
    # the substation serves no space itself, but the square through the station it feeds
    assert model.asset_spaces() == {
        "substation-a": frozenset({"plaza"}),
        "metro-a": frozenset({"plaza"}),
        "camera-a": frozenset({"plaza"}),
    }
    assert model.asset_kinds()["metro-a"] == "metro_station"
    assert model.main_space["substation-a"] == "plaza"
    assert model.serving("plaza") == ("metro-a", "camera-a")
    assert model.dependents("substation-a") == ("metro-a",)
    camera_feed = model.feeds["camera-a"][0]
    assert (camera_feed.service, camera_feed.suppliers) == ("data", (("metro-a", 30.0),))


def test_backup_of_an_asset_and_of_a_dependency_take_the_larger(plaza: list[SmartSpace]) -> None:
    text = SMALL.replace("criticality: 4}", "criticality: 4, backup_s: {power: 600}}").replace(
        "delay_s: 60}", "delay_s: 60, backup_s: 120}"
    )
    model = parse_city_yaml(text, plaza)
    assert model.assets["metro-a"].backup_s == {"power": 600.0}
    assert model.feeds["metro-a"][0].backup_s == 600.0


def test_yaml_syntax_error_says_where(plaza: list[SmartSpace]) -> None:
    message = refused(SMALL.replace("kind: camera,", "kind: [camera,"), plaza)
    assert "not valid YAML at line" in message


def test_a_dependency_cycle_is_named(plaza: list[SmartSpace]) -> None:
    text = SMALL + "  - {supplier: camera-a, dependent: substation-a, service: data}\n"
    message = refused(text, plaza)
    assert "dependency cycle: " in message
    cycle = message.split("dependency cycle: ")[1].split(" -> ")
    assert cycle[0] == cycle[-1] and set(cycle) == {"substation-a", "metro-a", "camera-a"}


def test_an_asset_depending_on_itself_is_a_cycle(plaza: list[SmartSpace]) -> None:
    text = SMALL + "  - {supplier: metro-a, dependent: metro-a, service: power}\n"
    assert "dependency cycle: metro-a -> metro-a" in refused(text, plaza)


def test_unknown_asset_in_a_dependency(plaza: list[SmartSpace]) -> None:
    text = SMALL + "  - {supplier: substation-b, dependent: camera-a, service: power}\n"
    message = refused(text, plaza)
    assert "dependency substation-b -> camera-a (power): unknown supplier asset 'substation-b'" in (
        message
    )


def test_unknown_space(plaza: list[SmartSpace]) -> None:
    message = refused(SMALL.replace("serves: [plaza], crit", "serves: [plaza-mayor], crit"), plaza)
    assert "asset 'metro-a' serves unknown space 'plaza-mayor'" in message


def test_an_asset_far_from_the_space_it_serves(plaza: list[SmartSpace]) -> None:
    # longitude and latitude swapped: the classic mistake, thousands of km away
    message = refused(SMALL.replace("[-0.3762, 39.4700]", "[39.4700, -0.3762]"), plaza)
    assert "asset 'camera-a' is" in message and "km from space 'plaza' it serves" in message
    assert "(location is lon, lat)" in message


def test_an_asset_serving_nothing_must_be_near_some_space(plaza: list[SmartSpace]) -> None:
    # 700 m east of the square: beyond the default reach of 500 m
    message = refused(SMALL.replace("[-0.3740, 39.4699]", "[-0.36785, 39.4699]"), plaza)
    assert "asset 'substation-a' serves no space directly and is 7" in message
    assert "701 m from the nearest known space 'plaza'" in message
    # it may reach farther when it says so (a substation feeding the square from afar)
    far = SMALL.replace(
        "location: [-0.3740, 39.4699]}", "location: [-0.36785, 39.4699], reach_m: 800}"
    )
    assert parse_city_yaml(far, plaza).assets["substation-a"].reach_m == 800


def test_reach_tolerance_in_metres(plaza: list[SmartSpace]) -> None:
    # the camera serves the square from about 300 m east: inside the default reach of 500 m
    text = SMALL.replace("[-0.3762, 39.4700]", "[-0.3725, 39.4700]")
    assert DEFAULT_REACH_M == 500
    parse_city_yaml(text, plaza)
    # the whole model can be held tighter
    message = refused("reach_m: 200\n" + text, plaza)
    assert "asset 'camera-a' is 30" in message and "beyond its reach of 200 m" in message


def test_negative_delay_and_other_bad_numbers(plaza: list[SmartSpace]) -> None:
    message = refused(SMALL.replace("delay_s: 60", "delay_s: -5"), plaza)
    assert "dependency #1 (substation-a -> metro-a): delay_s: " in message
    assert "greater than or equal to 0" in message
    message = refused(SMALL.replace("delay_s: 30", "delay_s: .nan"), plaza)
    assert "asset 'camera-a': depends_on (metro-a -> camera-a): delay_s" in message
    message = refused(SMALL.replace("criticality: 4", "criticality: 9"), plaza)
    assert "asset 'metro-a': criticality: Input should be less than or equal to 5" in message
    message = refused(SMALL.replace("criticality: 4", "backup_s: {power: -1}"), plaza)
    assert "asset 'metro-a': backup_s.power" in message
    message = refused(SMALL.replace("kind: substation", "kind: power_plant"), plaza)
    assert "asset 'substation-a': kind: " in message
    assert "reach_m" in refused("reach_m: lots\n" + SMALL, plaza)


def test_duplicate_ids_and_duplicate_dependencies(plaza: list[SmartSpace]) -> None:
    twice = SMALL.replace(
        "dependencies:",
        "  - {id: metro-a, name: Metro A bis, kind: metro_station, location: [-0.3763, 39.4699]}"
        "\ndependencies:",
    )
    assert "asset 'metro-a' is defined twice" in refused(twice, plaza)
    again = SMALL + "  - {supplier: substation-a, dependent: metro-a, service: power}\n"
    assert "dependency substation-a -> metro-a (power) is declared twice" in refused(again, plaza)


def test_every_problem_is_listed_at_once(plaza: list[SmartSpace]) -> None:
    text = SMALL.replace("criticality: 4", "criticality: 0").replace("kind: camera", "kind: cam")
    error_text = refused(text, plaza)
    assert "asset 'metro-a'" in error_text and "asset 'camera-a'" in error_text


def test_shapes_that_are_not_a_model(plaza: list[SmartSpace]) -> None:
    assert "must be a mapping" in refused("- just\n- a list\n", plaza)
    assert "unknown top-level keys: asets" in refused("asets: []\n", plaza)
    assert "'assets' must be a non-empty list" in refused("name: empty\n", plaza)
    assert "asset #1 is not a mapping" in refused("assets: [substation]\n", plaza)
    assert "asset #1 (no id): id" in refused("assets: [{name: x}]\n", plaza)


def test_yaml_aliases_are_refused(plaza: list[SmartSpace]) -> None:
    bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nassets: [*b, *b]\n"
    assert "anchors and aliases are not supported" in refused(bomb, plaza)


def test_geojson_gives_the_same_model(plaza: list[SmartSpace], tmp_path: Path) -> None:
    model = parse_city_yaml(SMALL, plaza)
    features = []
    for asset in model.assets.values():
        props = asset.model_dump(mode="json", exclude={"location"})
        props["depends_on"] = [
            d.model_dump(mode="json", exclude={"dependent"})
            for d in model.dependencies
            if d.dependent == asset.id
        ]
        geometry = asset.location.model_dump(mode="json")
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    doc = {"type": "FeatureCollection", "properties": {"name": "gj"}, "features": features}
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps(doc))
    again = load_city_model(path, plaza)
    assert isinstance(again, CityModel) and again.name == "gj"
    assert again.asset_spaces() == model.asset_spaces()
    assert set(again.dependencies) == set(model.dependencies)
    features[0]["geometry"] = {"type": "Polygon", "coordinates": []}
    with pytest.raises(CityModelError, match="asset 'substation-a': the geometry must be a Point"):
        parse_city_geojson(json.dumps(doc), plaza)
    with pytest.raises(CityModelError, match="not valid JSON at line 1"):
        parse_city_geojson("{nope", plaza)


def test_a_file_that_cannot_be_read(plaza: list[SmartSpace], tmp_path: Path) -> None:
    with pytest.raises(CityModelError, match="cannot read the file"):
        load_city_model(tmp_path / "absent.yaml", plaza)
    binary = tmp_path / "city.yaml"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(CityModelError, match="cannot read the file"):
        load_city_model(binary, plaza)


def test_loading_is_pure_the_holder_keeps_its_model(plaza: list[SmartSpace]) -> None:
    held = parse_city_yaml(SMALL, plaza)
    with pytest.raises(CityModelError):
        held = parse_city_yaml(SMALL.replace("delay_s: 60", "delay_s: -1"), plaza)
    assert set(held.assets) == {"substation-a", "metro-a", "camera-a"}
