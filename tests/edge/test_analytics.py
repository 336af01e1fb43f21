"""Edge analytics: windows, deadband, rate limits and device health, on realistic streams."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.edge.analytics import Deadband, RateLimiter, SlidingWindow, TumblingWindow
from smartspaces.edge.health import DeviceHealthMonitor
from smartspaces.events import Device
from tests.conftest import T0, counts


def test_tumbling_window_sums_counts_per_minute_and_names_its_inputs() -> None:
    window = TumblingWindow(60, "sum")
    out = []
    readings = [counts("entries_count", 5, T0 + timedelta(seconds=10 * i)) for i in range(13)]
    for reading in readings:
        out += window.step(reading)
    out += window.flush()
    assert [(o.observed_at, o.value, o.interval_s) for o in out] == [
        (T0 + timedelta(seconds=60), 30, 60.0),
        (T0 + timedelta(seconds=120), 30, 60.0),
        (T0 + timedelta(seconds=180), 5, 60.0),
    ]
    assert out[0].derived_from == tuple(r.id for r in readings[:6])


@given(st.lists(st.integers(0, 100), min_size=1, max_size=200), st.sampled_from([10, 30, 60]))
def test_tumbling_sums_lose_and_invent_nothing(values: list[int], width: int) -> None:
    window = TumblingWindow(width, "sum")
    out = []
    for i, value in enumerate(values):
        out += window.step(counts("entries_count", value, T0 + timedelta(seconds=7 * i)))
    out += window.flush()
    assert sum(o.value for o in out) == sum(values)


def test_sliding_window_keeps_only_the_last_width() -> None:
    window = SlidingWindow(30, "sum")
    assert [window.step(T0 + timedelta(seconds=10 * i), 1) for i in range(6)] == [1, 2, 3, 3, 3, 3]


def test_deadband_reports_changes_and_a_heartbeat() -> None:
    band = Deadband(band=0.5, heartbeat_s=60)
    values = [60.0, 60.2, 60.4, 61.0, 61.1, 61.1, 61.1, 61.1, 61.1, 61.1]
    sent = [
        band.step(counts("occupancy_persons", v, T0 + timedelta(seconds=10 * i)))
        for i, v in enumerate(values)
    ]
    # 60.0 first; 61.0 (t = 30 s) moved > 0.5; then the 60 s heartbeat at t = 90 s
    assert sent == [True, False, False, True, False, False, False, False, False, True]


def test_rate_limit_lets_a_burst_through_then_the_sustained_rate() -> None:
    limiter = RateLimiter(rate_per_s=10, burst=20)
    assert sum(limiter.allow("c1", T0) for _ in range(30)) == 20
    assert limiter.allow("c2", T0)  # another device has its own bucket
    assert not limiter.allow("c1", T0 + timedelta(seconds=0.05))
    assert sum(limiter.allow("c1", T0 + timedelta(seconds=1)) for _ in range(30)) == 10
    assert not limiter.allow("c1", T0 + timedelta(seconds=2), cost=1000)  # a batch too big


@pytest.mark.parametrize("bad", [(0, 1), (1, 0.5)])
def test_nonsense_limits_are_refused(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimiter(*bad)


def test_device_health_silence_flapping_and_skew() -> None:
    device = Device(id="c1", kind="people_counter", space_id="plaza", expected_interval_s=10)
    monitor = DeviceHealthMonitor({"c1": device}, silence_factor=3, max_skew_s=30, flap_count=3)
    assert monitor.step(counts("entries_count", 1, T0), T0) == []
    assert monitor.tick(T0 + timedelta(seconds=25)) == []  # within 3 x 10 s
    (silent,) = monitor.tick(T0 + timedelta(seconds=45))
    assert (silent.quantity, silent.value, silent.sensor_id) == ("device_silence_s", 45, "c1")
    assert monitor.tick(T0 + timedelta(seconds=90)) == []  # reported once per silence
    statuses = []
    for minute in (2, 4):  # it comes back and goes silent again, twice more: flapping
        back = T0 + timedelta(minutes=minute)
        monitor.step(counts("entries_count", 1, back), back)
        statuses += monitor.tick(back + timedelta(seconds=40))
    assert [s.quantity for s in statuses] == [
        "device_silence_s",
        "device_silence_s",
        "device_flaps_count",
    ]
    skewed = counts("entries_count", 1, T0 + timedelta(minutes=10))
    (skew,) = monitor.step(skewed, T0 + timedelta(minutes=5))
    assert (skew.quantity, skew.value) == ("device_clock_skew_s", 300)
    assert monitor.step(counts("entries_count", 1, T0, sensor="unknown"), T0) == []
