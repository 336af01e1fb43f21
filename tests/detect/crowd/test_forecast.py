"""Density forecast (Theil-Sen trend) and the early warning before a space turns red."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

import pytest

from smartspaces.config import ForecastSettings, ScenarioSettings
from smartspaces.detect.crowd.errors import CrowdMeasureError
from smartspaces.detect.crowd.forecast import DensityForecaster, EarlyWarning
from smartspaces.events import Detection, Level
from tests.conftest import T0, square

AREA_M2 = 1000.0


def play(densities: list[float], step_s: float = 10.0) -> tuple[list[Detection], list[datetime]]:
    """Feed a density series (one reading per step) to the warning; warnings and their times."""
    warning, space = EarlyWarning(ForecastSettings()), square(area_m2=AREA_M2)
    found: list[Detection] = []
    times = [T0 + timedelta(seconds=step_s * i) for i in range(len(densities))]
    for at, density in zip(times, densities, strict=True):
        found += warning.step(space, at, density * AREA_M2, at)
    return found, times


def build_up(seed: int) -> list[float]:
    """0.5 -> 5.5 persons/m2 over 25 minutes, with 10% counting noise and a few miscounts."""
    rng = random.Random(seed)
    series = []
    for i in range(150):
        true = 0.5 + 5.0 * i / 150
        noisy = true * rng.gauss(1.0, 0.10)
        series.append(max(0.0, noisy * (0.3 if rng.random() < 0.03 else 1.0)))
    return series


def gathering(seed: int) -> list[float]:
    """Fills to about 1.8 persons/m2 in 15 minutes, then stays there for an hour (noisy)."""
    rng = random.Random(seed)
    return [max(0.0, min(1.8, 0.2 + 1.6 * i / 90) * rng.gauss(1.0, 0.08)) for i in range(450)]


@pytest.mark.parametrize("seed", range(5))
def test_a_build_up_is_warned_at_least_two_minutes_before_red(seed: int) -> None:
    series = build_up(seed)
    warnings, times = play(series)
    assert warnings, "no warning before the space turned red"
    true_red = times[next(i for i in range(150) if 0.5 + 5.0 * i / 150 >= 4.0)]
    lead_s = (true_red - warnings[0].observed_at).total_seconds()
    assert lead_s >= 120
    assert warnings[0].level is Level.AMBER and warnings[0].detector == "crowd.forecast"
    assert "expected in" in warnings[0].summary
    assert len(warnings) <= 2  # one per approach, not one per reading


@pytest.mark.parametrize("seed", range(5))
def test_a_gathering_under_two_is_never_warned(seed: int) -> None:
    assert play(gathering(seed))[0] == []


def test_the_forecast_of_a_clean_ramp_is_exact_with_a_band() -> None:
    forecaster = DensityForecaster(ForecastSettings())
    forecast = None
    for i in range(31):  # 1.0 p/m2 rising 0.01 p/m2 per second
        forecast = forecaster.step(T0 + timedelta(seconds=10 * i), 1.0 + 0.1 * i)
    assert forecast is not None
    assert forecast.density_p_m2 == pytest.approx(4.0)
    assert forecast.seconds_to_red == pytest.approx(0.0)
    forecaster = DensityForecaster(ForecastSettings())
    for i in range(10):
        forecast = forecaster.step(T0 + timedelta(seconds=10 * i), 1.0 + 0.01 * i)
    assert forecast is not None
    assert forecast.minutes_to_red == pytest.approx((4.0 - 1.09) / 0.001 / 60)
    assert forecast.seconds_to_red_low <= forecast.seconds_to_red <= forecast.seconds_to_red_high


def test_a_flat_or_falling_density_never_reaches_red() -> None:
    forecaster = DensityForecaster(ForecastSettings())
    forecast = None
    for i in range(10):
        forecast = forecaster.step(T0 + timedelta(seconds=10 * i), 3.0 - 0.1 * i)
    assert forecast is not None and math.isinf(forecast.seconds_to_red)


def test_too_little_history_gives_no_forecast_yet() -> None:
    forecaster = DensityForecaster(ForecastSettings())
    assert forecaster.step(T0, 1.0) is None
    assert forecaster.step(T0 + timedelta(seconds=10), 2.0) is None


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_bad_readings_are_refused(bad: float) -> None:
    with pytest.raises(CrowdMeasureError, match="finite number"):
        DensityForecaster(ForecastSettings()).step(T0, bad)


def test_readings_out_of_order_are_refused() -> None:
    forecaster = DensityForecaster(ForecastSettings())
    forecaster.step(T0, 1.0)
    with pytest.raises(CrowdMeasureError, match="forward in time"):
        forecaster.step(T0, 1.0)


def test_the_valencia_mascleta_is_warned_early_and_the_streets_are_not() -> None:
    from smartspaces.scenarios.valencia import ValenciaScenario

    # without ../shared/data the scenario uses the geometry shipped in the package
    scenario = ValenciaScenario(ScenarioSettings())
    warning = EarlyWarning(ForecastSettings())
    first: dict[str, datetime] = {}
    for step in scenario.steps():
        for space in scenario.spaces:
            for detection in warning.step(space, step.at, step.true_occupancy[space.id], step.at):
                first.setdefault(detection.space_id, detection.observed_at)
    red = scenario.first_crossing("plaza-ayuntamiento", 4.0)
    assert red is not None
    assert (red - first["plaza-ayuntamiento"]).total_seconds() >= 120
    # The streets never exceed 2.4 persons/m2 in the script: none of them is warned.
    assert set(first) == {"plaza-ayuntamiento"}
