"""The event language: deterministic ids, UTC times, strict validation, lossless JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smartspaces.events import (
    Alert,
    Detection,
    Level,
    Observation,
    RiskLevel,
    derive_id,
    event_from_json,
    subject_for,
)
from tests.conftest import T0, counts


def test_same_reading_gets_the_same_id_whenever_it_is_received() -> None:
    first = counts("entries_count", 3, T0)
    retried = first.model_copy(update={"received_at": T0 + timedelta(hours=1)})
    again = Observation(**{**first.model_dump(), "id": "", "received_at": T0 + timedelta(hours=2)})
    assert first.id.startswith("obs-")
    assert again.id == first.id
    assert retried.id == first.id


def test_different_readings_get_different_ids() -> None:
    ids = {
        counts("entries_count", 3, T0).id,
        counts("exits_count", 3, T0).id,
        counts("entries_count", 3, T0 + timedelta(seconds=10)).id,
        counts("entries_count", 3, T0, sensor="c2").id,
    }
    assert len(ids) == 4


def test_times_are_kept_in_utc_whatever_offset_they_arrive_with() -> None:
    madrid = timezone(timedelta(hours=1))
    local = counts("entries_count", 1, T0.astimezone(madrid))
    assert local.observed_at.utcoffset() == timedelta(0)
    assert local.observed_at == T0
    assert local.id == counts("entries_count", 1, T0).id


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        counts("entries_count", 1, datetime(2026, 3, 15, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values_are_refused(value: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        counts("entries_count", value, T0)


def test_unknown_fields_and_bad_ids_are_refused() -> None:
    data = counts("entries_count", 1, T0).model_dump()
    with pytest.raises(ValidationError, match="Extra inputs"):
        Observation(**{**data, "unit": "ft"})
    with pytest.raises(ValidationError, match="pattern"):
        Observation(**{**data, "space_id": "../etc/passwd"})


def test_events_are_frozen() -> None:
    event = counts("entries_count", 1, T0)
    with pytest.raises(ValidationError, match="frozen"):
        event.value = 2  # type: ignore[misc]


def test_subject_is_kind_and_space() -> None:
    assert subject_for(counts("entries_count", 1, T0)) == "ss.observation.plaza"


def test_every_kind_round_trips_through_json_with_its_provenance() -> None:
    detection = Detection(
        source="crowd.density",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        derived_from=("obs-1", "obs-2"),
        detector="crowd.density",
        detection_type="crowd.density_level",
        level=Level.RED,
    )
    risk = RiskLevel(
        source="risk",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        derived_from=(detection.id,),
        level=Level.RED,
        score=0.75,
    )
    alert = Alert(
        source="alerts",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        derived_from=(risk.id,),
        alert_type="crowd.density",
        level=Level.RED,
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        headline="RED",
    )
    for event in (counts("exits_count", 4, T0), detection, risk, alert):
        assert event_from_json(event.model_dump_json()) == event


@given(
    value=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    seconds=st.integers(min_value=0, max_value=10**9),
    sensor=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,20}", fullmatch=True),
)
def test_observations_round_trip_and_ids_depend_on_identity_only(
    value: float, seconds: int, sensor: str
) -> None:
    at = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    event = counts("occupancy_persons", value, at, sensor=sensor)
    assert event_from_json(event.model_dump_json()) == event
    assert event.id == derive_id("obs", "test", "plaza", sensor, "occupancy_persons", at)


def test_events_built_from_validated_values_equal_validated_events() -> None:
    checked = counts("entries_count", 7, T0)
    fast = Observation.from_validated(
        id=checked.id,
        source="test",
        space_id="plaza",
        sensor_id="c1",
        quantity="entries_count",
        value=7.0,
        observed_at=T0,
        received_at=T0,
        interval_s=10.0,
    )
    assert fast == checked
    assert fast.model_dump_json() == checked.model_dump_json()
