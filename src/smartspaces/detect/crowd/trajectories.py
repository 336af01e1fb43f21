"""Anonymous pedestrian trajectories in metres, validated once and kept as sorted numpy arrays."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smartspaces.detect.crowd.errors import TrajectoryError, UnitError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_PLAUSIBLE_SPEED_M_S = 12.0
"""Faster than a sprinter: if most steps are quicker, the positions are not in metres."""

MAX_PLAUSIBLE_EXTENT_M = 100_000.0
"""No crowd measurement spans 100 km; a larger extent means a wrong unit or projection."""

_UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}
_HEADER_UNIT = re.compile(r"\bx\s*/\s*(mm|cm|m)\b")
_HEADER_RATE = re.compile(r"framerate\s*:?\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Positions of anonymous people: row i is person ``ids[i]`` at ``frames[i]``.

    Rows are sorted by (id, frame); ``frame_rate`` is frames per second. Build with
    ``Trajectories.from_arrays`` so that the checks below always hold.
    """

    ids: IntArray
    frames: IntArray
    x: FloatArray
    y: FloatArray
    frame_rate: float

    @classmethod
    def from_arrays(
        cls,
        ids: npt.ArrayLike,
        frames: npt.ArrayLike,
        x: npt.ArrayLike,
        y: npt.ArrayLike,
        frame_rate: float,
        check_units: bool = True,
    ) -> Trajectories:
        """Validate and sort; raises TrajectoryError (UnitError for implausible scales)."""
        try:
            raw_ids, raw_frames = np.asarray(ids, dtype=float), np.asarray(frames, dtype=float)
            xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TrajectoryError("ids, frames and positions must be numbers") from exc
        n = raw_ids.size
        if any(a.ndim != 1 or a.size != n for a in (raw_ids, raw_frames, xs, ys)):
            raise TrajectoryError("ids, frames, x and y must be 1-d arrays of one length")
        if n == 0:
            raise TrajectoryError("no positions: at least one person in one frame is needed")
        if not (np.isfinite(frame_rate) and frame_rate > 0):
            raise TrajectoryError(f"frame rate must be a positive number, got {frame_rate!r}")
        for name, values in (("id", raw_ids), ("frame", raw_frames)):
            if not np.isfinite(values).all() or (values != np.round(values)).any():
                raise TrajectoryError(f"every {name} must be a whole number")
        if (raw_frames < 0).any():
            raise TrajectoryError("frames must not be negative")
        bad = ~(np.isfinite(xs) & np.isfinite(ys))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise TrajectoryError(
                f"{int(bad.sum())} positions are not finite (NaN or infinite), the first of "
                f"person {int(raw_ids[i])} in frame {int(raw_frames[i])}"
            )
        order = np.lexsort((raw_frames, raw_ids))
        result = cls(
            ids=raw_ids[order].astype(np.int64),
            frames=raw_frames[order].astype(np.int64),
            x=xs[order],
            y=ys[order],
            frame_rate=float(frame_rate),
        )
        same = (np.diff(result.ids) == 0) & (np.diff(result.frames) == 0)
        if same.any():
            i = int(np.flatnonzero(same)[0])
            raise TrajectoryError(
                f"person {result.ids[i]} appears twice in frame {result.frames[i]}: "
                "ids must be unique within a frame"
            )
        if check_units:
            result.check_units()
        return result

    def __len__(self) -> int:
        return int(self.ids.size)

    def track_breaks(self) -> npt.NDArray[np.bool_]:
        """True where row i starts a new continuous track (new person or a gap in frames)."""
        breaks = np.ones(len(self), dtype=bool)
        breaks[1:] = (np.diff(self.ids) != 0) | (np.diff(self.frames) != 1)
        return breaks

    def step_speeds(self) -> FloatArray:
        """Speed over each frame-to-frame step of every track, in m/s."""
        cont = ~self.track_breaks()[1:]
        return np.hypot(np.diff(self.x), np.diff(self.y))[cont] * self.frame_rate

    def check_units(self) -> None:
        """Refuse positions whose extent or speeds no crowd in metres could have."""
        extent = max(np.ptp(self.x), np.ptp(self.y))
        if extent > MAX_PLAUSIBLE_EXTENT_M:
            raise UnitError(f"positions span {extent:.0f} m: not metric ground coordinates?")
        speeds = self.step_speeds()
        if speeds.size == 0:
            return
        # The 90th percentile ignores the odd tracking jump but not a whole file in centimetres.
        typical = float(np.quantile(speeds, 0.9))
        if typical > MAX_PLAUSIBLE_SPEED_M_S:
            raise UnitError(
                f"one step in ten is faster than {typical:.1f} m/s: people do not move that fast; "
                "are the positions in centimetres or millimetres rather than metres?"
            )


def parse_trajectory_text(text: str, frame_rate: float | None = None) -> Trajectories:
    """Read PeTrack/Jülich text (``id frame x y [z]`` per line, ``#`` comments).

    The header's ``framerate: 25 fps`` and ``x/m`` (or ``x/cm``, ``x/mm``) are honoured; an
    explicit ``frame_rate`` wins. Positions are converted to metres and then checked.
    """
    header = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    unit = _HEADER_UNIT.search(header)
    scale = _UNIT_SCALE[unit.group(1)] if unit else 1.0
    if frame_rate is None:
        rate = _HEADER_RATE.search(header)
        if rate is None:
            raise TrajectoryError("no frame rate given and none in the file header")
        frame_rate = float(rate.group(1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "no data": reported below instead
            table = np.loadtxt(io.StringIO(text), comments="#", ndmin=2)
    except ValueError as exc:
        raise TrajectoryError(f"unreadable trajectory text: {exc}") from exc
    if table.size == 0:
        raise TrajectoryError("no positions: the trajectory text has no data lines")
    if table.shape[1] < 4:
        raise TrajectoryError("each line needs at least: id frame x y")
    return Trajectories.from_arrays(
        table[:, 0], table[:, 1], table[:, 2] * scale, table[:, 3] * scale, frame_rate
    )
