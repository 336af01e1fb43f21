"""NGSI-LD out: every Alert entity we emit is valid against the Smart Data Models Alert schema."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

from smartspaces.events import Alert, Level, SmartSpace
from smartspaces.respond.alerts.ngsi_ld import ngsi_ld_alert
from smartspaces.respond.alerts.settings import AlertFormatSettings
from tests.conftest import T0, shared_data
from tests.respond.test_cap_out import lifecycle

pytestmark = pytest.mark.realdata
SDM = "https://smart-data-models.github.io"


def _resource(path: Path) -> Resource[Any]:
    return Resource.from_contents(json.loads(path.read_text()))


@pytest.fixture(scope="module")
def alert_schema() -> Draft202012Validator:
    """The Alert schema with its references resolved offline, as VALIDATION.md describes."""
    root = shared_data("smart-data-models")
    registry: Registry[Any] = Registry().with_resources(
        [
            (
                f"{SDM}/data-models/common-schema.json",
                _resource(root / "common/common-schema.json"),
            ),
            (
                f"{SDM}/dataModel.Alert/alert-schema.json",
                _resource(root / "Alert-repo-root/alert-schema.json"),
            ),
            # not shipped upstream with the Alert model; only referenced by subCategory's anyOf
            (
                f"{SDM}/dataModel.Weather/weather-schema.json",
                Resource.from_contents(
                    {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "definitions": {"WeatherAlertCategories": {}},
                    }
                ),
            ),
        ]
    )
    schema = json.loads((root / "Alert/schema.json").read_text())
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def errors(validator: Draft202012Validator, entity: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(entity)]


def test_the_upstream_example_is_valid_and_a_broken_one_is_not(
    alert_schema: Draft202012Validator,
) -> None:
    example = json.loads(
        shared_data("smart-data-models", "Alert/examples/example.json").read_text()
    )
    assert errors(alert_schema, example) == []
    assert errors(alert_schema, {**example, "category": "crowd"})
    assert errors(alert_schema, {**example, "severity": "red"})


def test_every_alert_of_a_lifecycle_is_a_valid_entity(
    alert_schema: Draft202012Validator, valencia_spaces: dict[str, SmartSpace]
) -> None:
    settings = AlertFormatSettings()
    for space in valencia_spaces.values():
        for alert in lifecycle(space):
            entity = ngsi_ld_alert(alert, space, settings)
            assert errors(alert_schema, entity) == [], alert.msg_type
            # jsonschema checks date-time only with rfc3339-validator installed: check here
            for name in ("dateIssued", "validFrom", "validTo"):
                assert entity[name].endswith("Z") and datetime.fromisoformat(entity[name])


def test_the_entity_carries_the_alert(valencia_spaces: dict[str, SmartSpace]) -> None:
    space = valencia_spaces["plaza-ayuntamiento"]
    alerts = lifecycle(space)
    red, cancel = alerts[1], alerts[-1]
    entity = ngsi_ld_alert(red, space, AlertFormatSettings())
    assert entity["id"] == f"urn:ngsi-ld:Alert:{red.id}"
    assert (entity["category"], entity["subCategory"], entity["severity"]) == (
        "security",
        "crowdRisk",
        "high",
    )
    assert entity["dateIssued"] == (T0 + timedelta(minutes=1, seconds=2)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert entity["location"]["coordinates"][0][0] == list(space.geometry.coordinates[0][0])
    assert entity["data"]["references"] == [f"urn:ngsi-ld:Alert:{alerts[0].id}"]
    ended = ngsi_ld_alert(cancel, space, AlertFormatSettings())
    assert ended["severity"] == "informational" and ended["validTo"] == ended["dateIssued"]


def test_an_unknown_family_still_gets_a_valid_category(
    alert_schema: Draft202012Validator, valencia_spaces: dict[str, SmartSpace]
) -> None:
    space = valencia_spaces["calle-sangre"]
    alert = Alert(
        source="cyber.scan",
        space_id=space.id,
        observed_at=T0,
        received_at=T0,
        alert_type="cyber.port_scan",
        level=Level.AMBER,
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        headline="Port scan against the street's counters",
    )
    entity = ngsi_ld_alert(alert, space, AlertFormatSettings())
    assert "subCategory" not in entity
    assert errors(alert_schema, entity) == []
