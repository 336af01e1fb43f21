"""The alert policy on risk levels: raise, update with references, cancel (the space risk
itself is tested in tests/respond/risk/)."""

from __future__ import annotations

from datetime import timedelta

from smartspaces.events import Level, RiskLevel
from smartspaces.respond.alerts.policy import AlertPolicy
from tests.conftest import T0, square


def risk(level: Level, minute: int) -> RiskLevel:
    return RiskLevel(
        source="risk",
        space_id="plaza",
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0,
        derived_from=(f"det-{minute}",),
        level=level,
        score=0.5,
        reasons=("why",),
    )


def test_alert_lifecycle_alert_update_cancel() -> None:
    policy = AlertPolicy({"plaza": square()})
    assert policy.step(risk(Level.NORMAL, 0), T0) is None
    first = policy.step(risk(Level.AMBER, 1), T0)
    assert first is not None
    assert (first.msg_type, first.severity, first.urgency) == ("Alert", "Moderate", "Expected")
    assert first.derived_from == (risk(Level.AMBER, 1).id,)
    assert policy.step(risk(Level.AMBER, 2), T0) is None  # no news, no alert
    red = policy.step(risk(Level.RED, 3), T0)
    assert red is not None
    assert (red.msg_type, red.references, red.severity) == ("Update", (first.id,), "Severe")
    assert "Test square plaza" in red.headline
    critical = policy.step(risk(Level.CRITICAL, 4), T0)
    assert critical is not None and critical.severity == "Extreme"
    cancel = policy.step(risk(Level.NORMAL, 5), T0)
    assert cancel is not None
    assert (cancel.msg_type, cancel.references) == ("Cancel", (first.id,))
    again = policy.step(risk(Level.AMBER, 6), T0)
    assert again is not None and again.msg_type == "Alert" and again.references == ()
