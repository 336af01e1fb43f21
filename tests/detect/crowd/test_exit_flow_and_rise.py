"""Green Guide exit-flow limits and the density ladder's rate-of-rise rule."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.exit_flow import (
    Exit,
    exit_capacity_p_min,
    minimum_emptying_time_s,
    required_exit_width_m,
    safe_occupancy_persons,
)
from smartspaces.detect.crowd.rate_of_rise import RateOfRise, RiseSettings, rise_rate_p_m2_min
from smartspaces.events import Detection, Level
from tests.conftest import T0, square


def test_green_guide_rates_per_metre_per_minute() -> None:
    assert Exit("gate", 1.0).capacity_p_min == 82.0
    assert Exit("steps", 1.0, kind="stairs").capacity_p_min == 66.0
    # 8,200 people through 10 m of level gates: 8,200 / 820 per minute = 10 minutes
    assert minimum_emptying_time_s(8200, [Exit("a", 4.0), Exit("b", 6.0)]) == pytest.approx(600)


def test_a_blocked_exit_lengthens_the_emptying_time() -> None:
    exits = [Exit("north", 5.0), Exit("south", 5.0, kind="stairs")]
    both = minimum_emptying_time_s(3000, exits)
    one = minimum_emptying_time_s(3000, [exits[0], Exit("south", 5.0, "stairs", open=False)])
    assert both == pytest.approx(3000 / (5 * 82 + 5 * 66) * 60)
    assert one == pytest.approx(3000 / (5 * 82) * 60) and one > both
    assert minimum_emptying_time_s(10, [Exit("x", 2.0, open=False)]) == math.inf
    assert minimum_emptying_time_s(0, []) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    # people come in whole-ish numbers; a subnormal float of people empties in 0.0 s
    st.one_of(st.just(0.0), st.floats(1e-3, 1e6)),
    st.lists(
        st.tuples(st.floats(0.1, 50), st.sampled_from(["level", "stairs"]), st.booleans()),
        min_size=1,
        max_size=6,
    ),
)
def test_emptying_time_and_safe_occupancy_agree(
    people: float, routes: list[tuple[float, str, bool]]
) -> None:
    exits = [Exit(f"e{i}", w, k, o) for i, (w, k, o) in enumerate(routes)]  # type: ignore[arg-type]
    seconds = minimum_emptying_time_s(people, exits)
    if exit_capacity_p_min(exits) == 0:
        assert seconds == (0.0 if people == 0 else math.inf)
    elif people > 0:
        assert safe_occupancy_persons(exits, seconds) == pytest.approx(people)


def test_required_width_for_a_target_time() -> None:
    # 4,920 people out in 5 minutes at 82 p/m/min need 12 m of level exits
    assert required_exit_width_m(4920, 300) == pytest.approx(12.0)
    assert required_exit_width_m(3960, 300, "stairs") == pytest.approx(12.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Exit("gate", 0.0),
        lambda: Exit("gate", math.nan),
        lambda: Exit("gate", 1.0, kind="ladder"),  # type: ignore[arg-type]
        lambda: minimum_emptying_time_s(-1, [Exit("g", 1.0)]),
        lambda: safe_occupancy_persons([Exit("g", 1.0)], 0),
        lambda: required_exit_width_m(math.inf, 60),
    ],
)
def test_nonsense_is_refused(make: object) -> None:
    with pytest.raises(CrowdMeasureError):
        make()  # type: ignore[operator]


def play(densities: list[float], step_s: float = 10.0) -> list[Detection]:
    rule, space, found = RateOfRise(RiseSettings()), square(), []
    for i, density in enumerate(densities):
        at = T0 + timedelta(seconds=step_s * i)
        if (detection := rule.step(space, at, density, at)) is not None:
            found.append(detection)
    return found


def test_a_fast_rise_below_amber_is_raised_once() -> None:
    # 1.0 -> 1.9 persons/m2 at 0.6 per minute: below the amber threshold all along
    found = play([1.0 + 0.1 * i for i in range(10)])
    assert len(found) == 1
    assert found[0].level is Level.AMBER and found[0].detection_type == "crowd.density_rising_fast"
    assert "rising 0.60 per minute" in found[0].summary
    assert found[0].crowd is not None and found[0].crowd.density_p_m2 < 2.0


def test_slow_rises_empty_spaces_and_one_miscount_raise_nothing() -> None:
    assert play([1.0 + 0.05 * i for i in range(30)]) == []  # 0.3 per minute
    assert play([0.05 + 0.1 * i for i in range(8)]) == []  # fast, but nearly empty
    steady = [1.5] * 20
    steady[10] = 3.0  # one miscounted interval
    assert play(steady) == []


def test_the_rule_rearms_after_the_rise_stops() -> None:
    rise = [1.0 + 0.1 * i for i in range(10)]
    found = play(rise + [1.9] * 15 + [1.9 + 0.1 * i for i in range(1, 10)])
    assert len(found) == 2


def test_rise_rate_input_is_checked() -> None:
    assert rise_rate_p_m2_min([0, 60], [1.0, 2.0]) == pytest.approx(1.0)
    assert math.isnan(rise_rate_p_m2_min([0], [1.0]))
    with pytest.raises(CrowdMeasureError, match="same time"):
        rise_rate_p_m2_min([0, 0], [1.0, 2.0])
    with pytest.raises(CrowdMeasureError, match="finite"):
        RateOfRise(RiseSettings()).step(square(), T0, math.nan, T0)
