"""Telemetry detectors of the cyber stage on real city series with injected faults.

Melbourne's hourly pedestrian counts (QV Market, 2015-2016) stand in for a people counter: its
own learnt baseline finds spoofed readings, and paired with a camera zone count generated from
it, a counter spoofed to near-empty while the camera sees the crowd is found. Ruzafa's daily
noise levels (València) check the same baseline on another quantity and rhythm. Each test
states how many detections the real series raise beside the injected ones, and what they are.
"""

from __future__ import annotations

import csv
import gzip
import math
import random
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.baseline import TelemetryBaselineDetector
from smartspaces.detect.cyber.consistency import SensorConsistencyDetector
from smartspaces.events import Detection, Level, Observation

pytestmark = pytest.mark.realdata
MELBOURNE = ZoneInfo("Australia/Melbourne")
COUNTS = "melbourne-pedestrian-counts/melbourne_pedestrian_hourly_2015_2016.csv.gz"
COUNTER = "QV Market-Elizabeth St (West)"
NOISE = "valencia-ruzafa-noise/ruzafa_noise_daily.csv"
NOISE_SENSOR = "T248661-daily"
Series = list[tuple[datetime, float]]


@pytest.fixture(scope="module")
def counts(shared_data: Path) -> Series:
    with gzip.open(shared_data / COUNTS, "rt", newline="") as handle:
        series = [
            (datetime.fromisoformat(row["date_time_utc"].replace("Z", "+00:00")),
             float(row["count"]))
            for row in csv.DictReader(handle)
            if row["sensor"] == COUNTER
        ]  # fmt: skip
    assert len(series) > 17_000
    return sorted(series)


def local_index(series: Series, *local: int) -> int:
    wanted = datetime(*local, tzinfo=MELBOURNE)  # type: ignore[misc]
    return next(i for i, (at, _) in enumerate(series) if at == wanted)


def reading(sensor: str, quantity: str, value: float, at: datetime, interval_s: float
            ) -> Observation:  # fmt: skip
    return Observation(source="melbourne", space_id="qv-market", sensor_id=sensor,
                       quantity=quantity, value=value, observed_at=at, received_at=at,
                       interval_s=interval_s)  # fmt: skip


def baseline(series: Series, quantity: str, interval_s: float, zone: str) -> list[Detection]:
    detector = TelemetryBaselineDetector(IntegritySettings(baseline_timezone=zone))
    found: list[Detection] = []
    for at, value in series:
        found += detector.step(reading("counter-qv", quantity, value, at, interval_s), at)
    return found


def local_hours(found: list[Detection]) -> list[str]:
    return [d.observed_at.astimezone(MELBOURNE).strftime("%Y-%m-%d %H") for d in found]


# The real counts' own surprises, found with or without injected faults, none of them a fault:
# White Night (2015-02-21, 2016-02-20), Christmas Day, New Year's Eve and Day, and two
# Wednesday evenings (2015-04-08 quieter, 2016-12-07 busier than usual; the market holds
# night markets on Wednesdays in season, which probably explains both).
NATURAL = [
    "2015-02-22 00", "2015-04-08 20", "2015-12-25 09", "2015-12-25 11", "2016-01-01 01",
    "2016-01-01 08", "2016-02-21 01", "2016-02-21 03", "2016-12-07 22", "2016-12-25 09",
]  # fmt: skip


def test_counter_baseline_on_real_counts_finds_injected_spoofing(counts: Series) -> None:
    clean = baseline(counts, "entries_count", 3600, "Australia/Melbourne")
    assert local_hours(clean) == NATURAL  # 10 over 17,518 hours: the false positives
    faulty = list(counts)
    workday = local_index(counts, 2016, 5, 11, 12)
    for i in range(workday, workday + 4):  # a busy Wednesday noon reported as empty
        faulty[i] = (counts[i][0], 0.0)
    night = local_index(counts, 2016, 8, 17, 3)
    faulty[night] = (counts[night][0], 20 * counts[night][1] + 500)  # a surge nobody saw
    subtle = local_index(counts, 2015, 9, 9, 14)
    faulty[subtle] = (counts[subtle][0], round(counts[subtle][1] * 0.15))  # 85% hidden
    found = baseline(faulty, "entries_count", 3600, "Australia/Melbourne")
    injected = [d for d in found if local_hours([d])[0] not in NATURAL]
    assert local_hours(injected) == ["2015-09-09 14", "2016-05-11 12", "2016-08-17 03"]
    assert len(found) - len(injected) == len(NATURAL)  # the same false positives, no more
    hidden, emptied, surge = (d.attributes for d in injected)
    assert (emptied["direction"], emptied["value"], emptied["slot"]) == ("below", 0.0, "Wed 12:00")
    assert float(emptied["expected_low"]) > 300 and emptied["readings_count"] == 12
    assert hidden["direction"] == "below" and float(hidden["expected_value"]) > 500
    assert (surge["direction"], surge["slot"]) == ("above", "Wed 03:00")
    assert float(surge["value"]) > float(surge["expected_high"]) > float(surge["expected_value"])
    assert all(d.level is Level.AMBER for d in found)


def camera_counts(series: Series, seed: int = 21) -> list[float]:
    """What a camera watching part of the same street would count: a sixth of the walkers,
    with its own detection noise (Poisson, and +/-20% from light and occlusion)."""
    rnd = random.Random(seed)
    out = []
    for _, walkers in series:
        mean = walkers / 6 * rnd.lognormvariate(0, 0.2)
        # a normal approximation of Poisson noise is enough for these sizes
        out.append(float(max(0, round(rnd.gauss(mean, math.sqrt(mean + 1e-9))))))
    return out


def consistency(series: Series, camera: list[float]) -> list[Detection]:
    pair = ("counter-qv/entries_count", "camera-qv/zone_count_persons")
    detector = SensorConsistencyDetector(IntegritySettings(correlated_sensors=(pair,)))
    found: list[Detection] = []
    for (at, walkers), seen in zip(series, camera, strict=True):
        found += detector.step(reading("counter-qv", "entries_count", walkers, at, 3600), at)
        found += detector.step(reading("camera-qv", "zone_count_persons", seen, at, 3600), at)
    return found


def test_counter_and_camera_that_agree_raise_nothing_over_two_real_years(counts: Series) -> None:
    # holidays and events included: both sensors see the same crowd, so nothing disagrees
    assert consistency(counts, camera_counts(counts)) == []  # false positives: 0


def test_counter_spoofed_to_empty_while_the_camera_sees_the_crowd(counts: Series) -> None:
    camera = camera_counts(counts)
    faulty = list(counts)
    noon = local_index(counts, 2016, 5, 11, 12)
    for i in range(noon, noon + 3):  # three hours of "nobody here" at a busy noon
        faulty[i] = (counts[i][0], 4.0)
    evening = local_index(counts, 2015, 9, 9, 17)
    for i in range(evening, evening + 2):  # the camera's feed replaced by an empty scene
        camera[i] = 0.0
    first, second = consistency(faulty, camera)
    assert local_hours([first, second]) == ["2015-09-09 18", "2016-05-11 13"]
    empty = second.attributes
    assert (empty["device_id"], empty["value"], empty["direction"]) == ("counter-qv", 4.0, "below")
    assert empty["reference_device_id"] == "camera-qv" and float(empty["reference_value"]) > 100
    assert 5 < float(empty["expected_ratio"]) < 7  # learnt: the camera sees about a sixth
    assert second.level is Level.RED and len(second.derived_from) == 2
    assert first.attributes["direction"] == "above" and first.attributes["reference_value"] == 0


@pytest.fixture(scope="module")
def noise(shared_data: Path) -> Series:
    with (shared_data / NOISE).open(newline="") as handle:
        rows = [
            (datetime.combine(date.fromisoformat(r["dateObserved"]), datetime.min.time(), UTC),
             float(r["LAeq"]))
            for r in csv.DictReader(handle)
            if r["entityId"] == NOISE_SENSOR
        ]  # fmt: skip
    assert len(rows) > 500
    return sorted(rows)


def test_noise_sensor_baseline_on_real_daily_levels(noise: Series) -> None:
    clean = baseline(noise, "noise_laeq_dba", 86_400, "Europe/Madrid")
    natural = [str(d.observed_at.date()) for d in clean]
    # 7 over 550 days, all louder than usual: 2020-11-27, 2020-12-11, 2021-04-15, 2021-08-30,
    # and 2022-02-27, 03-05, 03-11 (the Crida that opens the Fallas, and Fallas weekends).
    # The data names no cause; they are counted as false positives of a fault detector.
    assert natural == ["2020-11-27", "2020-12-11", "2021-04-15", "2021-08-30", "2022-02-27",
                       "2022-03-05", "2022-03-11"]  # fmt: skip
    assert all(d.attributes["direction"] == "above" for d in clean)
    faulty = list(noise)
    muffled = 200  # a sensor wrapped up (or its feed replaced) reads 18 dB low for two days
    for i in (muffled, muffled + 1):
        faulty[i] = (noise[i][0], noise[i][1] - 18)
    found = baseline(faulty, "noise_laeq_dba", 86_400, "Europe/Madrid")
    injected = [d for d in found if str(d.observed_at.date()) not in natural]
    assert [d.observed_at for d in injected] == [noise[muffled][0]]  # one report, two days
    a = injected[0].attributes
    assert (a["direction"], a["season"], a["scale"]) == ("below", "hour_of_week", "linear")
    assert str(a["slot"]).endswith("s")  # a day of the week: daily readings have no hour
    assert len(found) - len(injected) == len(natural)
