"""Telemetry detectors on generated series: evidence in attributes, correlated sensors that
disagree, per-device baselines; what each compares is named."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.assets import asset_map_from_dict
from smartspaces.detect.cyber.baseline import TelemetryBaselineDetector
from smartspaces.detect.cyber.consistency import SensorConsistencyDetector
from smartspaces.detect.cyber.integrity import TelemetryIntegrityDetector
from smartspaces.events import Detection, Level, Observation

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
MADRID = ZoneInfo("Europe/Madrid")  # the baselines' default rhythm zone
PAIR = ("counter-3/occupancy_persons", "camera-7/zone_count_persons")
ASSETS = asset_map_from_dict({
    "devices": [
        {"id": "counter-3", "address": "10.30.0.3", "asset_id": "counting-gateway"},
        {"id": "camera-7", "address": "10.20.0.7", "asset_id": "cctv"},
    ],
    "assets": [{"id": "counting-gateway"}, {"id": "cctv"}],
})  # fmt: skip


def reading(sensor: str, quantity: str, value: float, at: datetime, interval_s: float = 60.0
            ) -> Observation:  # fmt: skip
    return Observation(source="plaza-edge", space_id="plaza", sensor_id=sensor,
                       quantity=quantity, value=value, observed_at=at, received_at=at,
                       interval_s=interval_s)  # fmt: skip


def test_integrity_detections_name_device_quantity_value_and_asset() -> None:
    detector = TelemetryIntegrityDetector(IntegritySettings(), ASSETS)
    (found,) = detector.step(reading("counter-3", "occupancy_persons", -4, T0), T0)
    assert found.detection_type == "cyber.telemetry_out_of_limits"
    assert found.attributes == {
        "device_id": "counter-3", "quantity": "occupancy_persons", "value": -4.0,
        "asset_id": "counting-gateway", "limit_low": 0.0, "limit_high": 1_000_000.0,
    }  # fmt: skip


def plaza_evening(minutes: int, seed: int = 4) -> list[tuple[datetime, float, float]]:
    """A square filling up for a concert: the counter counts the whole square, the camera
    sees about a quarter of it; both with their own noise."""
    rnd = random.Random(seed)
    out = []
    for m in range(minutes):
        crowd = 40 + 1800 / (1 + math.exp(-(m - 120) / 25))  # a logistic fill
        counter = max(0.0, round(crowd * rnd.gauss(1, 0.05)))
        camera = max(0.0, round(crowd * 0.25 * rnd.gauss(1, 0.12)))
        out.append((T0 + timedelta(hours=18, minutes=m), counter, camera))
    return out


def judge_pair(series: list[tuple[datetime, float, float]], **overrides: object
               ) -> list[Detection]:  # fmt: skip
    settings = IntegritySettings(correlated_sensors=(PAIR,), **overrides)  # type: ignore[arg-type]
    detector = SensorConsistencyDetector(settings, ASSETS)
    found: list[Detection] = []
    for at, counter, camera in series:
        # the camera reports 20 s after the counter: near enough to compare (skew 120 s)
        found += detector.step(reading("counter-3", "occupancy_persons", counter, at), at)
        late = at + timedelta(seconds=20)
        found += detector.step(reading("camera-7", "zone_count_persons", camera, late), late)
    return found


def test_agreeing_counter_and_camera_raise_nothing_however_fast_the_square_fills() -> None:
    assert judge_pair(plaza_evening(240)) == []


def test_a_counter_spoofed_to_near_empty_while_the_camera_sees_a_crowd() -> None:
    series = plaza_evening(240)
    spoofed = [(at, 12.0 if 150 <= i < 170 else c, cam) for i, (at, c, cam) in
               enumerate(series)]  # fmt: skip
    (found,) = judge_pair(spoofed)
    assert found.detection_type == "cyber.telemetry_inconsistent" and found.level is Level.RED
    # reported at the second inconsistent reading in a row, once for the whole episode
    assert found.observed_at == series[151][0] + timedelta(seconds=20)
    a = found.attributes
    assert (a["device_id"], a["value"], a["asset_id"]) == ("counter-3", 12.0, "counting-gateway")
    assert (a["reference_device_id"], a["reference_asset_id"]) == ("camera-7", "cctv")
    assert a["reference_value"] == series[151][2] and a["direction"] == "below"
    assert 3.5 < float(a["expected_ratio"]) < 4.5  # learnt: the camera sees about a quarter
    assert float(a["expected_value"]) > 1000 and float(a["disagreement_factor"]) >= 16
    assert "counter-3 occupancy_persons = 12 while camera-7 zone_count_persons" in found.summary
    assert "reads far lower than its partner implies (about" in found.summary
    assert len(found.derived_from) == 2


def test_a_camera_feed_replaced_by_an_empty_recording_is_found_too() -> None:
    series = plaza_evening(240)
    replayed = [(at, c, 0.0 if i >= 200 else cam) for i, (at, c, cam) in enumerate(series)]
    (found,) = judge_pair(replayed)
    assert found.attributes["direction"] == "above" and found.attributes["reference_value"] == 0


def test_one_odd_reading_is_not_reported_and_near_empty_always_agrees() -> None:
    series = plaza_evening(240)
    glitch = [(at, 0.0 if i == 180 else c, cam) for i, (at, c, cam) in enumerate(series)]
    assert judge_pair(glitch) == []
    night = [(T0 + timedelta(minutes=m), float(m % 3), float(m % 5 == 0)) for m in range(300)]
    assert judge_pair(night, consistency_warmup=2) == []  # few against few: noise


def test_each_reading_is_compared_once_and_stale_partners_not_at_all() -> None:
    settings = IntegritySettings(correlated_sensors=(PAIR,), consistency_warmup=2,
                                 consistency_min_readings=1)  # fmt: skip
    detector = SensorConsistencyDetector(settings)
    found: list[Detection] = []
    for m in range(5):  # learn a ratio of 4
        at = T0 + timedelta(minutes=m)
        found += detector.step(reading("counter-3", "occupancy_persons", 400, at), at)
        found += detector.step(reading("camera-7", "zone_count_persons", 100, at), at)
    later = T0 + timedelta(minutes=30)  # the camera's last reading is 26 minutes old
    found += detector.step(reading("counter-3", "occupancy_persons", 0, later), later)
    assert found == []
    at = later + timedelta(seconds=10)
    found += detector.step(reading("camera-7", "zone_count_persons", 100, at), at)
    assert len(found) == 1
    # a reading already compared is not compared again with the partner's next one
    at += timedelta(seconds=10)
    assert detector.step(reading("camera-7", "zone_count_persons", 100, at), at) == []


@pytest.mark.parametrize("pair", [("counter-3", "camera-7/zone_count_persons"), (PAIR[0], PAIR[0])])
def test_badly_written_pairs_are_refused_when_settings_load(pair: tuple[str, str]) -> None:
    with pytest.raises(ValidationError):
        IntegritySettings(correlated_sensors=(pair,))


def weeks_of_counts(weeks: int, seed: int = 8) -> list[tuple[datetime, float]]:
    """Hourly entries at a station gate: commuter peaks on weekdays, quiet nights."""
    rnd = random.Random(seed)
    out = []
    for h in range(weeks * 168):
        at = T0 + timedelta(hours=h)
        local = at.astimezone(MADRID)
        local_hour, weekday = local.hour, local.weekday() < 5
        peak = 900 * math.exp(-(((local_hour - 8.5) / 1.5) ** 2)) + 700 * math.exp(
            -(((local_hour - 18) / 2) ** 2)
        )
        level = (peak if weekday else peak * 0.3) + 60 * (6 <= local_hour <= 23) + 5
        out.append((at, float(round(level * rnd.lognormvariate(0, 0.12)))))
    return out


def judge_baseline(series: list[tuple[datetime, float]]) -> list[Detection]:
    detector = TelemetryBaselineDetector(IntegritySettings(), ASSETS)
    found: list[Detection] = []
    for at, value in series:
        found += detector.step(reading("counter-3", "entries_count", value, at, 3600), at)
    return found


def test_a_device_that_behaves_like_itself_raises_nothing() -> None:
    assert judge_baseline(weeks_of_counts(12)) == []


def test_readings_far_from_the_devices_own_band_are_reported_with_the_band() -> None:
    series = weeks_of_counts(12)
    monday_rush = 10 * 168 + 6  # Monday 08:00 in Madrid (summer time), ten weeks in
    sunday_night = 10 * 168 + 6 * 24 + 1  # Sunday 03:00
    faulty = list(series)
    for i in range(monday_rush, monday_rush + 3):  # the rush hour reported as empty
        faulty[i] = (series[i][0], 0.0)
    faulty[sunday_night] = (series[sunday_night][0], 2500.0)
    below, above = judge_baseline(faulty)
    assert below.observed_at == series[monday_rush][0]  # one report for the whole episode
    assert above.observed_at == series[sunday_night][0]
    a = below.attributes
    assert (a["device_id"], a["quantity"], a["value"], a["asset_id"]) == (
        "counter-3", "entries_count", 0.0, "counting-gateway",
    )  # fmt: skip
    assert (a["direction"], a["slot"], a["season"], a["scale"]) == (
        "below", "Mon 08:00", "hour_of_week", "log1p",
    )  # fmt: skip
    assert float(a["expected_low"]) < float(a["expected_value"]) < float(a["expected_high"])
    assert float(a["expected_low"]) > 50 and a["readings_count"] == 10
    assert a["model"] == "rolling quartiles (river)"
    assert "far below what it usually reports for Mon 08:00: expected about" in below.summary
    assert above.attributes["direction"] == "above" and above.attributes["slot"] == "Sun 03:00"


def test_quantities_without_a_baseline_and_replayed_readings_are_not_judged() -> None:
    detector = TelemetryBaselineDetector(IntegritySettings(baseline_quantities={
        "entries_count": "none"}))  # fmt: skip
    days = [T0 + timedelta(days=k) for k in range(12)]
    for k, at in enumerate(days):
        assert detector.step(reading("meter-1", "temperature_c", 1e6 * (k % 2), at), at) == []
        assert detector.step(reading("counter-3", "entries_count", 100 + k, at), at) == []
    # a replayed (not newer) reading is the integrity detector's to report, not learnt here
    old = reading("counter-3", "entries_count", 90_000, days[3])
    assert detector.step(old, days[-1]) == []
    fresh = days[-1] + timedelta(days=1)
    (found,) = detector.step(reading("counter-3", "entries_count", 90_000, fresh), fresh)
    assert found.attributes["slot"] == "any time" and found.attributes["season"] == "none"


def test_the_scripted_valencia_counters_raise_no_integrity_detection() -> None:
    """Small counts repeat by chance (a few people per 10 s on a side street): the stuck and
    replay rules must not take that for a faulty or spoofed sensor. Zero false alarms over the
    whole demo scenario, about 15,000 readings."""
    from smartspaces.config import ScenarioSettings
    from smartspaces.scenarios.valencia.scenario import ValenciaScenario

    detector = TelemetryIntegrityDetector(IntegritySettings())
    readings = [
        o for step in ValenciaScenario(ScenarioSettings()).steps() for o in step.observations
    ]
    assert len(readings) > 10_000
    found = [d for o in readings for d in detector.step(o, o.observed_at)]
    assert found == []


def test_a_busy_counter_repeating_itself_is_still_stuck_and_a_rich_sequence_replayed() -> None:
    detector = TelemetryIntegrityDetector(IntegritySettings())
    start = datetime(2026, 3, 15, 12, tzinfo=UTC)
    values = [42.0] * 6 + [11, 25, 13, 30, 17, 22, 40, 5, 5, 5] + [11, 25, 13, 30, 17, 22, 40]
    kinds = []
    for i, value in enumerate(values):
        at = start + timedelta(seconds=10 * i)
        obs = Observation(source="t", space_id="plaza", observed_at=at, received_at=at,
                          sensor_id="counter-1", quantity="entries_count", value=value)  # fmt: skip
        kinds += [d.detection_type for d in detector.step(obs, at)]
    assert kinds.count("cyber.telemetry_stuck_value") == 1  # 42 six times: a busy counter stuck
    assert kinds.count("cyber.telemetry_replayed_sequence") == 1  # 7 distinct readings again
