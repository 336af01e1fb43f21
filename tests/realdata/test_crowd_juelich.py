"""Crowd measures on the real Jülich bottleneck experiment agree with PedPy computed here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pedpy  # type: ignore[import-untyped]
import pytest
from shapely.geometry import LineString, Polygon

from smartspaces.config import ScenarioSettings
from smartspaces.detect.crowd import measures, voronoi
from smartspaces.detect.crowd.errors import UnitError
from smartspaces.detect.crowd.trajectories import Trajectories, parse_trajectory_text

DATA = ScenarioSettings().shared_data_dir() / "juelich-bottleneck" / "040_c_56_h-.txt"
MAX_REL_ERROR = 0.01

# The set-up sketch (experimental_setup.png): a 5.6 m wide room whose floor ends at y = 0 in a
# bottleneck 0.5 m wide (x in -0.25..0.25) leading down to y = -1.1. Obstacles are the walls.
WALKABLE_SHELL = [(3.5, -2.0), (3.5, 8.0), (-3.5, 8.0), (-3.5, -2.0)]
WALLS = [
    [(-0.7, -1.1), (-0.25, -1.1), (-0.25, -0.15), (-0.4, 0.0), (-2.8, 0.0), (-2.8, 6.7),
     (-3.05, 6.7), (-3.05, -0.3), (-0.7, -0.3)],
    [(0.25, -1.1), (0.7, -1.1), (0.7, -0.3), (3.05, -0.3), (3.05, 6.7), (2.8, 6.7),
     (2.8, 0.0), (0.4, 0.0), (0.25, -0.15)],
]  # fmt: skip
# 0.8 m x 0.8 m just in front of the bottleneck, and its entrance as the measurement line
AREA = [(-0.4, 0.5), (0.4, 0.5), (0.4, 1.3), (-0.4, 1.3)]
LINE = [(0.4, 0.0), (-0.4, 0.0)]

pytestmark = pytest.mark.skipif(not DATA.is_file(), reason=f"real data not found at {DATA}")


def relative_error(ours: npt.ArrayLike, reference: npt.ArrayLike) -> float:
    """Largest |ours - ref| / |ref|; where the reference is 0, ours must be 0 too."""
    a, b = np.asarray(ours, dtype=float), np.asarray(reference, dtype=float)
    assert a.shape == b.shape
    zero = b == 0
    assert np.all(np.abs(a[zero]) < 1e-12)
    return float(np.max(np.abs(a[~zero] - b[~zero]) / np.abs(b[~zero]), initial=0.0))


@pytest.fixture(scope="module")
def ours() -> Trajectories:
    return parse_trajectory_text(DATA.read_text())


@pytest.fixture(scope="module")
def theirs() -> pedpy.TrajectoryData:
    return pedpy.load_trajectory(
        trajectory_file=Path(DATA), default_frame_rate=25.0, default_unit=pedpy.TrajectoryUnit.METER
    )


def test_the_file_is_read_in_metres_at_25_fps(ours: Trajectories) -> None:
    assert ours.frame_rate == 25.0
    assert len(ours) == 63_110 and np.unique(ours.ids).size == 75
    assert 5.0 < np.ptp(ours.y) < 9.0  # the room is a few metres deep


def test_classic_density_agrees(ours: Trajectories, theirs: pedpy.TrajectoryData) -> None:
    ref = pedpy.compute_classic_density(
        traj_data=theirs, measurement_area=pedpy.MeasurementArea(AREA)
    )
    mine = measures.classic_density(ours, Polygon(AREA))
    assert np.array_equal(mine.frames, ref.frame)
    assert mine.values.max() > 4.0  # the area really is crowded
    assert relative_error(mine.values, ref.density) < MAX_REL_ERROR


@pytest.mark.parametrize("cutoff", [None, voronoi.Cutoff(radius_m=0.8, quad_segments=3)])
def test_voronoi_density_agrees(
    ours: Trajectories, theirs: pedpy.TrajectoryData, cutoff: voronoi.Cutoff | None
) -> None:
    walkable = pedpy.WalkableArea(WALKABLE_SHELL, obstacles=WALLS)
    cut = None if cutoff is None else pedpy.Cutoff(radius=cutoff.radius_m, quad_segments=3)
    if cutoff is not None:  # PedPy is slow: the busiest 10 s of the experiment are enough
        busy = theirs.data[theirs.data.frame.between(500, 750)]
        theirs = pedpy.TrajectoryData(busy, frame_rate=25.0)
        ours = Trajectories.from_arrays(busy.id, busy.frame, busy.x, busy.y, 25.0)
    cells = pedpy.compute_individual_voronoi_polygons(
        traj_data=theirs, walkable_area=walkable, cut_off=cut
    )
    ref, _ = pedpy.compute_voronoi_density(
        individual_voronoi_data=cells, measurement_area=pedpy.MeasurementArea(AREA)
    )
    mine = voronoi.voronoi_density(ours, Polygon(WALKABLE_SHELL, WALLS), Polygon(AREA), cutoff)
    assert np.array_equal(mine.frames, ref.frame)
    assert relative_error(mine.values, ref.density) < MAX_REL_ERROR


@pytest.mark.parametrize("border", ["single_sided", "exclude", "adaptive"])
def test_individual_and_mean_speed_agree(
    ours: Trajectories, theirs: pedpy.TrajectoryData, border: measures.SpeedBorder
) -> None:
    method = {
        "single_sided": pedpy.SpeedCalculation.BORDER_SINGLE_SIDED,
        "exclude": pedpy.SpeedCalculation.BORDER_EXCLUDE,
        "adaptive": pedpy.SpeedCalculation.BORDER_ADAPTIVE,
    }[border]
    ref = pedpy.compute_individual_speed(traj_data=theirs, frame_step=5, speed_calculation=method)
    ref = ref.sort_values(["id", "frame"])
    speed = measures.individual_speed(ours, 5, border)
    measured = np.isfinite(speed)
    assert measured.sum() == len(ref)
    assert relative_error(speed[measured], ref.speed) < MAX_REL_ERROR
    if border == "single_sided":  # the only border method that gives everyone a speed
        ref_mean = pedpy.compute_mean_speed_per_frame(
            traj_data=theirs, individual_speed=ref, measurement_area=pedpy.MeasurementArea(AREA)
        )
        mine = measures.mean_speed(ours, speed, Polygon(AREA))
        # PedPy writes 0 m/s where nobody is in the area; we say "no measurement" (NaN)
        assert relative_error(np.nan_to_num(mine.values), ref_mean.speed) < MAX_REL_ERROR


def test_flow_through_the_bottleneck_agrees(
    ours: Trajectories, theirs: pedpy.TrajectoryData
) -> None:
    line = pedpy.MeasurementLine(LINE)
    nt, crossings = pedpy.compute_n_t(traj_data=theirs, measurement_line=line)
    speed = pedpy.compute_individual_speed(
        traj_data=theirs, frame_step=5, speed_calculation=pedpy.SpeedCalculation.BORDER_SINGLE_SIDED
    )
    ref = pedpy.compute_flow(
        nt=nt, crossing_frames=crossings, individual_speed=speed, delta_frame=10, frame_rate=25.0
    )
    mine_nt = measures.cumulative_crossings(ours, LineString(LINE))
    assert relative_error(mine_nt.values, nt.cumulative_pedestrians) == 0.0
    assert mine_nt.values[-1] == 75  # everyone left through the bottleneck
    flow = measures.line_flow(ours, LineString(LINE), measures.individual_speed(ours, 5), 10)
    assert relative_error(flow.flow_p_s, ref.flow) < MAX_REL_ERROR
    assert relative_error(flow.mean_speed_m_s, ref.mean_speed) < MAX_REL_ERROR
    assert np.allclose(flow.flow_p_m_s, flow.flow_p_s / 0.8)


def test_the_file_in_centimetres_does_not_pass_as_metres(ours: Trajectories) -> None:
    text = DATA.read_text()
    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    in_cm = "\n".join(f"{i} {f} {float(x) * 100} {float(y) * 100} {z}" for i, f, x, y, z in lines)
    with pytest.raises(UnitError, match="centimetres"):
        parse_trajectory_text("# framerate: 25 fps\n# id frame x/m y/m z/m\n" + in_cm)
    # the same numbers declared as centimetres are converted and accepted
    declared = parse_trajectory_text("# framerate: 25 fps\n# id frame x/cm y/cm z/cm\n" + in_cm)
    assert np.allclose(declared.x, ours.x)
