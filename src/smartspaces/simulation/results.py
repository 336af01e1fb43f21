"""What a simulation run returns, and its file forms (pure: text in, text out).

- ``EgressResult``: how long a space took to empty through its open exits; one JSON line each
  in the results file that evacuation support reads as its table of simulated egress times.
- ``BuildUpResult``: a space filling through its exits, second by second: occupancy and the
  people counted in and out at each exit. ``occupancy_csv`` writes it as a table;
  ``observations`` turns it into the people-counter observations the pipeline reads (what
  ``smartspaces replay`` and the early-warning tests feed through the detect stage).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from smartspaces.events import Observation
from smartspaces.simulation.errors import SimulationError

SOURCE = "simulation"


@dataclass(frozen=True)
class EgressResult:
    """One egress run: ``egress_s`` is when the last person left (``inf`` if some never did)."""

    space_id: str
    persons: int
    blocked: tuple[str, ...]
    egress_s: float
    evacuated: int
    per_exit: Mapping[str, int]  # persons who left through each open exit
    remaining: tuple[int, ...]  # persons still inside after each whole second
    dt_s: float
    seed: int

    @property
    def completed(self) -> bool:
        return self.evacuated == self.persons

    def to_json(self) -> str:
        """One JSON line (the per-second curve is left out: the table needs the totals)."""
        return json.dumps(
            {
                "space_id": self.space_id,
                "persons": self.persons,
                "blocked": sorted(self.blocked),
                "egress_s": self.egress_s if math.isfinite(self.egress_s) else None,
                "evacuated": self.evacuated,
                "per_exit": dict(self.per_exit),
                "dt_s": self.dt_s,
                "seed": self.seed,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, line: str) -> EgressResult:
        try:
            data: dict[str, Any] = json.loads(line)
            egress = data["egress_s"]
            return cls(
                space_id=str(data["space_id"]),
                persons=int(data["persons"]),
                blocked=tuple(sorted(str(b) for b in data["blocked"])),
                egress_s=math.inf if egress is None else float(egress),
                evacuated=int(data["evacuated"]),
                per_exit={str(k): int(v) for k, v in data["per_exit"].items()},
                remaining=(),
                dt_s=float(data["dt_s"]),
                seed=int(data["seed"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SimulationError(f"not an egress result: {exc}") from exc


def read_egress_results(text: str) -> list[EgressResult]:
    """Every result of a results file (JSON lines); blank lines are skipped."""
    return [EgressResult.from_json(line) for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class BuildUpResult:
    """A space filling over time; row ``i`` covers the second ending at ``i + 1`` s."""

    space_id: str
    area_m2: float
    exit_ids: tuple[str, ...]
    occupancy: tuple[int, ...]  # persons inside at the end of each second
    entries: Mapping[str, tuple[int, ...]]  # per exit, persons counted in during each second
    exits: Mapping[str, tuple[int, ...]]  # per exit, persons counted out during each second
    seed: int

    def density(self) -> list[float]:
        return [n / self.area_m2 for n in self.occupancy]

    def first_reaching(self, density_p_m2: float) -> float | None:
        """Seconds from the start until the density first reached ``density_p_m2``."""
        for i, persons in enumerate(self.occupancy):
            if persons / self.area_m2 >= density_p_m2:
                return float(i + 1)
        return None

    def occupancy_csv(self) -> str:
        """One row per second: time, occupancy, density, then entries and exits per exit."""
        head = ["t_s", "occupancy_persons", "density_p_m2"]
        head += [f"entries_{e}" for e in self.exit_ids] + [f"exits_{e}" for e in self.exit_ids]
        rows = [",".join(head)]
        for i, persons in enumerate(self.occupancy):
            cells = [str(i + 1), str(persons), f"{persons / self.area_m2:.4f}"]
            cells += [str(self.entries[e][i]) for e in self.exit_ids]
            cells += [str(self.exits[e][i]) for e in self.exit_ids]
            rows.append(",".join(cells))
        return "\n".join(rows) + "\n"

    def observations(self, start: datetime, interval_s: float) -> list[Observation]:
        """Counter observations: at each exit, one ``entries_count`` and one ``exits_count``
        per ``interval_s`` (sensor ``sim-<exit>``), stamped with the interval's end."""
        if start.tzinfo is None or not interval_s >= 1:
            raise SimulationError("observations need an aware start and an interval >= 1 s")
        step = max(1, round(interval_s))
        found = []
        for end in range(step, len(self.occupancy) + 1, step):
            at = start + timedelta(seconds=end)
            for exit_id in self.exit_ids:
                for quantity, series in (
                    ("entries_count", self.entries),
                    ("exits_count", self.exits),
                ):
                    found.append(
                        Observation(
                            source=SOURCE,
                            space_id=self.space_id,
                            observed_at=at,
                            received_at=at,
                            sensor_id=f"sim-{exit_id}"[:128],
                            quantity=quantity,
                            value=float(sum(series[exit_id][end - step : end])),
                            interval_s=float(step),
                        )
                    )
        return found


def per_second(
    counts: Sequence[Mapping[str, int]], exit_ids: Sequence[str]
) -> dict[str, tuple[int, ...]]:
    """Per-second rows of per-exit counts turned into one series per exit."""
    return {e: tuple(row.get(e, 0) for row in counts) for e in exit_ids}
