"""Crowd measures against PedPy on the real Jülich bottleneck: agreement and Voronoi speed-up.

- crowd.pedpy_max_rel_error: largest relative difference from PedPy, over every frame of classic
  density, Voronoi density, individual speed and flow through the bottleneck. Target: <= 0.01.
- crowd.voronoi_speedup_vs_pedpy: PedPy's time for Voronoi density (individual cells + density
  in the area) over ours, same data, same machine, one thread each, best of several runs.
  Target: >= 5.
- crowd.spaces_updated_per_s: spaces brought up to date per second, each update being one
  occupancy reading through the crowd stage of the running pipeline (occupancy, density and
  ladder, rate of rise, density forecast with early warning) and the space's level of service;
  1,000 spaces, one thread.
- crowd.warning_lead_time_s: on a JuPedSim build-up through the real exits of the first 6 m of
  Carrer de Correus (people pressing in from the square and the street), seconds between the
  crowd stage's first warning, from the simulated people counters, and the moment the simulated
  density reaches red (4 persons/m2). Target: >= 120. Also given: the same lead on the scripted
  València mascletà (counter balance, and true occupancy).
- simulation.egress_s_all_exits / simulation.egress_s_one_blocked: JuPedSim egress of the
  Plaça de l'Ajuntament (real geometry, six exits) for 5,000 people (1,000 with --quick), all
  exits open and with the widest (Sant Vicent Màrtir, 28.7 m) blocked.

Run alone with ``python bench/crowd.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pedpy  # type: ignore[import-untyped]
from shapely.geometry import LineString, Polygon

from smartspaces.config import (
    CrowdSettings,
    ForecastSettings,
    ScenarioSettings,
    SimulationSettings,
)
from smartspaces.detect.crowd import measures, voronoi
from smartspaces.detect.crowd.forecast import EarlyWarning
from smartspaces.detect.crowd.stage import CrowdStage
from smartspaces.detect.crowd.trajectories import parse_trajectory_text
from smartspaces.events import Detection, GeoPoint, GeoPolygon, Observation, SmartSpace
from smartspaces.scenarios.valencia.scenario import ValenciaScenario, shipped_layout
from smartspaces.simulation.buildup import ArrivalPlan, run_buildup
from smartspaces.simulation.egress import run_egress
from smartspaces.simulation.space import from_layout, near

# Same set-up as tests/realdata/test_crowd_juelich.py (see experimental_setup.png there).
SHELL = [(3.5, -2.0), (3.5, 8.0), (-3.5, 8.0), (-3.5, -2.0)]
WALLS = [
    [(-0.7, -1.1), (-0.25, -1.1), (-0.25, -0.15), (-0.4, 0.0), (-2.8, 0.0), (-2.8, 6.7),
     (-3.05, 6.7), (-3.05, -0.3), (-0.7, -0.3)],
    [(0.25, -1.1), (0.7, -1.1), (0.7, -0.3), (3.05, -0.3), (3.05, 6.7), (2.8, 6.7),
     (2.8, 0.0), (0.4, 0.0), (0.25, -0.15)],
]  # fmt: skip
AREA = [(-0.4, 0.5), (0.4, 0.5), (0.4, 1.3), (-0.4, 1.3)]
LINE = [(0.4, 0.0), (-0.4, 0.0)]
T0 = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)
SPACES = 1000


def _rel(ours: npt.ArrayLike, ref: npt.ArrayLike) -> float:
    a, b = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    if a.shape != b.shape:
        return float("inf")
    zero = b == 0
    # where PedPy says 0, any non-zero value of ours counts as a full (100%) error
    off = 1.0 if np.any(np.abs(a[zero]) > 1e-12) else 0.0
    return max(off, float(np.max(np.abs(a[~zero] - b[~zero]) / np.abs(b[~zero]), initial=0.0)))


def _best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _spaces() -> list[SmartSpace]:
    ring = ((-0.377, 39.469), (-0.376, 39.469), (-0.376, 39.470), (-0.377, 39.469))
    return [
        SmartSpace(
            id=f"space-{i}",
            name=f"Space {i}",
            space_type="street" if i % 3 == 0 else "square",
            area_m2=500.0 + i,
            geometry=GeoPolygon(coordinates=(ring,)),
            centroid=GeoPoint(coordinates=(-0.3765, 39.4695)),
        )
        for i in range(SPACES)
    ]


def spaces_updated_per_s(rounds: int) -> dict[str, Any]:
    """Every space gets one occupancy reading per 10 s round, filling at its own rate."""
    spaces = _spaces()
    readings = [
        [
            Observation(
                source="bench",
                space_id=space.id,
                observed_at=T0 + timedelta(seconds=10 * r),
                received_at=T0 + timedelta(seconds=10 * r),
                sensor_id=f"cam-{space.id}",
                quantity="occupancy_persons",
                value=space.area_m2 * (0.5 + 0.01 * (k % 7) * r),
            )
            for k, space in enumerate(spaces)
        ]
        for r in range(rounds)
    ]
    stage = CrowdStage(CrowdSettings(), ForecastSettings(), {s.id: s for s in spaces})
    detections = 0
    started = time.perf_counter()
    for batch in readings:
        for space, reading in zip(spaces, batch, strict=True):
            detections += len(stage.step(reading, reading.observed_at))
            stage.state(space.id)  # occupancy, density, level of service
    elapsed = time.perf_counter() - started
    return {
        "name": "crowd.spaces_updated_per_s",
        "value": round(rounds * SPACES / elapsed),
        "unit": "updates/s",
        "spaces": SPACES,
        "rounds": rounds,
        "detections": detections,
        "note": "crowd stage (density + ladder, rate of rise, Theil-Sen forecast and warning) "
        "+ level of service, 1 thread",
    }


def _first_warning(found: list[Detection], space_id: str) -> datetime | None:
    times = [
        d.observed_at
        for d in found
        if d.space_id == space_id and d.level.rank > 0 and d.detection_type != "crowd.density_level"
    ]
    return min(times, default=None)


def mascleta_leads() -> dict[str, Any]:
    """The scripted mascletà: the crowd stage on the counters, the forecast on the truth."""
    scenario = ValenciaScenario(ScenarioSettings())
    spaces = {s.id: s for s in scenario.spaces}
    stage = CrowdStage(CrowdSettings(), ForecastSettings(), spaces)
    truth = EarlyWarning(ForecastSettings())
    found: list[Detection] = []
    first_truth: dict[str, datetime] = {}
    for step in scenario.steps():
        for observation in step.observations:
            found += stage.step(observation, step.at)
        for space in scenario.spaces:
            for d in truth.step(space, step.at, step.true_occupancy[space.id], step.at):
                first_truth.setdefault(d.space_id, d.observed_at)
    square = scenario.square_id
    red = scenario.first_crossing(square, ForecastSettings().red_p_m2)
    seen = _first_warning(found, square)
    nan = float("nan")
    return {
        "lead_mascleta_s": (red - seen).total_seconds() if red and seen else nan,
        "lead_mascleta_true_occupancy_s": (red - first_truth[square]).total_seconds()
        if red and square in first_truth
        else nan,
        "spaces_forecast_red": sorted(
            {d.space_id for d in found if d.detection_type == "crowd.red_forecast"}
        ),
        "mascleta": f"{len(spaces)} spaces, step {scenario.step_s:g} s "
        f"({'shared OSM data' if scenario.from_shared_data else 'shipped layout'})",
    }


def warning_lead_time_s() -> dict[str, Any]:
    """A JuPedSim build-up counted at its exits, through the crowd stage."""
    mouth = near(from_layout(shipped_layout(), "calle-correos"), "plaza-ayuntamiento", 6.0)
    settings = SimulationSettings(dt_s=0.1)
    plan = ArrivalPlan(5.5, ramp_s=480.0, stop_density_p_m2=ForecastSettings().red_p_m2)
    started = time.perf_counter()
    result = run_buildup(mouth, plan, settings)
    simulated_s = time.perf_counter() - started
    stage = CrowdStage(CrowdSettings(), ForecastSettings(), {mouth.space.id: mouth.space})
    found: list[Detection] = []
    for observation in result.observations(T0, settings.counter_interval_s):
        found += stage.step(observation, observation.observed_at)
    red_s = result.first_reaching(ForecastSettings().red_p_m2)
    warned = [d for d in found if d.level.rank > 0]
    lead = (
        red_s - (warned[0].observed_at - T0).total_seconds()
        if red_s is not None and warned
        else float("nan")
    )
    return {
        "name": "crowd.warning_lead_time_s",
        "value": lead,
        "unit": "s",
        "target": ">= 120",
        "first_warning": warned[0].detection_type if warned else None,
        "red_after_s": red_s,
        "simulation": f"JuPedSim build-up of {mouth.space.name} ({mouth.area_m2:.0f} m2), "
        f"{max(result.occupancy)} people, {simulated_s:.1f} s to compute",
        **mascleta_leads(),
    }


def simulation_egress(quick: bool) -> list[dict[str, Any]]:
    """JuPedSim egress of the square: all exits open, then the widest one blocked."""
    square = from_layout(shipped_layout(), "plaza-ayuntamiento")
    persons = 1000 if quick else 5000
    settings = SimulationSettings()
    figures = []
    for name, blocked in (
        ("simulation.egress_s_all_exits", ()),
        ("simulation.egress_s_one_blocked", ("calle-san-vicente",)),
    ):
        started = time.perf_counter()
        result = run_egress(square, persons, settings, blocked)
        figures.append(
            {
                "name": name,
                "value": result.egress_s,
                "unit": "s",
                "persons": persons,
                "blocked": list(blocked),
                "per_exit": dict(result.per_exit),
                "compute_s": round(time.perf_counter() - started, 1),
                "scenario": f"Plaça de l'Ajuntament, {square.area_m2:.0f} m2, "
                f"{len(square.exits)} exits, dt {settings.dt_s:g} s",
            }
        )
    return figures


def run(quick: bool) -> list[dict[str, Any]]:
    """The crowd figures, as dicts like bench/run.py's."""
    path = ScenarioSettings().shared_data_dir() / "juelich-bottleneck" / "040_c_56_h-.txt"
    ours = parse_trajectory_text(path.read_text())
    theirs = pedpy.load_trajectory(
        trajectory_file=Path(path), default_frame_rate=25.0, default_unit=pedpy.TrajectoryUnit.METER
    )
    walkable, area, line = Polygon(SHELL, WALLS), Polygon(AREA), LineString(LINE)
    p_walkable = pedpy.WalkableArea(SHELL, obstacles=WALLS)
    p_area, p_line = pedpy.MeasurementArea(AREA), pedpy.MeasurementLine(LINE)

    def pedpy_voronoi() -> Any:
        cells = pedpy.compute_individual_voronoi_polygons(
            traj_data=theirs, walkable_area=p_walkable
        )
        return pedpy.compute_voronoi_density(individual_voronoi_data=cells, measurement_area=p_area)

    errors: dict[str, float] = {}
    ref_classic = pedpy.compute_classic_density(traj_data=theirs, measurement_area=p_area)
    errors["classic_density"] = _rel(
        measures.classic_density(ours, area).values, ref_classic.density
    )
    ref_voronoi, _ = pedpy_voronoi()
    mine = voronoi.voronoi_density(ours, walkable, area)
    errors["voronoi_density"] = _rel(mine.values, ref_voronoi.density)
    ref_speed = pedpy.compute_individual_speed(
        traj_data=theirs, frame_step=5, speed_calculation=pedpy.SpeedCalculation.BORDER_SINGLE_SIDED
    )
    speed = measures.individual_speed(ours, 5)
    errors["speed"] = _rel(speed, ref_speed.sort_values(["id", "frame"]).speed)
    nt, crossings = pedpy.compute_n_t(traj_data=theirs, measurement_line=p_line)
    ref_flow = pedpy.compute_flow(
        nt=nt, crossing_frames=crossings, individual_speed=ref_speed, delta_frame=10, frame_rate=25
    )
    errors["flow"] = _rel(measures.line_flow(ours, line, speed, 10).flow_p_s, ref_flow.flow)

    repeats = 1 if quick else 3
    theirs_s = _best(pedpy_voronoi, repeats)
    ours_s = _best(lambda: voronoi.voronoi_density(ours, walkable, area), 3 * repeats)
    worst = max(errors, key=lambda k: errors[k])
    return [
        {
            "name": "crowd.pedpy_max_rel_error",
            "value": float(f"{errors[worst]:.3g}"),
            "unit": "relative",
            "target": "<= 0.01",
            "worst_measure": worst,
            "per_measure": {k: float(f"{v:.3g}") for k, v in errors.items()},
            "data": "Jülich bottleneck 040_c_56_h-, 63,110 positions, 1,657 frames",
        },
        {
            "name": "crowd.voronoi_speedup_vs_pedpy",
            "value": round(theirs_s / ours_s, 2),
            "unit": "x",
            "target": ">= 5",
            "ours_s": round(ours_s, 3),
            "peer": f"PedPy {pedpy.__version__} (individual Voronoi cells + density), one thread",
            "peer_value": round(theirs_s, 3),
        },
        spaces_updated_per_s(10 if quick else 30),
        warning_lead_time_s(),
        *simulation_egress(quick),
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
