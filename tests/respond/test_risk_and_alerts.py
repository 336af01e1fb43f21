"""Risk per space and the alert policy: raise, update with references, cancel."""

from __future__ import annotations

from datetime import timedelta

from smartspaces.events import Detection, Level, RiskLevel
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.risk.space_risk import SpaceRiskAssessor
from tests.conftest import T0, square


def detection(level: Level, minute: int, kind: str = "crowd.density_level") -> Detection:
    return Detection(
        source="crowd.density",
        space_id="plaza",
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0,
        derived_from=(f"obs-{minute}",),
        detector="crowd.density",
        detection_type=kind,
        level=level,
        summary=f"density {level.value}",
    )


def test_risk_follows_the_highest_current_detection() -> None:
    risk = SpaceRiskAssessor()
    amber = risk.step(detection(Level.AMBER, 1), T0)
    assert amber is not None and amber.level == Level.AMBER and amber.score == 0.4
    assert amber.derived_from == (detection(Level.AMBER, 1).id,)
    other = risk.step(detection(Level.RED, 2, kind="video.zone_density"), T0)
    assert other is not None and other.level == Level.RED
    # the crowd detector calming down does not lower the risk while video still says red
    assert risk.step(detection(Level.NORMAL, 3), T0) is None
    assert risk.level("plaza") == Level.RED


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
