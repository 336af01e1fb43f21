"""Cursor-on-Target events for TAK clients: well-formed, one marker per alert chain, point from
the space's centroid, a Cancel deletes the marker."""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from smartspaces.events import Level
from smartspaces.respond.alerts.cot import DELETE_TYPE, MARKER_TYPE, cot_event, cot_time, cot_uid
from tests.conftest import square
from tests.respond.test_cap_out import lifecycle

SPACE = square("plaza-ayuntamiento", area_m2=10_000.0)
COT_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def parse(xml: bytes) -> etree._Element:
    # refuse entities and DTDs even in our own output: a parser a TAK server would trust
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(xml, parser)


def test_an_alert_is_a_marker_at_the_space_with_its_headline() -> None:
    alert = lifecycle(SPACE)[0]
    root = parse(cot_event(alert, SPACE, stale_after_s=600))
    assert root.tag == "event" and root.get("version") == "2.0"
    assert root.get("type") == MARKER_TYPE and root.get("uid") == f"smartspaces.{alert.id}"
    assert root.get("time") == root.get("start") == cot_time(alert.received_at)
    stale = datetime.fromisoformat(str(root.get("stale")).replace("Z", "+00:00"))
    assert (stale - alert.received_at).total_seconds() == 600
    point = root.find("point")
    assert point is not None
    lon, lat = SPACE.centroid.coordinates
    assert float(str(point.get("lat"))) == round(lat, 7)
    assert float(str(point.get("lon"))) == round(lon, 7)
    assert abs(float(str(point.get("ce"))) - 56.4) < 0.1  # a circle of 10,000 m²
    assert root.findtext("detail/remarks", "").startswith(alert.headline)
    contact = root.find("detail/contact")
    assert contact is not None and contact.get("callsign") == f"AMBER {SPACE.name}"
    ours = root.find("detail/smartspaces")
    assert ours is not None and ours.get("alert_id") == alert.id


def test_updates_replace_the_marker_and_a_cancel_deletes_it() -> None:
    alerts = lifecycle(SPACE)
    uids = {cot_uid(a) for a in alerts}
    assert uids == {f"smartspaces.{alerts[0].id}"}
    levels = [parse(cot_event(a, SPACE)).xpath("string(detail/smartspaces/@level)") for a in alerts]
    assert levels == ["amber", "red", "critical", "red", "normal"]
    cancel = parse(cot_event(alerts[-1], SPACE))
    assert alerts[-1].msg_type == "Cancel" and cancel.get("type") == DELETE_TYPE
    link = cancel.find("detail/link")
    assert link is not None and link.get("uid") == cot_uid(alerts[0])
    assert cancel.find("detail/__forcedelete") is not None


def test_times_are_utc_milliseconds() -> None:
    alert = lifecycle(SPACE)[1]
    root = parse(cot_event(alert, SPACE))
    for name in ("time", "start", "stale"):
        assert re.fullmatch(COT_TIME, str(root.get(name)))
    assert alert.level == Level.RED and root.get("uid") == cot_uid(alert)


def test_text_is_escaped_not_injected() -> None:
    hostile = lifecycle(SPACE)[0].model_copy(update={"headline": "</remarks><x a='1'>&amp;"})
    root = parse(cot_event(hostile, SPACE))
    assert root.findtext("detail/remarks", "").startswith("</remarks><x a='1'>&amp;")
    assert root.find("detail/x") is None
