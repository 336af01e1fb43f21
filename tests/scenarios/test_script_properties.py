"""Properties of the script for any seed and step size: counts conserve people, never negative."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.scenarios.valencia.script import Access, Mascleta, run_script

ACCESSES = [
    Access("counter-a", 0.5, 0.2, "street-a", 900.0),
    Access("counter-b", 0.3, 0.3, "street-b", 500.0),
    Access("counter-c", 0.2, 0.5, "street-c", 1_400.0),
]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(min_value=-(2**63), max_value=2**63),
    step_s=st.floats(min_value=5.0, max_value=600.0, allow_nan=False),
    area_m2=st.floats(min_value=50.0, max_value=50_000.0, allow_nan=False),
    n_accesses=st.integers(min_value=1, max_value=3),
)
def test_counts_conserve_people(seed: int, step_s: float, area_m2: float, n_accesses: int) -> None:
    accesses = ACCESSES[:n_accesses]
    script = Mascleta()
    steps = run_script(script, area_m2, accesses, step_s, seed)
    assert len(steps) == int((script.end - script.start).total_seconds() // step_s)
    balance = 0
    for step in steps:
        assert all(v >= 0 for v in step.entries.values())
        assert all(v >= 0 for v in step.exits.values())
        balance += sum(step.entries.values()) - sum(step.exits.values())
        assert step.occupancy == balance >= 0
        for access in accesses:
            assert 0 <= step.street_occupancy[access.street_space_id] <= 3.5 * access.street_area_m2
    assert steps == run_script(script, area_m2, accesses, step_s, seed)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(), step_s=st.sampled_from([5.0, 10.0, 30.0, 60.0, 300.0]))
def test_any_run_peaks_and_calms_down(seed: int, step_s: float) -> None:
    script = Mascleta()
    area = 24_600.0
    steps = run_script(script, area, ACCESSES, step_s, seed)
    assert 5.5 <= max(s.occupancy for s in steps) / area <= 6.0
    assert steps[-1].occupancy / area < 2.0
