"""Playbooks as data: the shipped València playbook, validation at load, measure tracking."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from smartspaces.events import Alert, Level, SmartSpace
from smartspaces.respond.incidents.errors import IncidentError, PlaybookError
from smartspaces.respond.incidents.lifecycle import open_from_alert
from smartspaces.respond.incidents.measures import propose, set_measure
from smartspaces.respond.incidents.playbooks import (
    SHIPPED_DIR,
    Playbook,
    json_schema,
    load_playbook,
    load_playbooks,
    playbook_for,
)
from tests.conftest import T0

SHIPPED = SHIPPED_DIR / "valencia-crowd-density.json"


def alert(level: Level, space_id: str = "plaza-ayuntamiento", kind: str = "crowd.density") -> Alert:
    return Alert(
        source="alerts.policy",
        space_id=space_id,
        observed_at=T0,
        received_at=T0,
        alert_type=kind,
        level=level,
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        headline=f"{level.value} crowd density",
    )


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_shipped_playbook_names_the_real_streets_of_the_demo_spaces(
    valencia_spaces: dict[str, SmartSpace],
) -> None:
    (book,) = load_playbooks(SHIPPED_DIR)
    assert set(book.space_ids) == set(valencia_spaces)
    for measure in book.measures:
        if measure.street is not None:
            assert measure.street.space_id in valencia_spaces, measure.id
            assert measure.street.name == valencia_spaces[measure.street.space_id].name
        if measure.message is not None:
            assert set(measure.message) == {"es-ES", "ca-ES-valencia", "en"}


def test_measures_grow_with_the_level() -> None:
    book = load_playbook(SHIPPED)
    amber = {m.id for m in book.measures_for(Level.AMBER)}
    red = {m.id for m in book.measures_for(Level.RED)}
    critical = {m.id for m in book.measures_for(Level.CRITICAL)}
    assert amber < red < critical
    assert {"stop-sant-vicent", "exit-barques", "notify-cicu"} <= red - amber
    assert {"notify-hospital", "ambulances"} <= critical - red


def test_the_playbook_is_chosen_by_alert_type_and_space() -> None:
    books = load_playbooks(SHIPPED_DIR)
    assert playbook_for(books, alert(Level.RED)) is books[0]
    assert playbook_for(books, alert(Level.RED, space_id="elsewhere")) is None
    assert playbook_for(books, alert(Level.RED, kind="cyber.port_scan")) is None
    general = books[0].model_copy(update={"id": "general", "space_ids": ()})
    assert playbook_for([general, *books], alert(Level.RED)) is books[0]  # specific first
    assert playbook_for([general, *books], alert(Level.RED, space_id="elsewhere")) is general


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda d: d["measures"][4].pop("street"),
            "measures.4: Value error, a stop_inflow measure",
        ),
        (lambda d: d["measures"][2].update(units=0), "measures.2.units: Input should be greater"),
        (lambda d: d["measures"][0].update(colour="red"), "measures.0.colour: Extra inputs"),
        (lambda d: d["measures"][1].update(id="meter-sant-vicent"), "measure ids must be unique"),
        (lambda d: d.update(measures=[]), "measures: Tuple should have at least 1 item"),
        (lambda d: d["measures"][0].update(min_level="purple"), "measures.0.min_level"),
    ],
)
def test_invalid_playbooks_are_refused_at_load_with_where_and_why(
    tmp_path: Path, change: Any, reason: str
) -> None:
    doc = json.loads(SHIPPED.read_text())
    change(doc)
    with pytest.raises(PlaybookError, match=reason) as error:
        load_playbook(write(tmp_path, doc))
    assert str(error.value).startswith(str(tmp_path / "book.json"))


def test_unreadable_and_oversized_playbooks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="cannot read"):
        load_playbook(tmp_path / "absent.json")
    (tmp_path / "big.json").write_bytes(b" " * 1_048_577)
    with pytest.raises(PlaybookError, match="over"):
        load_playbook(tmp_path / "big.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PlaybookError, match="invalid playbook"):
        load_playbook(tmp_path / "bad.json")


def test_the_schema_is_published() -> None:
    schema = json.loads(json_schema())
    assert schema["title"] == "Playbook" and "measures" in schema["required"]
    assert Playbook.model_validate_json(SHIPPED.read_bytes()).version == 1


def test_measures_are_tracked_by_whom_and_when() -> None:
    book = load_playbook(SHIPPED)
    red = alert(Level.RED)
    case = open_from_alert(red, "operator-1", T0)
    case = propose(case, book, red, "operator-1", T0)
    assert {m.status for m in case.measures} == {"proposed"}
    assert len(case.measures) == len(book.measures_for(Level.RED))
    later = T0 + timedelta(minutes=2)
    case = set_measure(case, "stop-sant-vicent", "activated", "PL-101", later)
    case = set_measure(case, "stop-sant-vicent", "done", "PL-101", later + timedelta(minutes=1))
    case = set_measure(case, "exit-ribera", "declined", "operator-1", later, "stage blocks it")
    stop = next(m for m in case.measures if m.id == "stop-sant-vicent")
    assert [(c.status, c.actor) for c in stop.history] == [
        ("proposed", "operator-1"),
        ("activated", "PL-101"),
        ("done", "PL-101"),
    ]
    assert case.timeline[-1].detail == "exit-ribera: proposed -> declined (stage blocks it)"
    with pytest.raises(IncidentError, match="is done: it cannot become activated"):
        set_measure(case, "stop-sant-vicent", "activated", "PL-101", later)
    with pytest.raises(IncidentError, match="no measure"):
        set_measure(case, "teleport", "activated", "PL-101", later)
    # escalation to critical adds only the new measures; tracked ones keep their state
    escalated = propose(case, book, alert(Level.CRITICAL), "operator-1", later)
    added = {m.id for m in escalated.measures} - {m.id for m in case.measures}
    assert added == {m.id for m in book.measures_for(Level.CRITICAL)} - {
        m.id for m in book.measures_for(Level.RED)
    }
    assert propose(escalated, book, alert(Level.CRITICAL), "operator-1", later) == escalated
