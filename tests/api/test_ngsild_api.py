"""NGSI-LD endpoints with valid, broken and hostile entities (schemas from ../shared/data when
present; the structural checks hold without them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.ngsild_client import ngsild_client, stored_observations

ENTITIES = "/ngsi-ld/v1/entities"


def crowd_flow(device: str = "counter-1", **changes: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:CrowdFlowObserved:{device}",
        "type": "CrowdFlowObserved",
        "dateObserved": "2026-11-26T10:05:00Z",
        "dateObservedFrom": "2026-11-26T10:00:00Z",
        "dateObservedTo": "2026-11-26T10:05:00Z",
        "peopleCountTowards": 120,
        "peopleCountAway": 30,
        "averageCrowdSpeed": 3.6,
    }
    entity.update(changes)
    return {k: v for k, v in entity.items() if v is not None}


@pytest.fixture
def api(tmp_path: Path) -> Any:
    with ngsild_client(tmp_path, "counter-1", "counter-2", "noise-1") as (client, tokens):
        client.headers["Authorization"] = f"Bearer {tokens['counter-1']}"
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


def test_a_crowd_flow_becomes_entries_exits_and_speed_in_si(api: Any) -> None:
    assert api.post(ENTITIES, json=crowd_flow()).status_code == 201
    assert stored_observations(api, 3) == [
        ("entries_count", 120, 300.0),
        ("exits_count", 30, 300.0),
        ("speed_m_s", 1.0, 300.0),  # 3.6 km/h
    ]


def test_patch_updates_a_known_entity_and_404s_an_unknown_one(api: Any) -> None:
    assert api.post(ENTITIES, json=crowd_flow()).status_code == 201
    fragment = {
        "peopleCountTowards": 80,
        "dateObservedFrom": "2026-11-26T10:05:00Z",
        "dateObservedTo": "2026-11-26T10:10:00Z",
    }
    url = f"{ENTITIES}/urn:ngsi-ld:CrowdFlowObserved:counter-1/attrs"
    assert api.patch(url, json=fragment).status_code == 204
    assert ("entries_count", 80, 300.0) in stored_observations(api, 6)
    missing = api.patch(f"{ENTITIES}/urn:ngsi-ld:CrowdFlowObserved:nobody/attrs", json=fragment)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/ResourceNotFound")


def test_noise_level_observed_becomes_a_noise_reading(api: Any) -> None:
    entity = {
        "id": "urn:ngsi-ld:NoiseLevelObserved:noise-1",
        "type": "NoiseLevelObserved",
        "dateObserved": "2026-11-25T00:00:00Z",
        "LAeq": 61.5,
    }
    token = api.tokens["noise-1"]
    response = api.post(ENTITIES, json=entity, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    assert stored_observations(api, 1) == [("noise_laeq_dba", 61.5, None)]


def test_upsert_takes_the_good_entities_and_reports_the_bad(api: Any) -> None:
    batch = [crowd_flow(), crowd_flow(peopleCountTowards=-5, id="urn:ngsi-ld:CrowdFlowObserved:x")]
    response = api.post("/ngsi-ld/v1/entityOperations/upsert", json=batch)
    assert response.status_code == 207
    body = response.json()
    assert body["success"] == ["urn:ngsi-ld:CrowdFlowObserved:counter-1"]
    assert body["errors"][0]["error"]["type"].endswith("/BadRequestData")
    again = api.post("/ngsi-ld/v1/entityOperations/upsert", json=[crowd_flow()])
    assert again.status_code == 204  # known entity updated


@pytest.mark.parametrize(
    ("entity", "detail"),
    [
        (crowd_flow(peopleCountTowards="many"), "peopleCountTowards"),
        (crowd_flow(peopleCountTowards=float("nan")), "nan is not of type 'integer'"),
        (crowd_flow(peopleCountTowards=-3), "less than the minimum of 0"),
        (crowd_flow(averageCrowdSpeed=400), "outside 0..15"),  # 111 m/s: nobody walks that fast
        (
            crowd_flow(
                dateObserved="2099-01-01T00:05:00Z",
                dateObservedFrom="2099-01-01T00:00:00Z",
                dateObservedTo="2099-01-01T00:05:00Z",
            ),
            "in the future",
        ),
        (crowd_flow(dateObservedTo="yesterday"), "'yesterday'"),
        (crowd_flow(dateObservedFrom="2026-11-26T11:00:00Z"), "before dateObservedTo"),
        (crowd_flow(type="WeatherObserved"), "not accepted here"),
        (crowd_flow(id="counter-1"), "is not urn:ngsi-ld"),
        (crowd_flow(id="urn:ngsi-ld:Device:counter-1"), "names type 'Device'"),
        (crowd_flow(device="counter-2"), "may not report for 'counter-2'"),
        (crowd_flow(device="ghost"), "unknown device 'ghost'"),
        (
            crowd_flow(
                peopleCountTowards=[
                    {"type": "Property", "value": 1, "datasetId": "a"},
                    {"type": "Property", "value": 2, "datasetId": "b"},
                ]
            ),
            "multi-attributes",
        ),
        ([crowd_flow()], "must be a JSON object"),
    ],
)
def test_bad_entities_are_400_with_a_reason_and_a_dead_letter(
    api: Any, entity: Any, detail: str
) -> None:
    response = api.post(
        ENTITIES, content=json.dumps(entity), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    store = api.app.state.services.store
    assert store.count("observation") == 0
    (letter,) = store.dead_letters()
    assert letter.adapter == "ngsi-ld" and detail in letter.reason


def test_transport_level_problems(api: Any) -> None:
    broken = api.post(ENTITIES, content=b"{nope", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["title"] == "InvalidRequest"
    huge = crowd_flow(description="x" * 300_000)
    assert api.post(ENTITIES, json=huge).status_code == 413
    anonymous = api.post(ENTITIES, json=crowd_flow(), headers={"Authorization": ""})
    assert anonymous.status_code == 401
    batch = api.post("/ngsi-ld/v1/entityOperations/upsert", json={"not": "a list"})
    assert batch.status_code == 400
