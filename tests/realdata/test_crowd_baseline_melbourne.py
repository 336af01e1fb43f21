"""Hour-of-week baselines on real Melbourne pedestrian counts (2015-2016, 4 sensors).

Cross-validated so that no day is judged by a baseline that saw it: the weeks are dealt into
four interleaved folds, and each fold is judged by a baseline fitted on the other three.
"""

from __future__ import annotations

import csv
import gzip
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartspaces.detect.crowd.baseline import BaselineSettings, HourOfWeekBaseline
from smartspaces.events import Detection, Level

FILE = "melbourne-pedestrian-counts/melbourne_pedestrian_hourly_2015_2016.csv.gz"
MELBOURNE = ZoneInfo("Australia/Melbourne")
VENUE = "Birrarung Marr"
FOLDS = 4

Series = list[tuple[datetime, float]]


def _days(*spans: tuple[str, str]) -> set[date]:
    out: set[date] = set()
    for first, last in spans:
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while day <= end:
            out.add(day)
            day += timedelta(days=1)
    return out


# Days a city expects to be unusual, known without looking at the counts: Victorian public
# holidays, Christmas to New Year, White Night, Moomba and the Australian Open (played beside
# Birrarung Marr).
SPECIAL_DAYS = _days(
    ("2015-01-01", "2015-01-01"), ("2015-01-26", "2015-01-26"), ("2015-03-09", "2015-03-09"),
    ("2015-04-03", "2015-04-06"), ("2015-04-25", "2015-04-25"), ("2015-06-08", "2015-06-08"),
    ("2015-10-02", "2015-10-02"), ("2015-11-03", "2015-11-03"), ("2015-12-24", "2016-01-01"),
    ("2016-01-26", "2016-01-26"), ("2016-03-14", "2016-03-14"), ("2016-03-25", "2016-03-28"),
    ("2016-04-25", "2016-04-25"), ("2016-06-13", "2016-06-13"), ("2016-09-30", "2016-09-30"),
    ("2016-11-01", "2016-11-01"), ("2016-12-24", "2016-12-31"),
    ("2015-02-21", "2015-02-22"), ("2016-02-20", "2016-02-21"),  # White Night
    ("2015-03-06", "2015-03-09"), ("2016-03-11", "2016-03-14"),  # Moomba
    ("2015-01-19", "2015-02-01"), ("2016-01-18", "2016-01-31"),  # Australian Open
)  # fmt: skip


@pytest.fixture(scope="module")
def counts(shared_data: Path) -> dict[str, Series]:
    series: dict[str, Series] = defaultdict(list)
    with gzip.open(shared_data / FILE, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            at = datetime.fromisoformat(row["date_time_utc"].replace("Z", "+00:00"))
            series[row["sensor"]].append((at, float(row["count"])))
    return dict(series)


def _fold(at: datetime) -> int:
    local = at.astimezone(MELBOURNE).date()
    return (local.toordinal() - local.weekday()) // 7 % FOLDS  # whole weeks stay together


def _slug(sensor: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in sensor).strip("-")


@pytest.fixture(scope="module")
def judged(counts: dict[str, Series]) -> dict[str, list[Detection]]:
    settings = BaselineSettings(timezone="Australia/Melbourne")  # the defaults, bar the zone
    found: dict[str, list[Detection]] = {}
    for sensor, series in counts.items():
        found[sensor] = []
        for fold in range(FOLDS):
            baseline = HourOfWeekBaseline(_slug(sensor), settings)
            baseline.fit((at, n) for at, n in series if _fold(at) != fold)
            for at, n in series:
                if _fold(at) == fold and (detection := baseline.step(at, n)) is not None:
                    found[sensor].append(detection)
    return found


def _local_day(detection: Detection) -> date:
    return detection.observed_at.astimezone(MELBOURNE).date()


def test_new_years_eve_at_the_event_venue_is_flagged(judged: dict[str, list[Detection]]) -> None:
    surges = {
        d.observed_at.astimezone(MELBOURNE).replace(tzinfo=None): d
        for d in judged[VENUE]
        if d.detection_type == "crowd.count_above_usual"
    }
    for midnight, people in ((datetime(2015, 1, 1), 1630), (datetime(2016, 1, 1), 1405)):
        surge = surges[midnight]
        assert surge.level is Level.AMBER
        assert surge.summary.startswith(f"{people} people")
        assert surge.confidence == 1.0  # more people than in that hour of any other week


def test_ordinary_days_raise_few_alarms(
    counts: dict[str, Series], judged: dict[str, list[Detection]]
) -> None:
    ordinary = {
        sensor: {at.astimezone(MELBOURNE).date() for at, _ in series} - SPECIAL_DAYS
        for sensor, series in counts.items()
    }
    false_alarm_days = {
        sensor: len({_local_day(d) for d in found if d.level is Level.AMBER} & ordinary[sensor])
        for sensor, found in judged.items()
    }
    # Alarm days among the 535-657 ordinary days (days not on the list above) of each sensor.
    # Counted as false alarms here, although none looks like an ordinary hour: at the venue they
    # are thousands of people on a few Saturday and Sunday mornings (the AFL Grand Final
    # Saturdays 2015-10-03 and 2016-10-01; the late-July and mid-October Sunday runs) and on
    # evenings of other events; at Southern Cross Station, 300-1,000 people near 23:00 on
    # evenings with events at the stadium beside it. The two shopping streets have none.
    assert false_alarm_days == {
        VENUE: 15,
        "Bourke Street Mall (North)": 0,
        "QV Market-Elizabeth St (West)": 0,
        "Southern Cross Station": 9,
    }
    total_ordinary = sum(len(days) for days in ordinary.values())
    assert sum(false_alarm_days.values()) / total_ordinary < 0.01
    # Unusually empty hours are notes (level normal), not alarms: public holidays at the station.
    assert all(
        d.level is Level.NORMAL
        for f in judged.values()
        for d in f
        if d.detection_type == "crowd.count_below_usual"
    )
