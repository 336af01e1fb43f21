"""Properties: any rules document loads or fails with RulesError; the maths and the engine's
invariants hold on arbitrary input."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartspaces.detect.fusion import RulesError, RuleSet, parse_rules, rules_from_data
from smartspaces.detect.fusion.matching import heading_spread, noisy_or
from smartspaces.detect.fusion.situations import ENDED
from smartspaces.events import Detection, Level, Observation
from tests.detect.fusion.conftest import at, det, engine, obs, silence

SHIPPED: dict[str, Any] = yaml.safe_load(
    (__import__("smartspaces.detect.fusion", fromlist=["x"]).shipped_rules_path()).read_text()
)
WORDS = [
    "detection", "observation", "alert", "latest", "window", "served", "neighbours", "city",
    "red", "amber", "normal", "crowd.*", "cyber.telemetry_*", "camera.x", "*", "video.running",
    "infra.asset_up", "device_silence_s", "people_counter", "substation", "scan", "crowd",
]  # fmt: skip
KEYS = [
    "id", "title", "level", "jdl_level", "window_s", "when", "name", "kind", "detection_type",
    "quantity", "scope", "holds", "cleared_by", "max_age_s", "min_count", "sequence", "weight",
    "min_value", "max_value", "min_level", "max_level", "device_kind", "asset_kind", "enabled",
    "min_heading_spread_deg", "confidence", "source", "label", "rules", "version", "bogus",
]  # fmt: skip
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(WORDS),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


ALL_PATHS = paths(SHIPPED)[1:]


@st.composite
def mutated(draw: st.DrawFn) -> object:
    """The shipped document with a few fields replaced, removed or added."""
    document = copy.deepcopy(SHIPPED)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            operation = draw(st.sampled_from(["replace", "delete", "add"]))
            if operation == "replace":
                parent[path[-1]] = draw(values)
            elif operation == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(KEYS))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this part
    return document


def loads_or_rules_error(load: Any, document: object) -> RuleSet | None:
    try:
        rules = load(document)
    except RulesError as error:
        assert str(error)  # never an empty message
        return None
    assert isinstance(rules, RuleSet)
    return rules


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_rules_document_loads_or_raises_rules_error(document: object) -> None:
    rules = loads_or_rules_error(rules_from_data, document)
    if rules is not None:  # and whatever loads, runs
        fusion = engine(rules)
        for event in STREAM:
            fusion.step(event, event.observed_at)
        fusion.tick(at(60))


LINES = [*yaml.safe_dump(SHIPPED, sort_keys=False).splitlines(), "  - {", "*a", "x: &a [1]",
         "- 1e999", "? [a]: b", "x: 2001-13-45", "  kind: !!binary aGk=", "\t- tab", "- .nan",
         "x: !!python/object:os.system ls", "'unclosed", "version: 1", "rules: []"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=30).map("\n".join) | st.text(max_size=200))
def test_any_text_loads_or_raises_rules_error(text: str) -> None:
    loads_or_rules_error(parse_rules, text)


@given(st.lists(st.floats(0, 360, exclude_max=True), min_size=1, max_size=12), st.floats(0, 360))
def test_heading_spread_is_circular_and_rotation_free(headings: list[float], turn: float) -> None:
    spread = heading_spread(headings)
    assert 0.0 <= spread < 360.0 or math.isclose(spread, 360.0)
    turned = heading_spread([(h + turn) % 360.0 for h in headings])
    assert math.isclose(spread, turned, abs_tol=1e-6)
    assert heading_spread([*headings, headings[0]]) == spread  # repeats add nothing
    assert heading_spread(headings[:-1]) <= spread + 1e-9  # more headings never narrow it


@given(st.floats(0, 360), st.floats(0, 360))
def test_heading_spread_of_two_is_their_angle(a: float, b: float) -> None:
    angle = abs(a - b) % 360.0
    assert math.isclose(heading_spread([a, b]), min(angle, 360.0 - angle), abs_tol=1e-6)


@given(st.lists(st.floats(0, 1), max_size=10))
def test_noisy_or_corroborates(confidences: list[float]) -> None:
    combined = noisy_or(confidences)
    assert 0.0 <= combined <= 1.0
    assert combined >= max(confidences, default=0.0) - 1e-12
    assert math.isclose(combined, noisy_or(reversed(confidences)), abs_tol=1e-12)


def _pool() -> list[Detection | Observation]:
    """Events of every kind the shipped rules look at, in every space and some unknown one."""
    pool: list[Detection | Observation] = []
    for space in ("plaza", "market", "cathedral", "elsewhere"):
        pool += [
            det("crowd.density_level", at(0), space, level)
            for level in (Level.NORMAL, Level.AMBER, Level.RED, Level.CRITICAL)
        ]
        pool += [
            det("video.unattended_object", at(0), space),
            det("crowd.red_forecast", at(0), space),
        ]
        pool += [
            det("cyber.icmp_sweep", at(0), space, Level.RED),
            det("cyber.telemetry_stuck", at(0), space),
        ]
    pool += [det("video.running", at(0), heading_deg=h) for h in (0, 100, 200, 300)]
    pool += [
        det("infra.asset_down", at(0), "station", asset_id=a)
        for a in ("sub-north", "sub-south", "x")
    ]
    pool += [det("infra.asset_up", at(0), "station", asset_id="sub-north")]
    pool += [silence("cam-plaza-1", at(0)), silence("cam-plaza-2", at(0))]
    pool += [
        obs(s, "occupancy_persons", v, at(0))
        for s in ("counter-plaza-1", "cam-plaza-1")
        for v in (0, 500)
    ]
    return pool


POOL = _pool()
STREAM = [e.model_copy(update={"observed_at": at(i / 2)}) for i, e in enumerate(POOL)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(POOL) - 1), st.floats(0, 400)), max_size=60))
def test_situations_stay_consistent_on_any_stream(steps: list[tuple[int, float]]) -> None:
    fusion = engine(max_provenance_ids=8, max_open_situations=5)
    when, fed = at(0), set[str]()
    opened: dict[tuple[str, str], datetime] = {}
    for index, gap_s in steps:
        when += timedelta(seconds=gap_s)
        event = POOL[index].model_copy(update={"observed_at": when, "id": f"e{len(fed)}"})
        fed.add(event.id)
        for situation in fusion.step(event, when) + fusion.tick(when):
            key = (situation.situation_type, situation.space_id)
            assert situation.started_at <= situation.observed_at
            assert 0.0 <= situation.confidence <= 1.0
            assert 0 < len(situation.derived_from) <= 8
            assert set(situation.derived_from) <= fed
            if key in opened:
                assert situation.started_at == opened[key]  # one evolving situation
            if situation.summary.startswith(ENDED):
                assert situation.level == Level.NORMAL
                opened.pop(key)
            else:
                opened[key] = situation.started_at
        assert len(fusion.open_situations()) <= 5
    assert {(s.situation_type, s.space_id) for s in fusion.open_situations()} == set(opened)
