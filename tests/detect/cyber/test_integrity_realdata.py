"""Telemetry integrity on real Ruzafa noise series: each injected fault found, nothing else."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta

import pytest

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.integrity import TelemetryIntegrityDetector
from smartspaces.events import Detection, Observation
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata
SENSOR = "T248661-daily"  # the longest-running sensor


@pytest.fixture(scope="module")
def series() -> list[tuple[datetime, float]]:
    """The sensor's longest run of consecutive days (natural outages are real silences)."""
    path = shared_data("valencia-ruzafa-noise", "ruzafa_noise_daily.csv")
    with path.open(newline="") as f:
        rows = sorted(
            (date.fromisoformat(r["dateObserved"]), float(r["LAeq"]))
            for r in csv.DictReader(f)
            if r["entityId"] == SENSOR
        )
    runs: list[list[tuple[date, float]]] = [[rows[0]]]
    for row in rows[1:]:
        if (row[0] - runs[-1][-1][0]).days == 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    longest = max(runs, key=len)
    assert len(longest) >= 100
    return [(datetime(d.year, d.month, d.day, tzinfo=UTC), v) for d, v in longest]


def observations(points: list[tuple[datetime, float]]) -> list[Observation]:
    return [
        Observation(
            source="ruzafa",
            space_id="ruzafa",
            sensor_id=SENSOR,
            quantity="noise_laeq_dba",
            value=v,
            observed_at=at,
            received_at=at,
            interval_s=86_400,
        )  # fmt: skip
        for at, v in points
    ]


def judge(points: list[tuple[datetime, float]], silence_at: datetime | None = None) -> list[str]:
    detector = TelemetryIntegrityDetector(IntegritySettings())
    found: list[Detection] = []
    for obs in observations(points):
        found += detector.step(obs, obs.observed_at)
        found += detector.check_silence(obs.observed_at)
    if silence_at is not None:
        found += detector.check_silence(silence_at)
    return [f"{d.detection_type}@{d.observed_at.date()}" for d in found]


def test_the_clean_real_series_raises_nothing(series: list[tuple[datetime, float]]) -> None:
    assert judge(series) == []  # false positives: 0 over the whole run


def test_out_of_limits(series: list[tuple[datetime, float]]) -> None:
    faulty = list(series)
    at, _ = faulty[50]
    faulty[50] = (at, -3.0)  # a negative sound level cannot be measured
    # the dip and the recovery are also impossible changes: the same fault, seen three ways
    assert judge(faulty) == [
        f"cyber.telemetry_out_of_limits@{at.date()}",
        f"cyber.telemetry_impossible_change@{at.date()}",
        f"cyber.telemetry_impossible_change@{faulty[51][0].date()}",
    ]


def test_impossible_change(series: list[tuple[datetime, float]]) -> None:
    faulty = [(at, v + 45.0 if i >= 60 else v) for i, (at, v) in enumerate(series)]
    assert judge(faulty) == [f"cyber.telemetry_impossible_change@{series[60][0].date()}"]


def test_stuck_value(series: list[tuple[datetime, float]]) -> None:
    faulty = [(at, 61.3 if 40 <= i < 48 else v) for i, (at, v) in enumerate(series)]
    assert judge(faulty) == [f"cyber.telemetry_stuck_value@{series[45][0].date()}"]


def test_replayed_sequence(series: list[tuple[datetime, float]]) -> None:
    # days 70..79 carry the values of days 10..19: a recording played back with new dates
    faulty = [(at, series[i - 60][1] if 70 <= i < 80 else v) for i, (at, v) in enumerate(series)]
    found = judge(faulty)
    assert found and {f.split("@")[0] for f in found} <= {
        "cyber.telemetry_replayed_sequence",
        "cyber.telemetry_impossible_change",
    }
    assert found[0] == f"cyber.telemetry_replayed_sequence@{series[76][0].date()}"


def test_replayed_timestamp(series: list[tuple[datetime, float]]) -> None:
    faulty = [*series[:30], series[20], *series[30:]]
    assert judge(faulty) == [f"cyber.telemetry_replayed_timestamp@{series[20][0].date()}"]


def test_flapping(series: list[tuple[datetime, float]]) -> None:
    # swings of 25 dBA, each believable alone, up and down day after day
    base = series[29][1]
    faulty = [(at, base + (25.0 if i % 2 else 0.0) if 30 <= i < 37 else v)
              for i, (at, v) in enumerate(series)]  # fmt: skip
    assert judge(faulty) == [f"cyber.telemetry_flapping@{series[35][0].date()}"]


def test_silence(series: list[tuple[datetime, float]]) -> None:
    faulty = series[:80]
    end = faulty[-1][0] + timedelta(days=4)
    assert judge(faulty, silence_at=end) == [f"cyber.telemetry_silence@{end.date()}"]
