"""The pure half of retention: cut-off times from the settings, the timer, the settings' rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smartspaces.config import RetentionSettings, Settings
from smartspaces.store.retention import KINDS, RetentionTimer, cutoffs
from tests.conftest import T0

days = st.integers(min_value=1, max_value=3650)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def test_the_defaults_keep_as_little_as_the_work_needs() -> None:
    settings = RetentionSettings()
    kept = {kind: getattr(settings, field) for kind, field in KINDS.items()}
    assert kept == {
        "observations": 7,
        "detections": 30,
        "situations": 30,
        "risk_levels": 30,
        "alerts": 365,
        "delivery_attempts": 365,
        "incidents": 365,
        "incident_changes": 365,
        "incident_cases": 365,
        "dead_letters": 30,
        "audit": 730,
    }
    assert Settings().retention == settings  # the section every component is handed


@given(
    st.fixed_dictionaries(dict.fromkeys(sorted(set(KINDS.values()) - {"audit_days"}), days)),
    moments,
)
def test_each_cutoff_is_its_period_before_now_and_audit_is_kept_longest(
    periods: dict[str, int], now: datetime
) -> None:
    settings = RetentionSettings(**periods, audit_days=3650)
    found = cutoffs(settings, now)
    assert set(found) == set(KINDS)
    for kind, field in KINDS.items():
        assert found[kind] == now - timedelta(days=getattr(settings, field))
    assert found["audit"] == min(found.values())


@given(moments, days)
def test_cutoffs_move_with_the_clock(now: datetime, step: int) -> None:
    settings = RetentionSettings()
    later = cutoffs(settings, now + timedelta(days=step))
    assert all(later[k] - c == timedelta(days=step) for k, c in cutoffs(settings, now).items())


def test_cutoffs_are_in_utc_whatever_the_offset_of_now() -> None:
    madrid = T0.astimezone(ZoneInfo("Europe/Madrid"))
    found = cutoffs(RetentionSettings(), madrid)
    assert found["observations"] == T0 - timedelta(days=7)
    assert all(c.utcoffset() == timedelta(0) for c in found.values())


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        cutoffs(RetentionSettings(), datetime(2026, 1, 1))


def test_the_audit_trail_must_outlive_what_it_records() -> None:
    with pytest.raises(ValidationError, match="audit_days"):
        RetentionSettings(incidents_days=1000)
    assert RetentionSettings(incidents_days=1000, audit_days=1000).audit_days == 1000
    with pytest.raises(ValidationError):
        RetentionSettings(observations_days=0)
    with pytest.raises(ValidationError):
        RetentionSettings(observations_dayz=3)  # type: ignore[call-arg]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTSPACES__RETENTION__OBSERVATIONS_DAYS", "2")
    assert Settings().retention.observations_days == 2


def test_the_timer_runs_at_the_first_look_then_once_per_interval() -> None:
    timer = RetentionTimer(RetentionSettings(interval_s=3600))
    assert timer.due(T0)
    assert not timer.due(T0 + timedelta(minutes=59))
    assert timer.due(T0 + timedelta(hours=1))
    assert not timer.due(T0 + timedelta(hours=1, seconds=1))
    assert not RetentionTimer(RetentionSettings(enabled=False)).due(T0)


def test_observation_partitions_stay_narrower_than_the_period_and_few() -> None:
    settings = RetentionSettings()
    assert (settings.observations_partition_hours, settings.observations_partitions_ahead) == (
        24,
        3,
    )
    assert settings.observations_drop_partitions
    with pytest.raises(ValidationError, match="observations_partition_hours"):
        RetentionSettings(observations_days=1, observations_partition_hours=25)
    assert RetentionSettings(observations_days=1, observations_partition_hours=24)
    with pytest.raises(ValidationError, match="live observation partitions"):
        RetentionSettings(observations_days=365, observations_partition_hours=1)
    assert RetentionSettings(observations_days=30, observations_partition_hours=1)  # 720 + 3
