"""Validation of incoming observations: each bad item gets a reason, valid ones are never lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.config import ApiSettings
from smartspaces.edge.observations import validate_observations
from tests.conftest import T0

LIMITS = ApiSettings()


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sensor_id": "counter-1",
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 12,
        "observed_at": T0.isoformat(),
        "interval_s": 10,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def check(*items: Any) -> Any:
    return validate_observations(list(items), "http", {"plaza"}, T0, LIMITS)


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "si"),
    [
        ("speed_m_s", 36, "km/h", 10.0),
        ("speed_m_s", 2, "m/s", 2.0),
        ("temperature_k", 20, "degC", 293.15),
        ("temperature_k", 68, "degF", 293.15),
        ("density_p_m2", 0.3, "p/ft**2", 3.229),
        ("battery_ratio", 80, "percent", 0.8),
        ("noise_laeq_dba", 61.5, "dBA", 61.5),
    ],
)
def test_values_in_other_units_are_converted_to_si(
    quantity: str, value: float, unit: str, si: float
) -> None:
    (obs,) = check(item(quantity=quantity, value=value, unit=unit)).accepted
    assert obs.quantity == quantity
    assert obs.value == pytest.approx(si, rel=1e-3)


def test_a_valid_item_becomes_an_observation_received_now() -> None:
    result = check(item())
    assert result.rejected == ()
    (obs,) = result.accepted
    assert (obs.source, obs.space_id, obs.value, obs.received_at) == ("http", "plaza", 12, T0)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (item(value="twelve"), "value: Input should be a valid number"),
        (item(value=float("nan")), "finite"),
        (item(value=float("inf")), "finite"),
        (item(value=-3), "outside 0..100000"),
        (item(value=2.5), "whole number"),
        (item(space_id="atlantis"), "unknown space 'atlantis'"),
        (item(quantity="density_p_ft2"), "unknown quantity 'density_p_ft2'"),
        (item(unit="ft"), "unit: 'ft' is not a unit of count"),
        (item(quantity="speed_m_s", value=5, unit="kg"), "not a unit of m/s"),
        (item(quantity="speed_m_s", value=500, unit="km/h"), "138.889 m/s is outside 0..15"),
        (item(quantity="noise_laeq_dba", value=60, unit="dB"), "cannot be converted to dBA"),
        (item(quantity="speed_m_s", value=1, unit="__import__('os')"), "is not a unit"),
        (item(colour="red"), "colour: Extra inputs are not permitted"),
        (item(observed_at="2026-03-15T12:00:00"), "timezone"),
        (item(observed_at=(T0 + timedelta(days=365)).isoformat()), "in the future"),
        (item(observed_at=(T0 - timedelta(days=30)).isoformat()), "too late"),
        (item(sensor_id="'; DROP TABLE observations; --"), "sensor_id: String should match"),
        (item(space_id=...), "space_id: Field required"),
        ([1, 2, 3], "must be a JSON object"),
        (
            "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
            "JSON object",
        ),
    ],
)
def test_bad_items_are_rejected_with_a_reason(bad: Any, reason: str) -> None:
    result = check(item(), bad, item(sensor_id="counter-2"))
    assert [o.sensor_id for o in result.accepted] == ["counter-1", "counter-2"]
    (rejection,) = result.rejected
    assert rejection.index == 1
    assert reason in rejection.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@given(st.lists(st.one_of(json_values, st.builds(item, value=st.integers(0, 1000))), max_size=20))
def test_every_item_is_either_accepted_or_rejected_never_lost(items: list[Any]) -> None:
    result = validate_observations(items, "http", {"plaza"}, T0, LIMITS)
    assert len(result.accepted) + len(result.rejected) == len(items)
    assert all(r.reason for r in result.rejected)
