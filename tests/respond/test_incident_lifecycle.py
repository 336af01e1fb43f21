"""The incident lifecycle: legal steps only, units, notes, linked alerts, timeline, times."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest

from smartspaces.events import Alert, IncidentStatus, Level
from smartspaces.respond.incidents.errors import IllegalTransition, IncidentError
from smartspaces.respond.incidents.lifecycle import (
    TRANSITIONS,
    IncidentCase,
    add_note,
    assign_unit,
    link_alert,
    open_from_alert,
    release_unit,
    transition,
)
from tests.conftest import T0

S = IncidentStatus


def alert(minute: int = 0, level: Level = Level.RED) -> Alert:
    return Alert(
        source="alerts.policy",
        space_id="plaza",
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0 + timedelta(minutes=minute),
        alert_type="crowd.density",
        level=level,
        severity="Severe",
        urgency="Immediate",
        certainty="Observed",
        headline="RED crowd density in Test square",
    )


def walk(*statuses: IncidentStatus) -> IncidentCase:
    case = open_from_alert(alert(), "operator-1", T0)
    for i, status in enumerate(statuses, start=1):
        case, _ = transition(case, status, "operator-1", T0 + timedelta(minutes=i))
    return case


def test_the_full_lifecycle_and_its_response_times() -> None:
    case = open_from_alert(alert(), "operator-1", T0)
    assert case.status == S.NEW and case.alert_ids == (alert().id,)
    assert case.incident.derived_from == (alert().id,) and case.incident.level == Level.RED
    steps = [S.ACKNOWLEDGED, S.DISPATCHED, S.ON_SCENE, S.RESOLVED, S.CLOSED]
    events = []
    for minute, status in zip([1, 3, 9, 30, 45], steps, strict=True):
        case, event = transition(case, status, "operator-1", T0 + timedelta(minutes=minute))
        events.append(event)
    assert case.status == S.CLOSED
    assert case.time_to_acknowledge_s() == 60
    assert case.time_to_resolve_s() == 30 * 60
    assert [(e.from_status, e.to_status) for e in events] == list(
        zip([S.NEW, *steps[:-1]], steps, strict=True)
    )
    first = events[0]
    assert (first.incident_id, first.actor, first.space_id) == (case.id, "operator-1", "plaza")
    assert first.observed_at == T0 + timedelta(minutes=1)
    assert [e.action for e in case.timeline] == ["opened"] + ["status"] * 5
    assert len({e.id for e in events}) == 5  # each step is its own event


@pytest.mark.parametrize(("start", "to"), list(product(S, S)))
def test_only_the_listed_transitions_are_allowed(start: IncidentStatus, to: IncidentStatus) -> None:
    path = {
        S.NEW: [],
        S.ACKNOWLEDGED: [S.ACKNOWLEDGED],
        S.DISPATCHED: [S.ACKNOWLEDGED, S.DISPATCHED],
        S.ON_SCENE: [S.ACKNOWLEDGED, S.DISPATCHED, S.ON_SCENE],
        S.RESOLVED: [S.ACKNOWLEDGED, S.RESOLVED],
        S.CLOSED: [S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED],
    }[start]
    case = walk(*path)
    if to in TRANSITIONS[start]:
        moved, _ = transition(case, to, "operator-2", T0 + timedelta(hours=1))
        assert moved.status == to
    else:
        with pytest.raises(IllegalTransition, match=f"is {start.value}: it cannot become"):
            transition(case, to, "operator-2", T0 + timedelta(hours=1))


def test_an_illegal_step_says_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as error:
        transition(walk(), S.ON_SCENE, "operator-1", T0)
    assert str(error.value).endswith(
        "is new: it cannot become on_scene; it can become acknowledged"
    )
    with pytest.raises(IllegalTransition, match="nothing \\(it is closed\\)"):
        transition(walk(S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED), S.ACKNOWLEDGED, "op", T0)


def test_reopening_keeps_the_first_acknowledgement() -> None:
    case = walk(S.ACKNOWLEDGED, S.RESOLVED, S.ACKNOWLEDGED)
    assert case.time_to_acknowledge_s() == 60


def test_units_notes_and_linked_alerts() -> None:
    case = walk(S.ACKNOWLEDGED)
    case = assign_unit(case, "PL-101", "dispatcher", T0 + timedelta(minutes=2))
    case = assign_unit(case, "SAMU-7", "dispatcher", T0 + timedelta(minutes=2))
    with pytest.raises(IncidentError, match="already assigned"):
        assign_unit(case, "PL-101", "dispatcher", T0)
    case = release_unit(case, "SAMU-7", "dispatcher", T0 + timedelta(minutes=5))
    with pytest.raises(IncidentError, match="not assigned"):
        release_unit(case, "SAMU-7", "dispatcher", T0)
    assert case.active_units == ("PL-101",)
    case = add_note(case, "Crowd pushing at the fountain", "PL-101", T0 + timedelta(minutes=6))
    update = alert(minute=4, level=Level.CRITICAL)
    case = link_alert(case, update, "operator-1", T0 + timedelta(minutes=7))
    assert link_alert(case, update, "operator-1", T0) == case  # a retry changes nothing
    assert case.alert_ids == (alert().id, update.id)
    assert [n.detail for n in case.notes] == ["Crowd pushing at the fountain"]
    assert [(e.action, e.actor) for e in case.timeline[-5:]] == [
        ("unit_assigned", "dispatcher"),
        ("unit_assigned", "dispatcher"),
        ("unit_released", "dispatcher"),
        ("note", "PL-101"),
        ("alert_linked", "operator-1"),
    ]
    closed = walk(S.ACKNOWLEDGED, S.RESOLVED, S.CLOSED)
    with pytest.raises(IncidentError, match="is closed"):
        assign_unit(closed, "PL-102", "dispatcher", T0)


def test_closing_stands_every_unit_down() -> None:
    case = assign_unit(walk(S.ACKNOWLEDGED), "PL-101", "dispatcher", T0)
    case, _ = transition(case, S.RESOLVED, "op", T0 + timedelta(minutes=20))
    case, _ = transition(case, S.CLOSED, "op", T0 + timedelta(minutes=30))
    assert case.active_units == ()
    assert case.units[0].released_at == T0 + timedelta(minutes=30)


def test_times_are_unknown_until_reached() -> None:
    case = walk()
    assert case.time_to_acknowledge_s() is None and case.time_to_resolve_s() is None
