"""The live telemetry stage: the bus delivering a reading again is never a replay alarm, a new
message with an old time still is; hostile readings are reported and kept out of the state."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config import IntegritySettings
from smartspaces.detect.cyber.telemetry_stage import TelemetryIntegrityStage
from smartspaces.events import Detection, Observation

T0 = datetime(2026, 3, 15, 12, tzinfo=UTC)
REPLAY = "cyber.telemetry_replayed_timestamp"


def noise(value: float, i: int, source: str = "ruzafa-edge", late_s: float = 0.0) -> Observation:
    at = T0 + timedelta(minutes=i)
    return Observation(source=source, space_id="plaza", sensor_id="noise-1",
                       quantity="noise_laeq_dba", value=value, observed_at=at,
                       received_at=at + timedelta(seconds=1 + late_s), interval_s=60)  # fmt: skip


def types(found: list[Detection]) -> list[str]:
    return [d.detection_type for d in found]


def walk(n: int, seed: int = 1) -> list[Observation]:
    rnd = random.Random(seed)
    return [noise(round(55 + 8 * rnd.random(), 1), i) for i in range(n)]


def test_the_same_message_again_gives_the_same_detections_and_never_a_replay() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    readings = [*walk(5), noise(200.0, 5), *walk(10)[6:]]  # 200 dBA: out of limits
    first = [stage.step(o, T0) for o in readings]
    assert types(first[5]) == ["cyber.telemetry_out_of_limits", "cyber.telemetry_impossible_change"]
    for redelivered in (True, False):  # nak'd batch; replayed by the embedded bus's restart
        again = [stage.step(o, T0 + timedelta(hours=1), redelivered) for o in readings]
        assert again == first  # same ids: publishing them again is a no-op
    assert stage.counts["repeated"] == 2 * len(readings)


def test_a_new_message_with_an_old_time_is_a_replay() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    readings = walk(10)
    for o in readings:
        assert stage.step(o, T0) == []
    original = readings[3]
    # another ingress (a new id), the same time and value: an attacker replaying a recording
    forged = noise(original.value, 3, source="spoofed-gateway")
    assert forged.id != original.id
    assert types(stage.step(forged, T0)) == [REPLAY]
    # the same id with other content: the sensor's own message captured and sent again later
    # (the edge stamps a new received_at), past the bus's dedup window
    resent = noise(original.value, 3, late_s=3600)
    assert resent.id == original.id
    (found,) = stage.step(resent, T0, redelivered=False)
    assert found.detection_type == REPLAY and found.level.value == "red"


def test_a_forgotten_redelivery_is_skipped_but_a_forgotten_new_message_is_not() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings(seen_readings=2))
    readings = walk(10)
    for o in readings:
        stage.step(o, T0)
    assert stage.remembered_count == 2  # bounded
    assert stage.step(readings[1], T0, redelivered=True) == []
    assert stage.counts["stale_redelivery"] == 1
    # num_delivered == 1 and nothing remembered: judged as the detector always did
    assert types(stage.step(readings[1], T0, redelivered=False)) == [REPLAY]


def test_restore_recognises_what_the_bus_delivers_again_after_a_restart() -> None:
    readings = [*walk(20), *(noise(61.3, i) for i in range(20, 28)), *walk(40, seed=2)[28:]]
    clean = TelemetryIntegrityStage(IntegritySettings())
    expected = [d for o in readings for d in clean.step(o, T0)]
    assert "cyber.telemetry_stuck_value" in types(expected)

    before = TelemetryIntegrityStage(IntegritySettings())
    for o in readings[:25]:
        before.step(o, T0)  # ... then the process dies before acking readings 15..24
    after = TelemetryIntegrityStage(IntegritySettings())
    stored = [Observation.model_validate_json(o.model_dump_json()) for o in readings[:25]]
    assert after.restore(reversed(stored)) == 25  # the store gives them newest first
    # the embedded bus counts from 1 again: redelivered=False for all of them
    found = [d for o in readings[15:] for d in after.step(o, T0)]
    assert found == expected and after.counts["repeated"] == 10


def test_restore_uses_only_the_newest_readings() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings(restore_readings=5))
    assert stage.restore(walk(30)) == 5
    assert stage.remembered_count == 5


def test_device_health_readings_are_not_telemetry() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    health = noise(1.0, 0).model_copy(update={"quantity": "device_silence_s"})
    assert stage.step(health, T0) == [] and stage.remembered_count == 0


def raw(value: float, i: int, at: datetime | None = None) -> Observation:
    """A reading that skipped validation (the edge's hot path builds events unchecked)."""
    obs = noise(0.0, i)
    return Observation.from_validated(**{**obs.__dict__, "value": value,
                                         "observed_at": at or obs.observed_at})  # fmt: skip


def test_nan_infinities_and_huge_values_are_reported_and_kept_out() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    for o in walk(5):
        stage.step(o, T0)
    hostile = [raw(float("nan"), 5), raw(float("inf"), 6), raw(-float("inf"), 7),
               raw(1e300, 8), raw(-1.7e308, 9)]  # fmt: skip
    for o in hostile:
        (found,) = stage.step(o, T0)
        assert found.detection_type == "cyber.telemetry_invalid_value"
        Detection.model_validate_json(found.model_dump_json())  # storable: no NaN inside
        assert stage.step(o, T0, redelivered=True) == [found]
    # the honest readings after them are judged against the honest ones before
    assert [d for o in walk(20)[10:] for d in stage.step(o, T0)] == []


def test_a_reading_from_the_far_future_does_not_make_honest_ones_look_replayed() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    for o in walk(5):
        stage.step(o, T0)
    ahead = raw(57.0, 5, at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    (found,) = stage.step(ahead, T0)
    assert found.detection_type == "cyber.telemetry_future_timestamp"
    assert found.observed_at == ahead.received_at  # not dated in year 9999
    past = raw(57.0, 6, at=datetime(1, 1, 1, tzinfo=UTC))
    assert types(stage.step(past, T0)) == ["cyber.telemetry_invalid_timestamp"]
    assert [d for o in walk(20)[6:] for d in stage.step(o, T0)] == []


def test_wrong_units_are_out_of_limits() -> None:
    stage = TelemetryIntegrityStage(IntegritySettings())
    for o in walk(5):
        stage.step(o, T0)
    # a firmware update reports bels instead of decibels
    assert "cyber.telemetry_out_of_limits" in types(stage.step(noise(5.7, 5), T0))
    occupancy = noise(-250.0, 6).model_copy(update={"quantity": "occupancy_persons"})
    assert types(stage.step(occupancy, T0)) == ["cyber.telemetry_out_of_limits"]


def test_the_scripted_valencia_counters_raise_nothing_even_when_redelivered() -> None:
    from smartspaces.config import ScenarioSettings
    from smartspaces.scenarios.valencia.scenario import ValenciaScenario

    stage = TelemetryIntegrityStage(IntegritySettings())
    readings = [o for s in ValenciaScenario(ScenarioSettings()).steps() for o in s.observations]
    rnd = random.Random(7)
    found: list[Detection] = []
    for start in range(0, len(readings), 512):  # batches, a tenth of them nak'd and redelivered
        batch = readings[start : start + 512]
        found += [d for o in batch for d in stage.step(o, o.observed_at)]
        if rnd.random() < 0.1:
            found += [d for o in batch for d in stage.step(o, o.observed_at, redelivered=True)]
    assert len(readings) > 10_000 and found == []  # false alarms: 0


def distinct(found: list[Detection]) -> list[str]:
    return list(dict.fromkeys(d.id for d in found))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[Observation], list[tuple[int, bool]]]:
    """A sensor's readings with faults and forged replays, and an at-least-once delivery of
    them: each message once in order, some again later (nak'd: redelivered; after a restart
    of the embedded bus: looking new)."""
    n = draw(st.integers(5, 60))
    values = draw(st.lists(st.floats(0, 160, allow_nan=False).map(lambda v: round(v, 1)),
                           min_size=n, max_size=n))  # fmt: skip
    readings = [noise(v, i) for i, v in enumerate(values)]
    originals = list(readings)
    for at in draw(st.lists(st.integers(0, n - 1), max_size=4)):
        after = readings.index(originals[at]) + 1  # a recording is replayed after it was made
        readings.insert(draw(st.integers(after, len(readings))),
                        noise(values[at], at, source="spoofed-gateway"))  # fmt: skip
    order: list[tuple[int, bool]] = []
    for i in range(len(readings)):
        order.append((i, False))
        for _ in range(draw(st.integers(0, 2))):
            j = draw(st.integers(max(0, i - 8), i))
            order.append((j, draw(st.booleans())))
    return readings, order


@settings(max_examples=150, deadline=None)
@given(deliveries())
def test_any_redelivery_pattern_gives_the_detections_of_a_clean_run(
    case: tuple[list[Observation], list[tuple[int, bool]]],
) -> None:
    readings, order = case
    clean = TelemetryIntegrityStage(IntegritySettings())
    expected = [d for o in readings for d in clean.step(o, T0)]
    stage = TelemetryIntegrityStage(IntegritySettings(seen_readings=16))
    found: list[Detection] = []
    for i, redelivered in order:
        found += stage.step(readings[i], T0, redelivered)
    assert distinct(found) == distinct(expected)
    forged = sum(o.source == "spoofed-gateway" for o in readings)
    assert sum(d.detection_type == REPLAY for d in expected) <= forged


def test_only_aggregated_readings_are_judged_against_their_baseline() -> None:
    """A daily noise level far above its usual is out of baseline; a 10 s count is never
    judged against one (it has no hour-of-week rhythm of its own), however unusual."""

    def daily(value: float, day: int, interval_s: float) -> Observation:
        at = T0 + timedelta(days=7 * day)  # the same weekday: one slot of the rhythm
        return Observation(source="s", space_id="plaza", sensor_id="noise-1",
                           quantity="noise_laeq_dba", value=value, observed_at=at,
                           received_at=at, interval_s=interval_s)  # fmt: skip

    for interval_s, expected in ((86_400.0, 1), (10.0, 0)):
        stage = TelemetryIntegrityStage(IntegritySettings())
        found: list[Detection] = []
        for day in range(10):
            found += stage.step(daily(60.0 + (day % 3) * 0.5, day, interval_s), T0)
        found += stage.step(daily(95.0, 10, interval_s), T0)
        baseline = [d for d in found if d.detection_type == "cyber.telemetry_out_of_baseline"]
        assert len(baseline) == expected, interval_s
