"""CAP 1.2 out: every message we build is valid against the OASIS schema, and reads as intended."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from smartspaces.events import Alert, Level, RiskLevel, SmartSpace
from smartspaces.respond.alerts.cap import cap_message, cap_xml
from smartspaces.respond.alerts.cap_in import parse_cap
from smartspaces.respond.alerts.cap_xml import CapSchemas
from smartspaces.respond.alerts.errors import AlertFormatError
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.alerts.settings import AlertFormatSettings, Audience
from tests.conftest import T0, square

SNAPSHOTS = Path(__file__).parent / "snapshots"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
AUDIENCES: tuple[Audience, ...] = get_args(Audience)


def risk(level: Level, minute: int, space_id: str = "plaza-ayuntamiento") -> RiskLevel:
    return RiskLevel(
        source="risk",
        space_id=space_id,
        observed_at=T0 + timedelta(minutes=minute),
        received_at=T0 + timedelta(minutes=minute),
        level=level,
        score=0.9,
        reasons=("density 4.3 p/m2 over 60 s",),
    )


def lifecycle(space: SmartSpace) -> list[Alert]:
    """The alert, updates and cancel the policy issues as a space goes amber to critical to calm."""
    policy = AlertPolicy({space.id: space})
    levels = [Level.AMBER, Level.RED, Level.CRITICAL, Level.RED, Level.NORMAL]
    alerts = []
    for minute, level in enumerate(levels):
        alert = policy.step(
            risk(level, minute, space.id), T0 + timedelta(minutes=minute, seconds=2)
        )
        assert alert is not None
        alerts.append(alert)
    return alerts


def assert_valid(xml: bytes, schemas: CapSchemas) -> etree._Element:
    root = etree.fromstring(xml)
    assert schemas.errors(root, "1.2") == []
    return root


@pytest.mark.realdata
def test_every_message_of_a_lifecycle_is_valid_for_every_audience_and_shape(
    cap_schemas: CapSchemas, valencia_spaces: dict[str, SmartSpace]
) -> None:
    rendered = 0
    for space in valencia_spaces.values():
        alerts = lifecycle(space)
        for alert in alerts:
            for audience in AUDIENCES:
                for shapes in ("polygon", "circle", "both"):
                    settings = AlertFormatSettings(area_shapes=shapes)
                    assert_valid(cap_xml(alert, space, settings, audience, alerts), cap_schemas)
                    rendered += 1
    assert rendered == len(valencia_spaces) * 5 * 3 * 3


@pytest.mark.realdata
def test_updates_and_cancels_reference_the_first_alert_as_sender_identifier_sent(
    cap_schemas: CapSchemas, valencia_spaces: dict[str, SmartSpace]
) -> None:
    space = valencia_spaces["plaza-ayuntamiento"]
    alerts = lifecycle(space)
    first = alerts[0]
    settings = AlertFormatSettings()
    for alert in alerts[1:]:
        root = assert_valid(cap_xml(alert, space, settings, "public", alerts), cap_schemas)
        assert root.findtext("cap:msgType", namespaces=NS) == alert.msg_type
        sent = first.received_at.replace(microsecond=0).isoformat()
        expected = f"smartspaces@valencia.example,{first.id},{sent}"
        assert root.findtext("cap:references", namespaces=NS) == expected
    assert alerts[-1].msg_type == "Cancel"


def test_a_reference_without_its_alert_is_an_error() -> None:
    alerts = lifecycle(square("plaza"))
    with pytest.raises(AlertFormatError, match="CAP needs its sent time"):
        cap_message(alerts[1], square("plaza"), AlertFormatSettings())


def test_an_alert_for_another_space_is_an_error() -> None:
    alert = lifecycle(square("plaza"))[0]
    with pytest.raises(AlertFormatError, match="concerns plaza"):
        cap_message(alert, square("other"), AlertFormatSettings())


def test_scope_follows_the_audience() -> None:
    alert, space = lifecycle(square("plaza"))[0], square("plaza")
    settings = AlertFormatSettings(operator_addresses=("cecopal", "policia local"))
    public = cap_message(alert, space, settings, "public")
    agencies = cap_message(alert, space, settings, "agencies")
    operators = cap_message(alert, space, settings, "operators")
    assert (public.scope, public.restriction, public.addresses) == ("Public", None, None)
    assert agencies.scope == "Restricted" and agencies.restriction == settings.restriction
    assert operators.scope == "Private" and operators.addresses == 'cecopal "policia local"'
    # the public is told what to do; responders are told the operational measures
    assert public.infos[-1].instruction == (
        "Avoid Test square plaza unless you need to be there and follow the stewards' directions."
    )
    assert agencies.infos[-1].instruction == (
        "Watch the space; prepare to meter inflow at the access streets."
    )


def test_one_info_block_per_language_with_the_space_polygon_latitude_first() -> None:
    alerts, space = lifecycle(square("plaza")), square("plaza")
    alert = alerts[1]
    message = cap_message(alert, space, AlertFormatSettings(area_shapes="both"), "public", alerts)
    assert [i.language for i in message.infos] == ["es-ES", "ca-ES-valencia", "en"]
    assert [i.headline for i in message.infos] == [
        "Aglomeración peligrosa en Test square plaza",
        "Aglomeració perillosa a Test square plaza",
        "Dangerous crowding in Test square plaza",
    ]
    area = message.infos[0].areas[0]
    assert area.polygons[0][0] == (39.4697, -0.3766)  # GeoJSON is lon, lat; CAP is lat, lon
    assert area.polygons[0][0] == area.polygons[0][-1]
    # the circle holds every corner of the square (~26 m x 44 m around its centre)
    assert 0.02 < area.circles[0].radius_km < 0.04
    info = message.infos[0]
    assert info.expires == alert.received_at + timedelta(hours=1)
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Severe", "Observed")


def test_an_alert_type_without_wording_goes_out_once_in_its_own_english_words() -> None:
    alert = Alert(
        source="cyber",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        alert_type="cyber.port_scan",
        level=Level.AMBER,
        severity="Moderate",
        urgency="Expected",
        certainty="Likely",
        headline="Port scan against the square's counters",
    )
    message = cap_message(alert, square("plaza"), AlertFormatSettings(), "operators")
    assert len(message.infos) == 1
    info = message.infos[0]
    assert (info.language, info.headline, info.categories) == (
        "en",
        alert.headline,
        ("Security", "Infra"),
    )


@pytest.mark.realdata
def test_snapshot_of_a_red_alert_for_the_town_hall_square(
    cap_schemas: CapSchemas, valencia_spaces: dict[str, SmartSpace]
) -> None:
    space = valencia_spaces["plaza-ayuntamiento"]
    alerts = lifecycle(space)
    xml = cap_xml(alerts[1], space, AlertFormatSettings(area_shapes="both"), "public", alerts)
    assert_valid(xml, cap_schemas)
    snapshot = SNAPSHOTS / "cap_red_plaza_ayuntamiento.xml"
    if os.environ.get("SMARTSPACES_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_bytes(xml)
    assert xml == snapshot.read_bytes(), (
        "CAP output changed: review, then rerun with SMARTSPACES_UPDATE_SNAPSHOTS=1"
    )
    # what we write, we read back as the same message
    assert parse_cap(xml, cap_schemas) == cap_message(
        alerts[1], space, AlertFormatSettings(area_shapes="both"), "public", alerts
    )


@pytest.mark.realdata
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=300),
    level=st.sampled_from(list(Level)),
    severity=st.sampled_from(["Extreme", "Severe", "Moderate", "Minor", "Unknown"]),
    kind=st.sampled_from(["crowd.density", "cyber.port_scan", "video.fall", "other"]),
    audience=st.sampled_from(AUDIENCES),
)
def test_any_alert_text_gives_valid_cap(
    cap_schemas: CapSchemas,
    text: str,
    level: Level,
    severity: str,
    kind: str,
    audience: Audience,
) -> None:
    alert = Alert(
        source="anything",
        space_id="plaza",
        observed_at=T0,
        received_at=T0,
        alert_type=kind,
        level=level,
        severity=severity,
        urgency="Unknown",
        certainty="Possible",
        headline=text,
        description=text,
        instruction=text,
    )
    assert_valid(cap_xml(alert, square("plaza"), AlertFormatSettings(), audience), cap_schemas)
