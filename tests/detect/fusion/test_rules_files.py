"""Rules files: the shipped one loads, bad ones fail clearly, a running engine keeps its rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from smartspaces.config import Settings
from smartspaces.detect.fusion import (
    FusionEngine,
    RulesError,
    load_rules,
    parse_rules,
    rules_from_data,
    shipped_rules_path,
)
from smartspaces.errors import ConfigError
from smartspaces.events import Level
from tests.detect.fusion.conftest import at, density, det, engine, feed

GOOD = """\
version: 1
rules:
  - id: object_in_crowd
    title: Object in a crowd
    level: red
    jdl_level: 2
    window_s: 600
    when:
      - name: object
        kind: detection
        detection_type: video.unattended_object
      - name: crowd
        kind: detection
        detection_type: crowd.density_level
        min_level: red
        holds: latest
"""


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


def test_the_shipped_rules_load() -> None:
    rules = load_rules()
    assert rules.ids() == (
        "coordinated_attack",
        "unattended_object_in_dense_crowd",
        "diverging_running",
        "counter_contradicts_camera",
        "telemetry_tampering_in_crowd",
        "power_loss_to_crowded_space",
    )
    assert {r.jdl_level for r in rules} == {2, 3}
    assert load_rules(shipped_rules_path()) == rules
    assert Settings().fusion.rules_file is None  # None means the shipped file


def test_a_rules_file_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(GOOD)
    settings = Settings(fusion={"rules_file": path})
    assert load_rules(settings.fusion.rules_file).ids() == ("object_in_crowd",)
    path.write_text(json.dumps(yaml.safe_load(GOOD)))  # JSON is YAML too
    assert load_rules(path).ids() == ("object_in_crowd",)


@pytest.mark.parametrize(
    ("text", "rule_id", "field", "line", "words"),
    [
        (broken("    window_s: 600", "    window_s: [600"), None, None, 8, "YAML syntax error"),
        (broken("kind: detection\n        detection_type: video", "kind: alert\n        "
                "detection_type: video"), "object_in_crowd", "when[0].kind", 10,
         "unknown event kind 'alert' (known: detection, observation)"),
        (broken("video.unattended_object", "camera.unattended_object"), "object_in_crowd",
         "when[0].detection_type", 11, "'camera.unattended_object' matches no known producer"),
        (broken("video.unattended_object", "'*'"), "object_in_crowd",
         "when[0].detection_type", 11, "matches no known producer"),
        (broken("window_s: 600", "window_s: -600"), "object_in_crowd", "window_s", 7,
         "must be > 0 (got -600)"),
        (broken("window_s: 600", "window_s: .nan"), "object_in_crowd", "window_s", 7,
         "not a finite number"),
        (broken("holds: latest", "holds: latest\n        scope: city"), "object_in_crowd",
         "when[1].scope", 17, "unknown scope 'city' (known: space, neighbours, served)"),
        (GOOD + GOOD[GOOD.index("  - id"):], "object_in_crowd", "id", 17,
         "duplicate rule id 'object_in_crowd'"),
        (broken("min_level: red", "min_level: red\n        quantity: persons_count"),
         "object_in_crowd", "when[1].quantity", 16, "'quantity' does not apply to detections"),
        (broken("holds: latest", "cleared_by: infra.asset_up"), "object_in_crowd",
         "when[1].cleared_by", 16, "applies to 'holds: latest' conditions only"),
        (broken("    window_s: 600", "    window_s: 600\n    sequence: [object, crowds]"),
         "object_in_crowd", "sequence[1]", 8, "'crowds' names no condition"),
        (broken("title: Object in a crowd", "title: Object in a crowd\n    weight: 1.5"),
         "object_in_crowd", "weight", 5, "must be <= 1"),
        (broken("    level: red", "    level: red\n    level: amber"), None, None, 6,
         "key 'level' appears twice"),
        (broken("version: 1", "version: 2"), None, "version", 1, "1 was expected"),
        (broken("  - id: object_in_crowd", "  - id: Object in crowd!"), "Object in crowd!", "id", 3,
         "'Object in crowd!' is not a valid id"),
        (broken("        kind: detection\n        detection_type: crowd",
                "        detection_type: crowd"), "object_in_crowd", "when[1]", 12,
         "'kind' is a required property"),
    ],
)  # fmt: skip
def test_bad_rules_are_named_precisely(
    text: str, rule_id: str | None, field: str | None, line: int, words: str
) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, origin="site.yaml")
    error = caught.value
    assert (error.rule_id, error.field, error.line) == (rule_id, field, line)
    assert words in str(error)
    assert str(error).startswith(f"site.yaml line {line}: ")
    assert isinstance(error, ConfigError)  # the composition root reports it like any setting


def test_aliases_are_refused() -> None:
    # a few aliases nested make an exponentially large document (billion laughs)
    text = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    with pytest.raises(RulesError, match="line 2: YAML syntax error: aliases"):
        parse_rules(text, origin="bomb.yaml")


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(GOOD.replace("Object", "Objet trouv\xe9").encode("latin-1"))
    with pytest.raises(RulesError, match="latin.yaml: not UTF-8"):
        load_rules(latin)
    huge = tmp_path / "huge.yaml"
    huge.write_text(GOOD + "#" * 1_100_000)
    with pytest.raises(RulesError, match="larger than"):
        load_rules(huge)
    with pytest.raises(RulesError, match="must be of type object"):
        parse_rules("- just\n- a list\n")


def test_a_bad_file_leaves_the_running_engine_untouched(tmp_path: Path) -> None:
    fusion = engine()
    feed(fusion, [density(Level.RED, at(0))])
    path = tmp_path / "site.yaml"
    path.write_text(broken("window_s: 600", "window_s: -1"))
    with pytest.raises(RulesError):
        fusion.reload(load_rules(path), at(1))
    # old rules, old evidence: the red plaza still makes an object a situation
    found = fusion.step(det("video.unattended_object", at(2)), at(2))
    assert [s.situation_type for s in found] == ["unattended_object_in_dense_crowd"]


def test_reload_keeps_unchanged_rules_and_ends_the_others() -> None:
    fusion = engine()
    feed(fusion, [density(Level.RED, at(0)), det("video.unattended_object", at(1))])
    feed(
        fusion,
        [det("video.running", at(2, s), heading_deg=h) for s, h in ((0, 0), (5, 120), (9, 240))],
    )
    assert len(fusion.open_situations()) == 2
    shipped = load_rules()
    without_running = type(shipped)(tuple(r for r in shipped if r.id != "diverging_running"))
    (ended,) = fusion.reload(without_running, at(3))
    assert (ended.situation_type, ended.level) == ("diverging_running", Level.NORMAL)
    assert "its rule was changed or removed" in ended.summary
    # the object situation lives on with its evidence: another sighting updates it
    (updated,) = fusion.step(det("video.unattended_object", at(4)), at(4))
    assert updated.started_at == at(1)
    assert fusion.step(det("video.running", at(5), heading_deg=90), at(5)) == []


def test_disabled_rules_are_not_loaded() -> None:
    rules = parse_rules(broken("    level: red", "    level: red\n    enabled: false"))
    assert len(rules) == 0
    assert FusionEngine(rules, []).step(det("video.unattended_object", at(0)), at(0)) == []


def test_documents_already_parsed() -> None:
    data: dict[str, Any] = yaml.safe_load(GOOD)
    assert rules_from_data(data).ids() == ("object_in_crowd",)
    data["rules"][0]["when"][0]["min_count"] = 0
    with pytest.raises(RulesError, match=r"rule 'object_in_crowd', field 'when\[0\].min_count'"):
        rules_from_data(data)


@pytest.mark.parametrize(
    ("value", "field", "words"),
    [
        ("5", "when[0].detection_type", "must be of type string or array (got int)"),
        ("[crowd.x, 'bad pattern']", "when[0].detection_type[1]",
         "'bad pattern' is not a valid detection type"),
        ("[crowd.x, camera.y]", "when[0].detection_type[1]", "'camera.y' matches no known"),
    ],
)  # fmt: skip
def test_pattern_lists_are_checked_item_by_item(value: str, field: str, words: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(broken("detection_type: video.unattended_object", f"detection_type: {value}"))
    assert (caught.value.field, caught.value.line) == (field, 11)
    assert words in str(caught.value)


def test_an_engine_from_settings(tmp_path: Path) -> None:
    shipped = FusionEngine.from_settings(Settings().fusion, [])
    assert shipped.rules == load_rules()
    path = tmp_path / "site.yaml"
    path.write_text(broken("jdl_level: 2", "jdl_level: 4"))
    settings = Settings(fusion={"rules_file": path})
    with pytest.raises(RulesError, match="line 6: rule 'object_in_crowd', field 'jdl_level'"):
        FusionEngine.from_settings(settings.fusion, [])
