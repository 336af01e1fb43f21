"""Fusion rules as typed data, built from a schema-valid document with the cross-field checks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from smartspaces.detect.fusion.errors import RulesError
from smartspaces.events import Level

PRODUCERS = ("crowd", "cyber", "infra", "video")
"""Prefixes of the detection types the detect stage produces; a pattern must start with one."""

Scope = Literal["space", "neighbours", "served"]
Holds = Literal["window", "latest"]
Locate = Callable[[Sequence[object]], int | None]
"""Maps a path in the document (keys and indexes) to its line in the file, when known."""

_DETECTION_ONLY: tuple[str, ...] = ("detection_type", "min_level", "max_level", "min_confidence")
_DETECTION_ONLY += ("asset_kind", "min_heading_spread_deg", "cleared_by")
_OBSERVATION_ONLY = ("quantity", "min_value", "max_value", "confidence")


@dataclass(frozen=True, slots=True)
class Condition:
    """One kind of evidence a rule needs: which events, where they count, how many."""

    name: str
    label: str
    kind: Literal["detection", "observation"]
    detection_types: tuple[str, ...] = ()
    quantities: tuple[str, ...] = ()
    source: str | None = None
    min_level: Level | None = None
    max_level: Level | None = None
    min_confidence: float = 0.0
    min_value: float | None = None
    max_value: float | None = None
    device_kind: str | None = None
    asset_kind: str | None = None
    scope: Scope = "space"
    min_count: int = 1
    min_heading_spread_deg: float | None = None
    holds: Holds = "window"
    cleared_by: tuple[str, ...] = ()
    max_age_s: float | None = None
    confidence: float = 1.0  # what one matching reading is worth (detections bring their own)


@dataclass(frozen=True, slots=True)
class Rule:
    """A situation: conditions that must all hold in one smart space within ``window_s``."""

    id: str
    title: str
    level: Level
    jdl_level: Literal[1, 2, 3]
    window_s: float
    conditions: tuple[Condition, ...]
    weight: float = 1.0
    sequence: tuple[str, ...] = ()
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of one file, checked; only enabled rules are kept."""

    rules: tuple[Rule, ...]
    origin: str = ""

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


def as_tuple(value: object) -> tuple[str, ...]:
    """A string or a list of strings, as a tuple (the schema allows either)."""
    return (value,) if isinstance(value, str) else tuple(cast(list[str], value))


def pattern_problem(pattern: str) -> str | None:
    """Why a detection type pattern can match nothing we produce, or None when it can."""
    producer, dot, rest = pattern.partition(".")
    if producer not in PRODUCERS or not dot or not rest:
        known = ", ".join(f"{p}.*" for p in PRODUCERS)
        return f"detection type pattern {pattern!r} matches no known producer (known: {known})"
    return None


def build_rules(data: Mapping[str, Any], origin: str, locate: Locate) -> RuleSet:
    """Turn a document that passed the JSON schema into rules, or raise ``RulesError``."""
    _check_finite(data, [], origin, locate, data)
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["rules"]):
        rule_id = raw["id"]

        def fail(reason: str, *path: object, _i: int = i, _id: str = rule_id) -> RulesError:
            field = _field(path) if path else None
            line = locate(["rules", _i, *path])
            return RulesError(reason, origin=origin, line=line, rule_id=_id, field=field)

        if rule_id in seen:
            raise fail(f"duplicate rule id {rule_id!r}", "id")
        seen.add(rule_id)
        scope = cast(Scope, raw.get("scope", "space"))
        conditions = tuple(
            _condition(c, scope, lambda r, *p, _j=j: fail(r, "when", _j, *p))
            for j, c in enumerate(raw["when"])
        )
        names = [c.name for c in conditions]
        for j, name in enumerate(names):
            if name in names[:j]:
                raise fail(f"duplicate condition name {name!r}", "when", j, "name")
        sequence = tuple(raw.get("sequence", ()))
        for k, name in enumerate(sequence):
            if name not in names:
                raise fail(f"{name!r} names no condition of this rule", "sequence", k)
            if name in sequence[:k]:
                raise fail(f"{name!r} appears twice", "sequence", k)
        rule = Rule(
            id=rule_id,
            title=raw["title"],
            level=Level(raw["level"]),
            jdl_level=raw["jdl_level"],
            window_s=float(raw["window_s"]),
            conditions=conditions,
            weight=float(raw.get("weight", 1.0)),
            sequence=sequence,
            description=raw.get("description", ""),
            enabled=raw.get("enabled", True),
        )
        if rule.enabled:
            rules.append(rule)
    return RuleSet(tuple(rules), origin)


def _condition(raw: Mapping[str, Any], scope: Scope, fail: Callable[..., RulesError]) -> Condition:
    kind = raw["kind"]
    wrong = _OBSERVATION_ONLY if kind == "detection" else _DETECTION_ONLY
    for key in wrong:
        if key in raw:
            raise fail(f"{key!r} does not apply to {kind}s", key)
    needed = "detection_type" if kind == "detection" else "quantity"
    if needed not in raw:
        raise fail(f"a {kind} condition needs {needed!r}", needed)
    for key in ("detection_type", "cleared_by"):
        for k, pattern in enumerate(as_tuple(raw.get(key, ()))):
            problem = pattern_problem(pattern)
            if problem:
                raise fail(problem, key, *(() if isinstance(raw[key], str) else (k,)))
    holds = raw.get("holds", "window")
    for key in ("cleared_by", "max_age_s"):
        if key in raw and holds != "latest":
            raise fail(f"{key!r} applies to 'holds: latest' conditions only", key)
    if raw.get("min_value", -math.inf) > raw.get("max_value", math.inf):
        raise fail("min_value is above max_value", "min_value")
    low, high = raw.get("min_level"), raw.get("max_level")
    if low and high and Level(low).rank > Level(high).rank:
        raise fail("min_level is above max_level", "min_level")
    return Condition(
        name=raw["name"],
        label=raw.get("label", raw["name"].replace("_", " ")),
        kind=kind,
        detection_types=as_tuple(raw.get("detection_type", ())),
        quantities=as_tuple(raw.get("quantity", ())),
        source=raw.get("source"),
        min_level=Level(low) if low else None,
        max_level=Level(high) if high else None,
        min_confidence=float(raw.get("min_confidence", 0.0)),
        min_value=_float(raw.get("min_value")),
        max_value=_float(raw.get("max_value")),
        device_kind=raw.get("device_kind"),
        asset_kind=raw.get("asset_kind"),
        scope=raw.get("scope", scope),
        min_count=int(raw.get("min_count", 1)),
        min_heading_spread_deg=_float(raw.get("min_heading_spread_deg")),
        holds=holds,
        cleared_by=as_tuple(raw.get("cleared_by", ())),
        max_age_s=_float(raw.get("max_age_s")),
        confidence=float(raw.get("confidence", 1.0)),
    )


def _float(value: object) -> float | None:
    return None if value is None else float(cast(float, value))


def _check_finite(
    value: object, path: list[object], origin: str, locate: Locate, root: object
) -> None:
    # The schema's bounds let NaN through (every comparison with NaN is false).
    if isinstance(value, float) and not math.isfinite(value):
        rule_id, field = rule_and_field(path, root)
        raise RulesError(
            f"{value} is not a finite number",
            origin=origin,
            line=locate(path),
            rule_id=rule_id,
            field=field,
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_finite(item, [*path, key], origin, locate, root)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, [*path, index], origin, locate, root)


def rule_and_field(path: Sequence[object], document: object) -> tuple[str | None, str | None]:
    """Which rule (its id, else its position) and which field of it a document path points at."""
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = _get(document, path[:2])
        rule_id = rule.get("id") if isinstance(rule, Mapping) else None
        name = rule_id if isinstance(rule_id, str) and rule_id else f"#{path[1] + 1}"
        return name, _field(path[2:]) or None
    return None, _field(path) or None


def _get(document: object, path: Sequence[object]) -> object:
    for part in path:
        if isinstance(document, Mapping):
            document = document.get(part)
        elif isinstance(document, list) and isinstance(part, int) and 0 <= part < len(document):
            document = document[part]
        else:
            return None
    return document


def _field(path: Sequence[object]) -> str:
    """``['when', 0, 'kind']`` -> ``'when[0].kind'``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
