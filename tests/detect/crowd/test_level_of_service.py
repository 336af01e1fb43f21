"""Fruin's level of service and the alert ladder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartspaces.detect.crowd.level_of_service import ladder_level, level_of_service
from smartspaces.events import Level

GRADES = "ABCDEF"


@pytest.mark.parametrize(
    ("density", "use", "grade"),
    [
        (0.0, "walkway", "A"),
        (0.30, "walkway", "A"),  # 3.33 m2 per person
        (0.40, "walkway", "B"),
        (1.0, "walkway", "D"),  # 1 m2 per person
        (2.0, "walkway", "E"),
        (2.5, "walkway", "F"),  # under 0.46 m2 per person
        (0.5, "standing", "A"),
        (1.0, "standing", "B"),
        (2.0, "standing", "D"),
        (4.0, "standing", "E"),
        (5.5, "standing", "F"),  # under 0.19 m2 per person: body contact
    ],
)
def test_fruin_grades(density: float, use: str, grade: str) -> None:
    assert level_of_service(density, use) == grade  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_impossible_densities_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        level_of_service(bad, "standing")


@given(
    low=st.floats(min_value=0, max_value=20, allow_nan=False),
    high=st.floats(min_value=0, max_value=20, allow_nan=False),
    use=st.sampled_from(["walkway", "standing"]),
)
def test_grade_never_improves_as_density_rises(low: float, high: float, use: str) -> None:
    low, high = sorted((low, high))
    assert GRADES.index(level_of_service(low, use)) <= GRADES.index(level_of_service(high, use))  # type: ignore[arg-type]


def ladder(density: float, previous: Level = Level.NORMAL) -> Level:
    return ladder_level(density, 2.0, 4.0, 5.0, previous=previous)


def test_ladder_goes_up_at_each_threshold() -> None:
    assert [ladder(d) for d in (1.99, 2.0, 3.99, 4.0, 5.0, 9.0)] == [
        Level.NORMAL,
        Level.AMBER,
        Level.AMBER,
        Level.RED,
        Level.CRITICAL,
        Level.CRITICAL,
    ]


def test_ladder_needs_to_clear_the_hysteresis_band_to_step_down() -> None:
    assert ladder(3.9, previous=Level.RED) == Level.RED  # within 5 % of 4.0
    assert ladder(3.7, previous=Level.RED) == Level.AMBER
    assert ladder(1.0, previous=Level.CRITICAL) == Level.NORMAL
    assert ladder(4.9, previous=Level.CRITICAL) == Level.CRITICAL


@given(
    density=st.floats(min_value=0, max_value=20, allow_nan=False),
    previous=st.sampled_from(list(Level)),
)
def test_ladder_is_between_the_raw_level_and_the_previous_one(
    density: float, previous: Level
) -> None:
    raw = ladder(density)
    level = ladder(density, previous)
    assert raw.rank <= level.rank <= max(raw.rank, previous.rank)
