"""Conversion of values to the SI unit of their quantity, with pint (affine units included).

pint is slow per call (about 0.1 ms), so each (from, to) pair is turned once into a scale and an
offset and cached; every unit pint knows is accepted, and a unit of the wrong dimension is refused
with a reason.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pint

from smartspaces.errors import RejectedInput

_REGISTRY: pint.UnitRegistry[float] = pint.UnitRegistry()
# Counts of people are plain numbers; "p" and "persons" read naturally in "p/m**2".
_REGISTRY.define("count = [] = p = person = persons = people = pax")
# Sound levels are only ever passed through: weighting cannot be converted.
_LEVELS = {"dBA": {"dba", "db(a)", "dba_leq"}}
_UNIT_TEXT = re.compile(r"[A-Za-z0-9_ */^().%°-]{1,64}")


class WrongUnit(RejectedInput):
    """A unit that does not exist, or that measures something else than the quantity."""


def to_si(value: float, unit: str, si_unit: str) -> float:
    """``value`` in ``unit`` expressed in ``si_unit`` (raises WrongUnit)."""
    if unit == si_unit:
        return value
    scale, offset = _factor(unit.strip(), si_unit)
    return value * scale + offset


@lru_cache(maxsize=1024)
def _factor(unit: str, si_unit: str) -> tuple[float, float]:
    if si_unit in _LEVELS:
        if unit.lower() in _LEVELS[si_unit]:
            return 1.0, 0.0
        raise WrongUnit(f"unit: {unit!r} cannot be converted to {si_unit} (sound levels are not)")
    if not _UNIT_TEXT.fullmatch(unit):
        raise WrongUnit(f"unit: {unit[:64]!r} is not a unit (letters, digits, * / ^ ( ) only)")
    try:
        zero = _REGISTRY.Quantity(0.0, unit).to(si_unit).magnitude
        one = _REGISTRY.Quantity(1.0, unit).to(si_unit).magnitude
    except pint.DimensionalityError as error:
        raise WrongUnit(
            f"unit: {unit!r} is not a unit of {si_unit} ({error.dim1} vs {error.dim2})"
        ) from error
    except Exception as error:  # noqa: BLE001 - pint's parser fails in many ways on junk
        raise WrongUnit(f"unit: {unit!r} is not a unit we know") from error
    return float(one - zero), float(zero)
