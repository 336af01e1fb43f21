"""The official Smart Data Models examples, unchanged, through the NGSI-LD endpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.api.ngsild_client import ngsild_client, stored_observations

CROWD = "smart-data-models/Transportation/CrowdFlowObserved/examples"


def load(shared_data: Path, path: str) -> Any:
    return json.loads((shared_data / path).read_text())


def test_crowd_flow_example_in_key_values_form(shared_data: Path, tmp_path: Path) -> None:
    entity = load(shared_data, f"{CROWD}/example.json")
    with ngsild_client(tmp_path, "Valladolid_1") as (client, tokens):
        headers = {"Authorization": f"Bearer {tokens['Valladolid_1']}"}
        response = client.post("/ngsi-ld/v1/entities", json=entity, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["location"].endswith(entity["id"])
        assert stored_observations(client, 2) == [
            ("entries_count", 50, 300.0),
            ("exits_count", 50, 300.0),
        ]
        again = client.post("/ngsi-ld/v1/entities", json=entity, headers=headers)
        assert again.status_code == 409
        assert again.json()["type"].endswith("/AlreadyExists")


def test_crowd_flow_example_in_normalized_form_with_a_remote_context(
    shared_data: Path, tmp_path: Path
) -> None:
    entity = load(shared_data, f"{CROWD}/example-normalized.jsonld")
    assert entity["@context"][0].startswith("https://")  # never fetched: there is no network
    with ngsild_client(tmp_path, "Valladolid_1") as (client, tokens):
        response = client.post(
            "/ngsi-ld/v1/entities",
            content=json.dumps(entity),
            headers={
                "Authorization": f"Bearer {tokens['Valladolid_1']}",
                "content-type": "application/ld+json",
            },
        )
        assert response.status_code == 201, response.text
        assert [q for q, _, _ in stored_observations(client, 2)] == ["entries_count", "exits_count"]


def test_device_example_reports_its_battery_at_the_time_it_arrives(
    shared_data: Path, tmp_path: Path
) -> None:
    entity = load(shared_data, "smart-data-models/Device/Device/examples/example.jsonld")
    with ngsild_client(tmp_path, "device-9845A") as (client, tokens):
        response = client.post(
            "/ngsi-ld/v1/entities",
            json=entity,
            headers={"Authorization": f"Bearer {tokens['device-9845A']}"},
        )
        assert response.status_code == 201, response.text
        assert stored_observations(client, 1) == [("battery_ratio", 0.75, None)]
