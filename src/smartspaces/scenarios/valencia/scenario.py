"""The Valencia scenario's public entry point: spaces, counters and the scripted mascletà."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

from smartspaces.config import ScenarioSettings
from smartspaces.events import Observation, SmartSpace
from smartspaces.scenarios.valencia.layout import (
    SQUARE_ID,
    Camera,
    Counter,
    Layout,
    layout_from_geojson,
)
from smartspaces.scenarios.valencia.osm import read_osm
from smartspaces.scenarios.valencia.script import Access, Mascleta, ScriptStep, run_script
from smartspaces.scenarios.valencia.streets import build_layout

SOURCE = "scenario-valencia"
SPACES_FILE = "valencia-spaces.geojson"
BASEMAP_FILE = "valencia-basemap.geojson"
OSM_RELATIVE = Path("valencia-geo") / "valencia-centre.osm"

ACCESS_WEIGHTS: Mapping[str, tuple[float, float]] = {
    # (share of entries, share of exits). Most people come from, and go back to, the old town
    # (Sant Vicent) and the Estació del Nord / Xàtiva metro (Marqués de Sotelo, Ribera).
    "counter-san-vicente": (0.22, 0.20),
    "counter-marques-de-sotelo": (0.26, 0.30),
    "counter-ribera": (0.16, 0.16),
    "counter-barcas": (0.14, 0.14),
    "counter-correos": (0.12, 0.10),
    "counter-sangre": (0.10, 0.10),
}
DEFAULT_WEIGHTS = (0.1, 0.1)


@dataclass(frozen=True)
class ScenarioStep:
    """One reporting interval: what the sensors said, and what was really there."""

    at: datetime
    observations: tuple[Observation, ...]
    true_occupancy: Mapping[str, float]


def default_osm_path(settings: ScenarioSettings) -> Path:
    """Where the shared OpenStreetMap export is expected for these settings."""
    return settings.shared_data_dir() / OSM_RELATIVE


@functools.lru_cache(maxsize=4)
def _layout_from_osm(path: str, _mtime_ns: int, _size: int) -> Layout:
    # Keyed on mtime and size too, so an updated export is read again.
    return build_layout(read_osm(Path(path)))


def shipped_layout() -> Layout:
    """The layout derived once and shipped with the package (``valencia-spaces.geojson``)."""
    data = resources.files("smartspaces.scenarios.valencia").joinpath(SPACES_FILE).read_bytes()
    return layout_from_geojson(data)


def load_layout(settings: ScenarioSettings) -> tuple[Layout, bool]:
    """The layout from the shared OSM export if present, else the shipped one; and which."""
    path = default_osm_path(settings)
    if path.is_file():
        stat = path.stat()
        return _layout_from_osm(str(path.resolve()), stat.st_mtime_ns, stat.st_size), True
    return shipped_layout(), False


class ValenciaScenario:
    """The Plaza del Ayuntamiento on a mascletà day, sensed by counters and street cameras.

    >>> scenario = ValenciaScenario(ScenarioSettings(step_s=60))
    >>> scenario.square_id, len(scenario.counters)
    ('plaza-ayuntamiento', 6)
    """

    source: str = SOURCE

    def __init__(self, settings: ScenarioSettings, script: Mascleta | None = None) -> None:
        layout, from_osm = load_layout(settings)
        self.layout = layout
        self.from_shared_data = from_osm
        self.spaces: tuple[SmartSpace, ...] = layout.spaces
        self.counters: tuple[Counter, ...] = layout.counters
        self.cameras: tuple[Camera, ...] = layout.cameras
        self.script = script or Mascleta()
        self.start: datetime = self.script.start
        self.end: datetime = self.script.end
        self.step_s: float = settings.step_s
        self.seed = settings.seed
        self.square_id = SQUARE_ID
        self._areas = {s.id: s.area_m2 for s in self.spaces}

    def space(self, space_id: str) -> SmartSpace:
        """The space with this id (KeyError if none)."""
        return self.layout.space(space_id)

    @functools.cached_property
    def timeline(self) -> tuple[ScriptStep, ...]:
        """The script's counts and true occupancies, one entry per step (computed once)."""
        accesses = [
            Access(
                counter_id=c.id,
                entry_weight=ACCESS_WEIGHTS.get(c.id, DEFAULT_WEIGHTS)[0],
                exit_weight=ACCESS_WEIGHTS.get(c.id, DEFAULT_WEIGHTS)[1],
                street_space_id=c.street_space_id,
                street_area_m2=self._areas[c.street_space_id],
            )
            for c in self.counters
        ]
        square_area = self._areas[SQUARE_ID]
        return tuple(run_script(self.script, square_area, accesses, self.step_s, self.seed))

    def _true_occupancy(self, step: ScriptStep) -> dict[str, float]:
        truth = {SQUARE_ID: float(step.occupancy)}
        truth.update({k: float(v) for k, v in step.street_occupancy.items()})
        return truth

    def _observations(self, step: ScriptStep) -> tuple[Observation, ...]:
        observations = []
        # All entries before any exit: a consumer keeping the running balance never sees it dip
        # below zero between two observations of the same interval.
        for quantity, counts in (("entries_count", step.entries), ("exits_count", step.exits)):
            for counter in self.counters:
                observations.append(
                    Observation(
                        source=self.source,
                        space_id=counter.space_id,
                        observed_at=step.at,
                        received_at=step.at,
                        location=counter.location,
                        sensor_id=counter.id,
                        quantity=quantity,
                        value=float(counts[counter.id]),
                        interval_s=self.step_s,
                    )
                )
        for camera in self.cameras:
            # A camera zone count is a snapshot at the end of the interval: no interval_s.
            observations.append(
                Observation(
                    source=self.source,
                    space_id=camera.space_id,
                    observed_at=step.at,
                    received_at=step.at,
                    location=camera.location,
                    sensor_id=camera.id,
                    quantity="occupancy_persons",
                    value=float(step.street_occupancy[camera.space_id]),
                )
            )
        return tuple(observations)

    def steps(self) -> Iterator[ScenarioStep]:
        """Every interval in time order, observations built as they are asked for."""
        for step in self.timeline:
            yield ScenarioStep(step.at, self._observations(step), self._true_occupancy(step))

    def first_crossing(self, space_id: str, density_p_m2: float) -> datetime | None:
        """The first step end at which the true density in the space reaches the threshold."""
        area = self._areas[space_id]
        for step in self.timeline:
            if self._true_occupancy(step)[space_id] / area >= density_p_m2:
                return step.at
        return None
