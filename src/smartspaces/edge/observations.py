"""Validation of observations arriving from outside, item by item, with a reason for each reject.

Pure: the caller gives the parsed items, the known spaces and ``now``; valid items become
Observations, invalid ones come back with a reason a sender can act on. One bad item never
costs the valid ones beside it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, NotRequired

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from smartspaces.config import ApiSettings
from smartspaces.edge.quantities import QUANTITIES
from smartspaces.edge.units import WrongUnit, to_si
from smartspaces.errors import RejectedInput
from smartspaces.events import (
    SCHEMA_VERSION,
    GeoPoint,
    Identifier,
    Observation,
    Quantity,
    SpaceId,
)


@with_config(ConfigDict(extra="forbid", allow_inf_nan=False))
class ObservationIn(TypedDict):
    """An observation as a sensor or gateway sends it (the id and received time are ours).

    A TypedDict rather than a model: validating a batch into plain dicts is twice as fast, and
    this is the ingest hot path."""

    sensor_id: Identifier
    space_id: SpaceId
    quantity: Quantity
    value: Annotated[float, Field(description="In the unit the quantity's name ends with")]
    observed_at: Annotated[AwareDatetime, Field(description="ISO 8601 with a UTC offset")]
    interval_s: NotRequired[Annotated[float | None, Field(gt=0, le=86_400)]]
    location: NotRequired[GeoPoint | None]
    unit: NotRequired[Annotated[str, Field(max_length=64, description="If not the SI unit")]]


_ITEM: TypeAdapter[ObservationIn] = TypeAdapter(ObservationIn)
ITEM = _ITEM
"""Validates one observation as sent (``ITEM.validate_json(payload)``)."""
_BATCH: TypeAdapter[list[ObservationIn]] = TypeAdapter(list[ObservationIn])


@dataclass(frozen=True)
class Rejection:
    """One item that was not accepted, where it was in the batch, and why."""

    index: int
    reason: str
    item: str


@dataclass(frozen=True)
class BatchResult:
    accepted: tuple[Observation, ...]
    rejected: tuple[Rejection, ...]
    positions: tuple[int, ...] = ()  # where each accepted item was in the batch


def parse_batch(body: bytes, max_items: int) -> list[Any]:
    """A JSON array of observations, or a single observation object, as a list of items."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RejectedInput(
            f"body is not UTF-8 text: {error.reason} at byte {error.start}"
        ) from error
    except json.JSONDecodeError as error:
        raise RejectedInput(
            f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from error
    items = data if isinstance(data, list) else [data]
    _check_size(len(items), max_items)
    return items


def validate_json_batch(
    body: bytes,
    source: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
) -> BatchResult:
    """Validate a JSON body (an array of observations or one object).

    Raises RejectedInput when the body as a whole is unusable (not JSON, empty, too many items).
    """
    try:
        # Fast path: parse and check the whole batch in one pass, the case of a healthy gateway.
        wires = _BATCH.validate_json(body)
    except ValidationError:
        # Some item (or the body) is malformed: parse plainly and check items one by one.
        return validate_observations(
            parse_batch(body, limits.max_batch_items), source, spaces, now, limits
        )
    _check_size(len(wires), limits.max_batch_items)
    return _validate(wires, wires, True, source, spaces, now, limits)


def validate_observations(
    items: Sequence[Any],
    source: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
) -> BatchResult:
    """Check each parsed item; accepted ones become Observations received ``now``."""
    try:
        wires: Sequence[Any] = _BATCH.validate_python(items)
    except ValidationError:
        return _validate(items, items, False, source, spaces, now, limits)
    return _validate(wires, items, True, source, spaces, now, limits)


def _check_size(count: int, max_items: int) -> None:
    if count == 0:
        raise RejectedInput("empty batch: send at least one observation")
    if count > max_items:
        raise RejectedInput(f"batch of {count} observations is over the limit of {max_items}")


def _validate(
    wires: Sequence[Any],
    originals: Sequence[Any],
    validated: bool,
    source: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
) -> BatchResult:
    window = _window(now, limits)
    accepted: list[Observation] = []
    positions: list[int] = []
    rejected: list[Rejection] = []
    quick = _quick_builder(source, spaces, now, window) if validated else None
    for index, item in enumerate(wires):
        if quick is not None:
            observation = quick(item)
            if observation is not None:
                accepted.append(observation)
                positions.append(index)
                continue
        try:
            wire = item if validated else _parse(item)
            accepted.append(_one(wire, source, spaces, now, window))
            positions.append(index)
        except _Reject as reject:
            rejected.append(Rejection(index, reject.reason, _text(originals[index])))
    return BatchResult(tuple(accepted), tuple(rejected), tuple(positions))


def validate_json_lines(
    body: bytes,
    source: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
) -> BatchResult:
    """Validate JSON lines (one observation per line); a malformed line is a rejected item, not
    a rejected body. Blank lines are skipped but keep the numbering (index = line number - 1)."""
    items: list[Any] = []
    bad: dict[int, str] = {}
    lines = body.split(b"\n")
    if len(lines) > limits.max_batch_items + 1:
        raise RejectedInput(
            f"batch of {len(lines)} lines is over the limit of {limits.max_batch_items}"
        )
    numbered = [(n, line) for n, line in enumerate(lines) if line.strip()]
    _check_size(len(numbered), limits.max_batch_items)
    for n, line in numbered:
        try:
            items.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            items.append(None)
            bad[len(items) - 1] = f"line {n + 1} is not JSON: {error}"
    result = validate_observations(items, source, spaces, now, limits)
    line_of = [n for n, _ in numbered]
    rejected = tuple(
        Rejection(
            line_of[r.index],
            bad.get(r.index, r.reason),
            lines[line_of[r.index]][:65_536].decode("utf-8", "replace"),
        )
        for r in result.rejected
    )
    positions = tuple(line_of[p] for p in result.positions)
    return BatchResult(result.accepted, rejected, positions)


@dataclass(frozen=True)
class _Window:
    oldest: datetime
    newest: datetime
    limits: ApiSettings


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _one(
    wire: ObservationIn, source: str, spaces: Collection[str], now: datetime, window: _Window
) -> Observation:
    space_id, quantity, value = wire["space_id"], wire["quantity"], wire["value"]
    if space_id not in spaces:
        raise _Reject(f"space_id: unknown space {space_id!r}")
    spec = QUANTITIES.get(quantity)
    if spec is None:
        known = ", ".join(sorted(QUANTITIES))
        raise _Reject(f"quantity: unknown quantity {quantity!r} (known: {known})")
    unit = wire.get("unit")
    if unit is not None:
        try:
            value = to_si(value, unit, spec.unit)
        except WrongUnit as error:
            raise _Reject(error.reason) from error
    if not spec.low <= value <= spec.high:
        raise _Reject(
            f"value: {value:g} {spec.unit} is outside {spec.low:g}..{spec.high:g} for {quantity}"
        )
    if spec.whole and value != int(value):
        raise _Reject(f"value: {quantity} counts and must be a whole number")
    observed_at = wire["observed_at"]
    if observed_at > window.newest:
        raise _Reject(
            f"observed_at: {observed_at.isoformat()} is in the future (more than "
            f"{window.limits.max_future_skew_s:.0f} s ahead of {now.isoformat()})"
        )
    if observed_at < window.oldest:
        raise _Reject(f"observed_at: older than {window.limits.max_age_s:.0f} s, too late to use")
    return _observation(source, now, wire, space_id, quantity, value, observed_at)


def _observation(
    source: str, now: datetime, wire: ObservationIn, space_id: str, quantity: str,
    value: float, observed_at: datetime,
) -> Observation:  # fmt: skip
    """The Observation of an item that passed every check (its value in the SI unit).

    ObservationIn has already checked every field with the event model's own constraints, so
    the event is built without validating twice (this is the ingest hot path)."""
    if observed_at.utcoffset():
        observed_at = observed_at.astimezone(UTC)
    sensor_id = wire["sensor_id"]
    return Observation.from_validated_dict(
        {  # every field of Observation, in declared order
            "id": Observation.make_id(source, space_id, sensor_id, quantity, observed_at),
            "schema_version": SCHEMA_VERSION,
            "source": source,
            "space_id": space_id,
            "observed_at": observed_at,
            "received_at": now,
            "location": wire.get("location"),
            "derived_from": (),
            "kind": "observation",
            "sensor_id": sensor_id,
            "quantity": quantity,
            "value": float(value),
            "interval_s": wire.get("interval_s"),
        }
    )


def observation_builder(
    source: str, spaces: Collection[str], now: datetime, limits: ApiSettings
) -> Callable[[ObservationIn], Observation | None]:
    """For callers that validate items one by one with ``ITEM`` (an MQTT batch): a function
    that turns a validated item into its Observation, or gives None when the item needs the
    full path (``validate_observations``) to be accepted or to get its reason."""
    return _quick_builder(source, spaces, now, _window(now, limits))


def _window(now: datetime, limits: ApiSettings) -> _Window:
    return _Window(
        now - timedelta(seconds=limits.max_age_s),
        now + timedelta(seconds=limits.max_future_skew_s),
        limits,
    )


def _quick_builder(
    source: str, spaces: Collection[str], now: datetime, window: _Window
) -> Callable[[ObservationIn], Observation | None]:
    """The common case of ``_one`` in one tight function: an item in its SI unit that passes
    every check becomes an Observation; any other item gives None and goes through ``_one``,
    which checks it again and words the reason. The checks are ``_one``'s, in its order."""
    known = spaces if isinstance(spaces, (set, frozenset, dict)) else frozenset(spaces)
    oldest, newest = window.oldest, window.newest
    specs = QUANTITIES.get

    def quick(wire: ObservationIn) -> Observation | None:
        space_id, quantity, value = wire["space_id"], wire["quantity"], wire["value"]
        spec = specs(quantity)
        observed_at = wire["observed_at"]
        if (
            spec is None
            or "unit" in wire
            or space_id not in known
            or not spec.low <= value <= spec.high
            or (spec.whole and value != int(value))
            or not oldest <= observed_at <= newest
        ):
            return None
        return _observation(source, now, wire, space_id, quantity, value, observed_at)

    return quick


def _parse(item: Any) -> ObservationIn:
    if not isinstance(item, dict):
        raise _Reject(f"an observation must be a JSON object, got {type(item).__name__}")
    if isinstance(item.get("value"), float) and not math.isfinite(item["value"]):
        raise _Reject("value: must be a finite number (NaN and Infinity are not measurements)")
    try:
        return _ITEM.validate_python(item)
    except ValidationError as error:
        raise _Reject(_reasons(error)) from error


def _reasons(error: ValidationError) -> str:
    parts = []
    for detail in error.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in detail["loc"]) or "item"
        parts.append(f"{where}: {detail['msg']}")
    return "; ".join(parts)


def _text(item: Any) -> str:
    try:
        return json.dumps(item, allow_nan=True, default=_json_default)[:65_536]
    except (TypeError, ValueError):  # pragma: no cover - json.loads output always dumps
        return repr(item)[:65_536]


def wire_item(observation: Observation) -> dict[str, Any]:
    """The observation as a sender would send it (values in SI): for recordings and for dead
    letters of items refused after validation, so that they can be replayed."""
    item: dict[str, Any] = {
        "sensor_id": observation.sensor_id,
        "space_id": observation.space_id,
        "quantity": observation.quantity,
        "value": observation.value,
        "observed_at": observation.observed_at.isoformat(),
    }
    if observation.interval_s is not None:
        item["interval_s"] = observation.interval_s
    if observation.location is not None:
        item["location"] = observation.location.model_dump(mode="json")
    return item


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)
