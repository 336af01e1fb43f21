"""The live telemetry stage on real series (Melbourne hourly counts, Ruzafa daily noise) with
the bus redelivering batches: exactly what the offline detectors find, no replay alarm from a
redelivery, and a forged replay still found."""

from __future__ import annotations

import csv
import gzip
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.baseline import TelemetryBaselineDetector
from smartspaces.detect.cyber.consistency import SensorConsistencyDetector
from smartspaces.detect.cyber.integrity import TelemetryIntegrityDetector
from smartspaces.detect.cyber.telemetry_stage import TelemetryIntegrityStage
from smartspaces.events import Detection, Observation
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata
PAIR = ("counter-qv/entries_count", "camera-qv/zone_count_persons")


def reading(sensor: str, quantity: str, value: float, at: datetime, interval_s: float,
            source: str = "city-edge") -> Observation:  # fmt: skip
    return Observation(source=source, space_id="qv-market", sensor_id=sensor, quantity=quantity,
                       value=value, observed_at=at, received_at=at + timedelta(seconds=5),
                       interval_s=interval_s)  # fmt: skip


@pytest.fixture(scope="module")
def melbourne() -> list[Observation]:
    path = shared_data(
        "melbourne-pedestrian-counts", "melbourne_pedestrian_hourly_2015_2016.csv.gz"
    )
    with gzip.open(path, "rt", newline="") as handle:
        rows = sorted(
            (datetime.fromisoformat(r["date_time_utc"].replace("Z", "+00:00")), float(r["count"]))
            for r in csv.DictReader(handle)
            if r["sensor"] == "QV Market-Elizabeth St (West)"
        )  # fmt: skip
    rnd = random.Random(21)  # a camera that sees about a sixth of the walkers
    out: list[Observation] = []
    for at, walkers in rows:
        out.append(reading("counter-qv", "entries_count", walkers, at, 3600))
        seen = max(0, round(walkers / 6 * rnd.lognormvariate(0, 0.2)))
        out.append(reading("camera-qv", "zone_count_persons", float(seen), at, 3600))
    assert len(out) > 34_000
    return out


@pytest.fixture(scope="module")
def ruzafa() -> list[Observation]:
    path = shared_data("valencia-ruzafa-noise", "ruzafa_noise_daily.csv")
    with path.open(newline="") as handle:
        rows = sorted(
            (datetime.combine(date.fromisoformat(r["dateObserved"]), datetime.min.time(), UTC),
             float(r["LAeq"]))
            for r in csv.DictReader(handle)
            if r["entityId"] == "T248661-daily"
        )  # fmt: skip
    return [reading("T248661-daily", "noise_laeq_dba", v, at, 86_400) for at, v in rows]


def offline(readings: list[Observation], settings: IntegritySettings) -> list[str]:
    """What the three detectors find when every reading is delivered once."""
    detectors = (TelemetryIntegrityDetector(settings), SensorConsistencyDetector(settings),
                 TelemetryBaselineDetector(settings))  # fmt: skip
    return [d.id for o in readings for det in detectors for d in det.step(o, o.observed_at)]


def live(readings: list[Observation], settings: IntegritySettings, seed: int) -> list[Detection]:
    """Through the stage in batches of 64; one in five batches is nak'd and delivered again,
    one in twenty again after a restart of the embedded bus (num_delivered back at 1)."""
    stage = TelemetryIntegrityStage(settings)
    rnd = random.Random(seed)
    found: list[Detection] = []
    for start in range(0, len(readings), 64):
        batch = readings[start : start + 64]
        found += [d for o in batch for d in stage.step(o, o.observed_at)]
        roll = rnd.random()
        if roll < 0.25:
            redelivered = roll < 0.2
            found += [d for o in batch for d in stage.step(o, o.observed_at, redelivered)]
    assert stage.counts["repeated"] > 0
    return found


def distinct(found: list[Detection]) -> list[str]:
    return list(dict.fromkeys(d.id for d in found))


def test_real_counts_and_camera_through_the_stage_find_what_the_detectors_find(
    melbourne: list[Observation],
) -> None:
    settings = IntegritySettings(
        baseline_timezone="Australia/Melbourne", correlated_sensors=(PAIR,)
    )
    found = live(melbourne, settings, seed=3)
    assert distinct(found) == offline(melbourne, settings)
    kinds = {d.detection_type for d in found}
    # the counts' own surprises (White Night, Christmas ...) for the baseline, nothing else
    assert kinds == {"cyber.telemetry_out_of_baseline"}, kinds
    assert len(distinct(found)) == 10  # the counter's 10 of tests/realdata (no camera baseline)


def test_real_noise_through_the_stage_raises_no_integrity_alarm_but_finds_a_forged_replay(
    ruzafa: list[Observation],
) -> None:
    settings = IntegritySettings()
    found = live(ruzafa, settings, seed=5)
    assert distinct(found) == offline(ruzafa, settings)
    assert {d.detection_type for d in found} <= {"cyber.telemetry_out_of_baseline"}
    # a recorded day sent again a month later from another gateway: a new message, an old time
    old = ruzafa[300]
    forged = reading(old.sensor_id, old.quantity, old.value, old.observed_at, 86_400, "gw-x")
    forged = forged.model_copy(update={"received_at": ruzafa[330].received_at})
    replayed = [*ruzafa[:330], forged, *ruzafa[330:]]
    alarms = [d for d in live(replayed, settings, seed=5)
              if d.detection_type == "cyber.telemetry_replayed_timestamp"]  # fmt: skip
    assert [(d.derived_from, d.level.value) for d in alarms] == [((forged.id,), "red")]
