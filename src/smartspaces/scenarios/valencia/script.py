"""The scripted mascletà: a deterministic crowd timeline whose counts add up exactly."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Access:
    """A counted way into the square and the street space right outside it."""

    counter_id: str
    entry_weight: float
    exit_weight: float
    street_space_id: str
    street_area_m2: float


@dataclass(frozen=True)
class Mascleta:
    """When things happen and how dense it gets; times are UTC.

    Defaults: Sunday 15 March 2026, 12:30 to 14:45 in Valencia (CET, UTC+1: Spain moves to
    summer time only on 29 March), show from 14:00 to 14:08 local.
    """

    start: datetime = datetime(2026, 3, 15, 11, 30, tzinfo=UTC)
    peak_at: datetime = datetime(2026, 3, 15, 12, 58, tzinfo=UTC)
    show_start: datetime = datetime(2026, 3, 15, 13, 0, tzinfo=UTC)
    show_end: datetime = datetime(2026, 3, 15, 13, 8, tzinfo=UTC)
    dispersal_s: float = 35 * 60.0
    end: datetime = datetime(2026, 3, 15, 13, 45, tzinfo=UTC)
    peak_density_p_m2: float = 5.8
    tail_density_p_m2: float = 0.5

    def target_density(self, at: datetime) -> float:
        """The density the script steers the square towards at ``at`` (persons/m2)."""
        if at <= self.peak_at:
            u = (at - self.start) / (self.peak_at - self.start)
            return self.peak_density_p_m2 * _smoothstep(u)
        if at <= self.show_end:
            return self.peak_density_p_m2
        v = (at - self.show_end).total_seconds() / self.dispersal_s
        tail = self.tail_density_p_m2
        return tail + (self.peak_density_p_m2 - tail) * (1.0 - _smoothstep(v))


@dataclass(frozen=True)
class ScriptStep:
    """One counting interval ending at ``at``: counts per counter and true occupancies."""

    at: datetime
    entries: Mapping[str, int]
    exits: Mapping[str, int]
    occupancy: int
    street_occupancy: Mapping[str, int]


TURNOVER_PER_S = 0.002 / 60
"""Before the show, this share of those present leaves each second (0.2 %/min) and as many
newcomers take their place: counted both ways, it does not change the occupancy."""
PASS_THROUGH_P_S = 1.5
"""People crossing the square each second, in at one access and out at another."""
STREET_BACKGROUND_P_M2 = 0.3
"""An ordinary busy Fallas street when nothing is going on."""
TRANSIT_S = 75.0
"""Time to walk the 60 m street stretch in a moving crowd (about 0.8 m/s)."""
SPILLBACK_P_M2 = 0.9
"""Extra density on the streets while the square is packed past ``SPILLBACK_FROM_P_M2``."""
SPILLBACK_FROM_P_M2 = 5.0
STREET_MAX_P_M2 = 3.5
"""Streets are scripted to get busy, never to reach red (4 p/m2)."""


def _smoothstep(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3.0 - 2.0 * u)


def _split(total: int, weights: Sequence[float], rng: random.Random) -> list[int]:
    """Split ``total`` persons over accesses: jittered fixed weights, largest remainder."""
    jittered = [w * rng.uniform(0.75, 1.25) for w in weights]
    scale = total / sum(jittered)
    shares = [w * scale for w in jittered]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], rng.random()))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _noisy(expected: float, rng: random.Random) -> int:
    # Counts of people arriving independently are roughly Poisson: spread ~ sqrt(mean).
    return max(0, round(expected + rng.gauss(0.0, math.sqrt(max(expected, 0.0)))))


def _streets(
    on_street: dict[str, float],
    accesses: Sequence[Access],
    entries_by: Sequence[int],
    exits_by: Sequence[int],
    step_s: float,
    spill_p_m2: float,
) -> dict[str, int]:
    """Advance the people on each street space by one step (``on_street`` is updated)."""
    # People on a street are a stock, not a flow: it relaxes towards flow x transit time with
    # the transit time as time constant, which also smooths the per-interval noise.
    relax = 1.0 - math.exp(-step_s / TRANSIT_S)
    counts = {}
    for access, n_in, n_out in zip(accesses, entries_by, exits_by, strict=True):
        area = access.street_area_m2
        aim = (STREET_BACKGROUND_P_M2 + spill_p_m2) * area + (n_in + n_out) / step_s * TRANSIT_S
        now = on_street.get(access.street_space_id, aim)
        on_street[access.street_space_id] = now + (aim - now) * relax
        counts[access.street_space_id] = round(
            min(on_street[access.street_space_id], STREET_MAX_P_M2 * area)
        )
    return counts


def run_script(
    script: Mascleta,
    square_area_m2: float,
    accesses: Sequence[Access],
    step_s: float,
    seed: int,
) -> list[ScriptStep]:
    """Play the script: one ``ScriptStep`` per ``step_s`` from ``script.start`` to its end.

    A mascletà is fired in the Plaza del Ayuntamiento at 14:00 every day from 1 to 19 March; the
    square fills over the preceding hour and a half and empties within half an hour of the last
    bang. The script draws that as a target density curve for the square (smoothstep up to the
    peak, a plateau through the show, smoothstep down to a thin tail), then turns it into
    integer counts per access point and interval. The square's occupancy is, by construction,
    the running sum of entries minus exits from an empty square at the start (the counters are
    zeroed then), and never goes below zero. Noise is seeded: a seed and a step size always
    give the same run.

    Sanity check of the pace with the real area (~24,600 m2; six counted accesses, ~80 m wide in
    all): the fastest dispersal outflow is ~1.5 x 5.3 p/m2 x area / 35 min, about 90 persons/s
    or 1.2 persons/s per metre of exit width, the capacity walkways are usually rated at.
    """
    if step_s <= 0 or not accesses or square_area_m2 <= 0:
        raise ValueError("need a positive step, a positive area and at least one access")
    rng = random.Random(f"valencia-mascleta:{seed}")  # noqa: S311 - a simulation, not secrets
    ids = [a.counter_id for a in accesses]
    n_steps = int((script.end - script.start).total_seconds() // step_s)
    occupancy = 0
    on_street: dict[str, float] = {}
    steps = []
    for k in range(1, n_steps + 1):
        at = script.start + timedelta(seconds=k * step_s)
        target = script.target_density(at) * square_area_m2
        before_show = at <= script.show_end
        churn = PASS_THROUGH_P_S * step_s + (
            TURNOVER_PER_S * occupancy * step_s if before_show else 0
        )
        net = target - occupancy
        entries = _noisy(max(net, 0.0) + churn, rng)
        exits = min(_noisy(max(-net, 0.0) + churn, rng), occupancy + entries)
        occupancy += entries - exits
        entries_by = _split(entries, [a.entry_weight for a in accesses], rng)
        exits_by = _split(exits, [a.exit_weight for a in accesses], rng)
        spill = SPILLBACK_P_M2 * min(
            1.0, max(0.0, occupancy / square_area_m2 - SPILLBACK_FROM_P_M2)
        )
        streets = _streets(on_street, accesses, entries_by, exits_by, step_s, spill)
        steps.append(
            ScriptStep(
                at=at,
                entries=dict(zip(ids, entries_by, strict=True)),
                exits=dict(zip(ids, exits_by, strict=True)),
                occupancy=occupancy,
                street_occupancy=streets,
            )
        )
    return steps
