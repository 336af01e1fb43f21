"""Crowd measures against PedPy on the real Jülich bottleneck: agreement and Voronoi speed-up.

- crowd.pedpy_max_rel_error: largest relative difference from PedPy, over every frame of classic
  density, Voronoi density, individual speed and flow through the bottleneck. Target: <= 0.01.
- crowd.voronoi_speedup_vs_pedpy: PedPy's time for Voronoi density (individual cells + density
  in the area) over ours, same data, same machine, one thread each, best of several runs.
  Target: >= 5.

Run alone with ``python bench/crowd.py [--quick]``; bench/run.py collects ``run(quick)``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pedpy  # type: ignore[import-untyped]
from shapely.geometry import LineString, Polygon

from smartspaces.config import ScenarioSettings
from smartspaces.detect.crowd import measures, voronoi
from smartspaces.detect.crowd.trajectories import parse_trajectory_text

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
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
