"""NGSI-LD entity parsing: both normal forms agree; arbitrary JSON never crashes the parser."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.edge.ngsild.entities import entity_identity, observation_items, to_key_values
from smartspaces.errors import RejectedInput
from tests.conftest import T0

KEY_VALUES = {
    "id": "urn:ngsi-ld:CrowdFlowObserved:counter-1",
    "type": "CrowdFlowObserved",
    "dateObserved": "2026-11-26T10:00:00/2026-11-26T10:05:00",
    "peopleCount": 40,
}
NORMALIZED = {
    "id": "urn:ngsi-ld:CrowdFlowObserved:counter-1",
    "type": "CrowdFlowObserved",
    "dateObserved": {
        "type": "Property",
        "value": {"@type": "DateTime", "@value": "2026-11-26T10:00:00/2026-11-26T10:05:00"},
    },
    "peopleCount": {"type": "Property", "value": 40},
    "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:counter-1"},
    "@context": ["https://example.org/never-fetched.jsonld"],
}


def test_both_forms_give_the_same_readings_in_utc() -> None:
    for entity in (KEY_VALUES, NORMALIZED):
        flat = to_key_values(entity)
        assert entity_identity(flat) == ("CrowdFlowObserved", "counter-1")
        (item,) = observation_items(flat, "counter-1", "plaza", T0)
        assert item == {
            "sensor_id": "counter-1",
            "space_id": "plaza",
            "quantity": "passersby_count",
            "value": 40,
            "observed_at": "2026-11-26T10:05:00+00:00",
            "interval_s": 300.0,
        }


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=12,
)
entity_like = st.fixed_dictionaries(
    {
        "id": st.sampled_from([KEY_VALUES["id"], "urn:ngsi-ld:Device:x", "x", ""]),
        "type": st.sampled_from(["CrowdFlowObserved", "NoiseLevelObserved", "Device", "Other"]),
    },
    optional=dict.fromkeys(
        (
            "dateObserved",
            "dateObservedTo",
            "dateObservedFrom",
            "peopleCount",
            "peopleCountTowards",
            "LAeq",
            "batteryLevel",
            "refDevice",
            "averageCrowdSpeed",
        ),
        json_values,
    ),
)


@settings(max_examples=300)
@given(st.one_of(json_values, entity_like))
def test_any_json_is_parsed_or_refused_with_a_reason(entity: Any) -> None:
    try:
        flat = to_key_values(entity)
        _, device = entity_identity(flat)
        observation_items(flat, device, "plaza", T0)
    except RejectedInput as refusal:
        assert refusal.reason
