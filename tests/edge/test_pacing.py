"""Pacing by the buffer's rate factor: alarms always pass, slowed streams keep their spacing."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from smartspaces.edge.buffer.pacing import Pacer
from smartspaces.edge.buffer.policy import Priority, priority_of
from smartspaces.events import Observation
from tests.conftest import T0


def reading(quantity: str, second: float, value: float = 0.5, sensor: str = "c1") -> Observation:
    return Observation(
        source="mqtt",
        space_id="plaza",
        observed_at=T0 + timedelta(seconds=second),
        received_at=T0,
        sensor_id=sensor,
        quantity=quantity,
        value=value,
        interval_s=1.0,
    )


def test_at_full_rate_nothing_is_thinned() -> None:
    pacer = Pacer(lambda _: 1.0)
    batch = [reading("battery_ratio", s) for s in range(10)]
    assert pacer.step(batch).kept == batch
    assert pacer.thinned == 0


def test_a_quarter_rate_keeps_one_reading_in_four_per_stream() -> None:
    pacer = Pacer(lambda p: 0.25 if p is Priority.LOW else 1.0)
    batch = [reading("battery_ratio", s, sensor=f"c{s % 2}") for s in range(16)]
    batch += [reading("entries_count", s, value=3) for s in range(16)]
    paced = pacer.step(batch)
    battery = [o for o in paced.kept if o.quantity == "battery_ratio"]
    # each of the two sensors reports every 2 s: every other reading is 4 s after the last kept
    assert [o.observed_at.second - T0.second for o in battery] == [0, 1, 4, 5, 8, 9, 12, 13]
    assert sum(o.quantity == "entries_count" for o in paced.kept) == 16
    assert paced.thinned == pacer.thinned == 8


quantities = st.sampled_from(["battery_ratio", "entries_count", "density_p_m2", "temperature_k"])
readings = st.lists(
    st.tuples(quantities, st.integers(0, 120), st.floats(0, 12)), min_size=1, max_size=60
)


@given(readings=readings, low=st.floats(0.05, 1.0), normal=st.floats(0.25, 1.0))
def test_alarms_are_never_thinned_and_kept_readings_keep_their_spacing(
    readings: list[tuple[str, int, float]], low: float, normal: float
) -> None:
    factors = {Priority.LOW: low, Priority.NORMAL: normal, Priority.ALARM: 1.0}
    pacer = Pacer(factors.__getitem__)
    batch = [reading(q, s, v if q != "temperature_k" else 290.0) for q, s, v in sorted(readings)]
    paced = pacer.step(batch)
    alarms = [o for o in batch if priority_of(o) is Priority.ALARM]
    assert all(o in paced.kept for o in alarms)
    assert len(paced.kept) + paced.thinned == len(batch)
    last: dict[str, float] = {}
    for o in paced.kept:
        factor = factors[priority_of(o)]
        at = o.observed_at.timestamp()
        if factor < 1.0 and o.quantity in last:
            assert at - last[o.quantity] >= 0.98 / factor - 1e-9
        last[o.quantity] = at
