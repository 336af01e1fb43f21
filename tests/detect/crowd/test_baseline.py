"""Hour-of-week count baselines on synthetic history: bands, verdicts and refusals."""

from __future__ import annotations

import math
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from smartspaces.detect.crowd.baseline import (
    BaselineSettings,
    HourOfWeekBaseline,
    hour_of_week,
)
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.events import Level

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, 00:00 UTC
UTC_SETTINGS = BaselineSettings(timezone="UTC")


def history(weeks: int, seed: int = 3) -> list[tuple[datetime, float]]:
    """Hourly counts with a daily shape (quiet nights, busy afternoons) and 10% noise."""
    rng = random.Random(seed)
    out = []
    for hour in range(weeks * 168):
        at = MONDAY + timedelta(hours=hour)
        usual = 50 + 950 * max(0.0, math.sin(math.pi * (at.hour - 6) / 16))
        out.append((at, round(usual * rng.gauss(1.0, 0.1))))
    return out


def fitted(weeks: int = 12) -> HourOfWeekBaseline:
    baseline = HourOfWeekBaseline("plaza", UTC_SETTINGS)
    baseline.fit(history(weeks))
    return baseline


def test_hour_of_week_runs_in_local_time() -> None:
    from zoneinfo import ZoneInfo

    madrid = ZoneInfo("Europe/Madrid")
    assert hour_of_week(MONDAY, ZoneInfo("UTC")) == 0
    assert hour_of_week(MONDAY, madrid) == 1  # 01:00 in Madrid in winter
    assert hour_of_week(MONDAY - timedelta(hours=1), madrid) == 0
    assert hour_of_week(MONDAY - timedelta(hours=2), madrid) == 167  # Sunday 23:00


def test_usual_counts_pass_and_a_surge_is_flagged() -> None:
    baseline = fitted()
    later = history(14, seed=9)[12 * 168 :]  # two new weeks from the same process
    assert [at for at, n in later if baseline.step(at, n) is not None] == []
    at = MONDAY + timedelta(weeks=13, hours=2)  # Monday 02:00, usually about 50 people
    surge = baseline.step(at, 1200)
    assert surge is not None and surge.level is Level.AMBER
    assert surge.detection_type == "crowd.count_above_usual" and surge.confidence == 1.0
    usual = re.search(r"usually (\d+) \(band 0-(\d+) over 12 weeks\)", surge.summary)
    assert usual is not None and 40 <= int(usual[1]) <= 60 and int(usual[2]) < 1200


def test_an_empty_afternoon_is_a_note_not_an_alarm() -> None:
    at = MONDAY + timedelta(weeks=13, hours=14)
    note = fitted().step(at, 0)
    assert note is not None and note.level is Level.NORMAL
    assert note.detection_type == "crowd.count_below_usual"


def test_small_numbers_never_alarm() -> None:
    # 4 a.m.: 50 usually; 140 is far outside the log band but within min_excess_persons of it
    band = fitted().band(MONDAY + timedelta(weeks=13, hours=4))
    assert band is not None and band.high - band.expected > 100
    assert fitted().step(MONDAY + timedelta(weeks=13, hours=4), 140) is None


def test_too_few_weeks_give_no_verdict() -> None:
    baseline = fitted(weeks=UTC_SETTINGS.min_weeks - 1)
    at = MONDAY + timedelta(weeks=20, hours=2)
    assert baseline.band(at) is None and baseline.step(at, 10_000) is None


def test_fit_replaces_the_previous_history() -> None:
    baseline = fitted()
    baseline.fit([])
    assert baseline.band(MONDAY) is None


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_bad_counts_are_refused(bad: float) -> None:
    with pytest.raises(CrowdMeasureError, match="finite number"):
        fitted().step(MONDAY, bad)
    with pytest.raises(CrowdMeasureError, match="finite number"):
        HourOfWeekBaseline("plaza", UTC_SETTINGS).fit([(MONDAY, bad)])


def test_naive_times_and_unknown_zones_are_refused() -> None:
    with pytest.raises(CrowdMeasureError, match="no time zone"):
        fitted().step(datetime(2026, 1, 5), 10)  # noqa: DTZ001 - naive on purpose
    with pytest.raises(CrowdMeasureError, match="unknown time zone"):
        HourOfWeekBaseline("plaza", BaselineSettings(timezone="Mars/Olympus"))
