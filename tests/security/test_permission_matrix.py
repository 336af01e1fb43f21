"""The permission matrix: every route of the app x every role x own and other agency.

The routes are enumerated from ``app.routes``: a route this file does not know fails the test,
so a new endpoint cannot arrive without its line in the matrix. For each route the table below
says which roles may call it and whether the caller's agency matters (alerts and incidents
belong to agencies). Allowed means anything but 401/403 (a 404 or 409 is the route's own
business); denied means exactly 403; no credentials means exactly 401.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.websockets import WebSocketDisconnect

from smartspaces.security.policy import POLICY
from smartspaces.security.roles import ROLES
from tests.security.conftest import ALERT, OTHER, OWN, SPARE, THIRD, World

ADMIN, POLICE, CITY = "administrator", "police_operator", "city_operator"
EMERGENCY, INFRA, AUDITOR, DEVICE = (
    "emergency_services",
    "infrastructure_operator",
    "auditor",
    "device",
)
PEOPLE = {ADMIN, POLICE, CITY, EMERGENCY, INFRA, AUDITOR}
EXPECTED_POLICY = {
    "observations.ingest": {DEVICE},
    "spaces.read": PEOPLE,
    "devices.read": {ADMIN, POLICE, CITY, INFRA, AUDITOR},
    "alerts.read": PEOPLE,
    "alerts.share": {ADMIN, POLICE, CITY},
    "events.provenance": {ADMIN, POLICE, CITY, AUDITOR},
    "stream.read": PEOPLE,
    "incidents.read": PEOPLE,
    "incidents.open": {ADMIN, POLICE, CITY},
    "incidents.act": {ADMIN, POLICE, CITY, EMERGENCY},
    "incidents.share": {ADMIN, POLICE, CITY, EMERGENCY},
    "dead_letters.read": {ADMIN, INFRA, AUDITOR},
    "dead_letters.replay": {ADMIN, INFRA},
    "session.read": PEOPLE,
    "situations.read": PEOPLE,
    "assets.read": PEOPLE,
    "units.read": {ADMIN, POLICE, EMERGENCY, CITY, AUDITOR},
    "units.update": {ADMIN, POLICE, EMERGENCY, CITY},
    "replay.read": PEOPLE,
    "video.read": {ADMIN, POLICE, CITY, AUDITOR},
    "video.confirm": {ADMIN, POLICE},
    "routes.read": {ADMIN, POLICE, EMERGENCY, CITY},
}
# (method, path) -> (action, agency: None = any agency, "read" or "act" = needs that access
# to an alert or incident of agency-a). None as action: public.
ROUTES: dict[tuple[str, str], tuple[str | None, str | None]] = {
    ("POST", "/api/v1/observations"): ("observations.ingest", None),
    ("POST", "/ngsi-ld/v1/entities"): ("observations.ingest", None),
    ("POST", "/ngsi-ld/v1/entityOperations/upsert"): ("observations.ingest", None),
    ("PATCH", "/ngsi-ld/v1/entities/{entity_id}/attrs"): ("observations.ingest", None),
    ("GET", "/api/v1/spaces"): ("spaces.read", None),
    ("GET", "/api/v1/spaces/{space_id}"): ("spaces.read", None),
    ("GET", "/api/v1/spaces/{space_id}/history"): ("spaces.read", None),
    ("GET", "/api/v1/devices/activity"): ("devices.read", None),
    ("GET", "/api/v1/devices/map"): ("devices.read", None),
    ("GET", "/api/v1/situations"): ("situations.read", None),
    ("GET", "/api/v1/assets"): ("assets.read", None),
    ("GET", "/api/v1/assets/{asset_id}/what-if"): ("assets.read", None),
    ("GET", "/api/v1/units"): ("units.read", None),
    ("PATCH", "/api/v1/units/{unit_id}"): ("units.update", None),
    ("GET", "/api/v1/replay"): ("replay.read", None),
    ("GET", "/api/v1/replay/window"): ("replay.read", None),
    ("GET", "/api/v1/video/detections"): ("video.read", None),
    ("GET", "/api/v1/video/detections/{detection_id}"): ("video.read", None),
    ("GET", "/api/v1/video/detections/{detection_id}/snapshot"): ("video.read", None),
    ("POST", "/api/v1/video/detections/{detection_id}/confirm"): ("video.confirm", None),
    ("GET", "/api/v1/spaces/{space_id}/evacuation"): ("spaces.read", None),
    ("GET", "/api/v1/spaces/{space_id}/route"): ("routes.read", None),
    ("GET", "/api/v1/alerts"): ("alerts.read", None),
    ("GET", "/api/v1/alerts/{alert_id}/cap"): ("alerts.read", "read"),
    ("GET", "/api/v1/alerts/{alert_id}/ngsi-ld"): ("alerts.read", "read"),
    ("POST", "/api/v1/alerts/{alert_id}/shares"): ("alerts.share", "act"),
    ("DELETE", "/api/v1/alerts/{alert_id}/shares/{agency}"): ("alerts.share", "act"),
    ("GET", "/api/v1/events/{event_id}/provenance"): ("events.provenance", "read"),
    ("WEBSOCKET", "/api/v1/stream"): ("stream.read", None),
    ("GET", "/api/v1/incidents"): ("incidents.read", None),
    ("POST", "/api/v1/incidents"): ("incidents.open", "act"),
    ("GET", "/api/v1/incidents/{incident_id}"): ("incidents.read", "read"),
    ("POST", "/api/v1/incidents/{incident_id}/transitions"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/units"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/units/{unit_id}/release"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/measures/{measure_id}"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/alerts"): ("incidents.act", "act"),
    ("POST", "/api/v1/incidents/{incident_id}/shares"): ("incidents.share", "act"),
    ("DELETE", "/api/v1/incidents/{incident_id}/shares/{agency}"): ("incidents.share", "act"),
    ("GET", "/api/v1/dead-letters"): ("dead_letters.read", None),
    ("POST", "/api/v1/dead-letters/replay"): ("dead_letters.replay", None),
    ("GET", "/api/v1/auth/me"): ("session.read", None),
    ("POST", "/api/v1/auth/logout"): ("session.read", None),
    ("POST", "/api/v1/auth/login"): (None, None),
    ("GET", "/healthz"): (None, None),
    ("GET", "/"): (None, None),
    ("GET", "/api/v1/basemap"): (None, None),
    ("GET", "/openapi.json"): (None, None),
    ("GET", "/docs"): (None, None),
    ("GET", "/docs/oauth2-redirect"): (None, None),
    ("GET", "/redoc"): (None, None),
    ("GET", "/static"): (None, None),
    ("GET", "/static/vendor/leaflet"): (None, None),
}
BODIES: dict[str, Any] = {
    "/api/v1/units/{unit_id}": {"state": "available"},
    "/api/v1/video/detections/{detection_id}/confirm": {"level": "red"},
    "/api/v1/observations": [],
    "/ngsi-ld/v1/entities": {"id": "urn:ngsi-ld:Device:x", "type": "Device"},
    "/ngsi-ld/v1/entityOperations/upsert": [],
    "/api/v1/alerts/{alert_id}/shares": {"agency": THIRD, "access": "read"},
    "/api/v1/incidents/{incident_id}/shares": {"agency": THIRD, "access": "read"},
    "/api/v1/incidents": {"alert_id": SPARE.id},
    "/api/v1/incidents/{incident_id}/transitions": {"to": "acknowledged"},
    "/api/v1/incidents/{incident_id}/units": {"unit_id": "patrol-1"},
    "/api/v1/incidents/{incident_id}/notes": {"text": "seen"},
    "/api/v1/incidents/{incident_id}/measures/{measure_id}": {"status": "activated"},
    "/api/v1/incidents/{incident_id}/alerts": {"alert_id": SPARE.id},
    "/api/v1/auth/login": {"username": "nobody"},  # 422: a wrong password would be a 401
}


def app_routes(world: World) -> set[tuple[str, str]]:
    found = set()
    for context in iter_route_contexts(world.client.app.routes):  # type: ignore[attr-defined]
        methods = context.methods or ({"GET"} if context.path.startswith("/static") else set())
        for method in methods or {"WEBSOCKET"}:
            if method != "HEAD":
                found.add((method, context.path))
    return found


def url(world: World, path: str) -> str:
    values = {
        "space_id": "plaza",
        "alert_id": ALERT.id,  # the alert the incident was opened from
        "event_id": ALERT.id,
        "incident_id": world.incident_id,
        "unit_id": "patrol-1",
        "measure_id": "patrol-square",
        "agency": THIRD,
        "entity_id": "urn:ngsi-ld:Device:x",
        "asset_id": "substation-1",
        "detection_id": "det-" + "0" * 24,
    }
    return path.format(**values)


def call(world: World, method: str, path: str, headers: dict[str, str]) -> int:
    if method == "WEBSOCKET":
        try:
            with world.client.websocket_connect(path, headers=headers):
                return 200
        except WebSocketDisconnect as closed:
            return {4401: 401, 4403: 403}.get(closed.code, closed.code)
    answer = world.client.request(method, url(world, path), json=BODIES.get(path), headers=headers)
    return answer.status_code


def expected(role: str | None, agency: str, action: str | None, scoped: str | None) -> str:
    if action is None:
        return "allowed"
    if role is None:
        return "401"
    if role not in EXPECTED_POLICY[action]:
        return "403"
    if scoped and agency == OTHER and role != ADMIN and not (role == AUDITOR and scoped == "read"):
        return "403"
    return "allowed"


def test_the_policy_table_is_the_documented_one() -> None:
    assert {a: set(r) for a, r in POLICY.items()} == EXPECTED_POLICY
    assert set(ROLES) == PEOPLE | {DEVICE}


def test_every_route_of_the_app_is_in_the_matrix(world: World) -> None:
    assert app_routes(world) == set(ROUTES), "a route without its line in the matrix"


@pytest.mark.parametrize("role", [*sorted(PEOPLE), DEVICE, None])
def test_every_route_allows_exactly_the_expected_roles_and_agencies(
    world: World, role: str | None
) -> None:
    callers: list[tuple[str, dict[str, str]]]
    if role is None:
        callers = [(OWN, {})]
    elif role == DEVICE:
        callers = [(OWN, {"Authorization": f"Bearer {world.device_token}"})]
    else:
        callers = [(agency, world.as_role(role, agency)) for agency in (OWN, OTHER)]
    wrong = []
    for (method, path), (action, scoped) in sorted(ROUTES.items()):
        for agency, headers in callers:
            want = expected(role, agency, action, scoped)
            status = call(world, method, path, headers)
            got = "allowed" if status not in (401, 403) else str(status)
            if got != want:
                wrong.append(f"{role} of {agency} {method} {path}: {status}, expected {want}")
    assert wrong == []
