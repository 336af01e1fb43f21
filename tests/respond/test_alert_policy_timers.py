"""The alert policy over time: suppression after a cancel (flapping) and escalation when nobody
acknowledges an alert; acknowledgement comes from the incident handling the alert."""

from __future__ import annotations

from datetime import datetime, timedelta

from smartspaces.events import IncidentStateChanged, IncidentStatus, Level, RiskLevel
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.alerts.settings import AlertPolicySettings
from tests.conftest import T0, square

SETTINGS = AlertPolicySettings(suppress_after_cancel_s=300, escalate_after_s=120, max_escalations=2)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def risk(level: Level, seconds: float, space: str = "calle-ribera") -> RiskLevel:
    return RiskLevel(
        source="risk",
        space_id=space,
        observed_at=at(seconds),
        received_at=at(seconds),
        level=level,
        score=0.5,
    )


def policy() -> AlertPolicy:
    return AlertPolicy({"calle-ribera": square("calle-ribera")}, SETTINGS)


def test_carrer_ribera_flapping_raises_one_alert_not_three() -> None:
    p = policy()
    first = p.step(risk(Level.AMBER, 0), at(0))
    assert first is not None and first.msg_type == "Alert"
    cancel = p.step(risk(Level.NORMAL, 20), at(20))
    assert cancel is not None and cancel.msg_type == "Cancel"
    assert p.step(risk(Level.AMBER, 50), at(50)) is None  # amber again within the window
    assert p.step(risk(Level.NORMAL, 70), at(70)) is None
    assert p.step(risk(Level.AMBER, 90), at(90)) is None
    assert p.step(risk(Level.NORMAL, 100), at(100)) is None
    assert p.tick(at(400)) == []  # calm when the window ended: nothing to say


def test_a_held_back_level_that_stands_is_alerted_when_the_window_ends() -> None:
    p = policy()
    p.step(risk(Level.AMBER, 0), at(0))
    p.step(risk(Level.NORMAL, 20), at(20))
    assert p.step(risk(Level.AMBER, 50), at(50)) is None
    assert p.tick(at(300)) == []
    late = p.tick(at(320))
    assert [(a.msg_type, a.level) for a in late] == [("Alert", Level.AMBER)]
    assert late[0].derived_from == (risk(Level.AMBER, 50).id,)


def test_a_worse_level_is_never_held_back() -> None:
    p = policy()
    p.step(risk(Level.AMBER, 0), at(0))
    p.step(risk(Level.NORMAL, 20), at(20))
    red = p.step(risk(Level.RED, 30), at(30))
    assert red is not None and (red.msg_type, red.level) == ("Alert", Level.RED)


def test_unacknowledged_alerts_escalate_with_higher_urgency_then_stop() -> None:
    p = policy()
    first = p.step(risk(Level.AMBER, 0), at(0))
    assert first is not None and first.urgency == "Expected"
    assert p.tick(at(119)) == []
    (escalated,) = p.tick(at(120))
    assert (escalated.msg_type, escalated.references) == ("Update", (first.id,))
    assert escalated.urgency == "Immediate" and escalated.level == Level.AMBER
    assert escalated.headline.startswith("NOT ACKNOWLEDGED for 2 min")
    (again,) = p.tick(at(240))
    assert again.urgency == "Immediate" and again.derived_from == (escalated.id,)
    assert p.tick(at(360)) == []  # max_escalations reached
    # a later level change keeps the escalated urgency and still cites the first alert
    red = p.step(risk(Level.RED, 400), at(400))
    assert red is not None and red.references == (first.id,)


def change(incident_to: IncidentStatus, *alert_ids: str) -> IncidentStateChanged:
    return IncidentStateChanged(
        source="incidents",
        space_id="calle-ribera",
        observed_at=at(60),
        received_at=at(60),
        derived_from=("inc-1", *alert_ids),
        incident_id="inc-1",
        from_status=IncidentStatus.NEW,
        to_status=incident_to,
        actor="operator-1",
    )


def test_an_acknowledged_alert_is_not_escalated() -> None:
    p = policy()
    first = p.step(risk(Level.AMBER, 0), at(0))
    assert first is not None
    p.observe(change(IncidentStatus.NEW, first.id))  # opening an incident is not taking it on
    p.observe(change(IncidentStatus.ACKNOWLEDGED, "alert-of-another-space"))
    assert len(p.tick(at(120))) == 1
    p.observe(change(IncidentStatus.ACKNOWLEDGED, first.id))
    assert p.tick(at(500)) == []


def test_restore_keeps_acknowledgements() -> None:
    p = policy()
    first = p.step(risk(Level.AMBER, 0), at(0))
    assert first is not None
    restarted = policy()
    restarted.restore([first], acknowledged={first.id})
    assert restarted.tick(at(500)) == []
    unacknowledged = policy()
    unacknowledged.restore([first])
    assert [a.references for a in unacknowledged.tick(at(500))] == [(first.id,)]


def test_the_bare_policy_neither_suppresses_nor_escalates() -> None:
    p = AlertPolicy({"calle-ribera": square("calle-ribera")})
    p.step(risk(Level.AMBER, 0), at(0))
    p.step(risk(Level.NORMAL, 20), at(20))
    assert p.step(risk(Level.AMBER, 50), at(50)) is not None
    assert p.tick(at(10_000)) == []
