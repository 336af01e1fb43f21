"""Occupancy from counters with drift correction, on series with injected counting drift."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.occupancy import MAX_BIAS, OccupancyEstimator
from tests.conftest import T0

STEP_S = 10


def day(seed: int, miss_exits: float) -> list[tuple[int, int, int, int]]:
    """A busy square over 4 hours in 10 s steps, filling to ~2,000 people in the first hour
    and turning over ever after: (true occupancy, entries, exits counted, true exits). The
    exit counter misses ``miss_exits`` of the people leaving (people walking in groups)."""
    rng = random.Random(seed)
    rows, inside = [], 0
    for k in range(4 * 360):
        target = 2000 * min(1.0, k / 360)
        arrive = max(0, round(rng.gauss(15 + max(0.0, target - inside) / 30, 4)))
        leave = min(inside + arrive, max(0, round(rng.gauss(15, 4))))
        inside += arrive - leave
        seen = sum(1 for _ in range(leave) if rng.random() >= miss_exits)
        rows.append((inside, arrive, seen, leave))
    return rows


def test_an_uncorrected_balance_drifts_away_with_missed_exits() -> None:
    estimate = OccupancyEstimator()
    rows = day(seed=1, miss_exits=0.05)
    for _, entries, exits, _ in rows:
        estimate.count(entries, exits)
    true_final = rows[-1][0]
    drift = estimate.persons - true_final
    total_exits = sum(r[3] for r in rows)
    assert drift == pytest.approx(0.05 * total_exits, rel=0.15)  # 5 % of every departure


def test_reconciling_with_a_camera_every_five_minutes_keeps_the_error_small() -> None:
    rng = random.Random(7)
    raw = OccupancyEstimator()
    corrected = OccupancyEstimator(time_constant_s=0.0, learning_rate=0.5)
    errors_raw, errors_fixed = [], []
    for k, (true, entries, exits, _) in enumerate(day(seed=2, miss_exits=0.05)):
        at = T0 + timedelta(seconds=STEP_S * k)
        raw.count(entries, exits)
        corrected.count(entries, exits)
        if k % 30 == 29:  # a camera zone count every 5 minutes, itself 5 % noisy
            corrected.reference(max(0.0, true * rng.gauss(1.0, 0.05)), at)
        errors_raw.append(abs(raw.persons - true))
        errors_fixed.append(abs(corrected.persons - true))
    assert max(errors_raw[-360:]) > 300  # the last hour: hundreds off without correction
    assert sum(errors_fixed[-360:]) / 360 < 0.25 * sum(errors_raw[-360:]) / 360


def test_the_learnt_bias_corrects_between_references() -> None:
    learning, plain = OccupancyEstimator(learning_rate=0.5), OccupancyEstimator()
    rows = day(seed=3, miss_exits=0.08)
    # one reference per half hour for two hours, then none for two hours
    for k, (true, entries, exits, _) in enumerate(rows):
        at = T0 + timedelta(seconds=STEP_S * k)
        for estimate in (learning, plain):
            estimate.count(entries, exits)
            if k < 720 and k % 180 == 179:
                estimate.reference(true, at)
    true_final = rows[-1][0]
    assert abs(learning.persons - true_final) < 0.5 * abs(plain.persons - true_final)
    # what it learnt: the missed exits, as persons to take off per counted crossing
    exits, crossings = sum(r[3] for r in rows), sum(r[1] + r[3] for r in rows)
    assert learning.bias == pytest.approx(-0.08 * exits / crossings, rel=0.3)


def test_a_time_constant_moves_toward_the_reference_gradually() -> None:
    estimate = OccupancyEstimator(time_constant_s=300.0)
    estimate.count(entries=1000)
    estimate.reference(1000, T0)  # the first reference is taken as it is
    estimate.count(entries=10)
    after = estimate.reference(0.0, T0 + timedelta(seconds=300))
    assert after == pytest.approx(1010 * math.exp(-1))
    assert estimate.corrected_persons == pytest.approx(after - 1010)


def test_a_camera_only_space_takes_its_count_as_it_is() -> None:
    estimate = OccupancyEstimator(time_constant_s=600.0)
    for k, people in enumerate([120, 340, 90]):
        assert estimate.reference(people, T0 + timedelta(seconds=10 * k)) == people


def test_a_known_empty_moment_resets_whatever_the_time_constant() -> None:
    estimate = OccupancyEstimator(time_constant_s=3600.0)
    estimate.reference(0, T0)
    estimate.count(entries=500, exits=430)  # 70 phantom people at closing time
    assert estimate.empty(T0 + timedelta(hours=8)) == 0.0
    assert estimate.corrected_persons == -70


def test_more_exits_than_people_clamp_at_zero_and_are_recorded() -> None:
    estimate = OccupancyEstimator()
    estimate.count(entries=30, exits=50)
    estimate.count(entries=5, exits=0)
    assert estimate.persons == 5 and estimate.clamped_persons == 20


@pytest.mark.parametrize(
    ("entries", "exits"), [(-1.0, 0.0), (math.nan, 0.0), (0.0, math.inf), (0.0, -5.0)]
)
def test_impossible_counts_are_refused(entries: float, exits: float) -> None:
    with pytest.raises(CrowdMeasureError, match="finite number"):
        OccupancyEstimator().count(entries, exits)


def test_an_impossible_reference_is_refused() -> None:
    with pytest.raises(CrowdMeasureError, match="reference"):
        OccupancyEstimator().reference(math.nan, T0)


@given(
    st.lists(
        st.tuples(st.floats(0, 500), st.floats(0, 500), st.one_of(st.none(), st.floats(0, 5000))),
        max_size=80,
    ),
    st.floats(0, 3600),
    st.floats(0, 1),
)
def test_the_estimate_is_never_negative_and_the_bias_stays_bounded(
    steps: list[tuple[float, float, float | None]], tau: float, rate: float
) -> None:
    estimate = OccupancyEstimator(time_constant_s=tau, learning_rate=rate)
    for k, (entries, exits, reference) in enumerate(steps):
        estimate.count(entries, exits)
        if reference is not None:
            estimate.reference(reference, T0 + timedelta(seconds=10 * k))
        assert estimate.persons >= 0 and math.isfinite(estimate.persons)
        assert -MAX_BIAS <= estimate.bias <= MAX_BIAS
