"""The access policy, in one place: which roles may do each action, and how agencies share.

Every API route names one action of ``POLICY`` (the API refuses to start if a route names none
and is not in ``PUBLIC_PATHS``). Roles say *what* a caller may do; agencies say *to which*
alerts and incidents:

- an incident belongs to the agency that opened it; an alert belongs to the agencies that
  receive every alert (``security.alert_agencies``, the control rooms);
- sharing gives another agency ``read`` or ``act`` access to one alert or incident;
- administrators act on, and auditors read, every agency's items (both are audited);
- a caller limited to some smart spaces sees nothing of the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from smartspaces.security.errors import Forbidden
from smartspaces.security.roles import Principal, Role

Action = Literal[
    "observations.ingest",
    "spaces.read",
    "devices.read",
    "alerts.read",
    "alerts.share",
    "events.provenance",
    "stream.read",
    "incidents.read",
    "incidents.open",
    "incidents.act",
    "incidents.share",
    "dead_letters.read",
    "dead_letters.replay",
    "session.read",
    "situations.read",
    "assets.read",
    "routes.read",
    "units.read",
    "units.update",
    "replay.read",
    "video.read",
    "video.confirm",
]
Access = Literal["read", "act"]

_ADMIN: Role = "administrator"
_POLICE: Role = "police_operator"
_CITY: Role = "city_operator"
_EMERGENCY: Role = "emergency_services"
_INFRA: Role = "infrastructure_operator"
_AUDITOR: Role = "auditor"
_PEOPLE = frozenset({_ADMIN, _POLICE, _CITY, _EMERGENCY, _INFRA, _AUDITOR})

POLICY: Mapping[Action, frozenset[Role]] = {
    # sensors speak for themselves only, with their device token
    "observations.ingest": frozenset({"device"}),
    "spaces.read": _PEOPLE,
    "devices.read": frozenset({_ADMIN, _POLICE, _CITY, _INFRA, _AUDITOR}),
    "alerts.read": _PEOPLE,
    "alerts.share": frozenset({_ADMIN, _POLICE, _CITY}),
    # the chain back to the observations: for those who judge an alert, and those who audit
    "events.provenance": frozenset({_ADMIN, _POLICE, _CITY, _AUDITOR}),
    "stream.read": _PEOPLE,
    "incidents.read": _PEOPLE,
    "incidents.open": frozenset({_ADMIN, _POLICE, _CITY}),
    "incidents.act": frozenset({_ADMIN, _POLICE, _CITY, _EMERGENCY}),
    "incidents.share": frozenset({_ADMIN, _POLICE, _CITY, _EMERGENCY}),
    # refused input may hold anything a sender sent: the people who fix the sensors
    "dead_letters.read": frozenset({_ADMIN, _INFRA, _AUDITOR}),
    "dead_letters.replay": frozenset({_ADMIN, _INFRA}),
    "session.read": _PEOPLE,
    "situations.read": _PEOPLE,
    # the infrastructure and what its failure would do: not for the public, for every desk
    "assets.read": _PEOPLE,
    # responder routes: for those who send people out
    "routes.read": frozenset({_ADMIN, _POLICE, _EMERGENCY, _CITY}),
    # where responders are: for those who send them, and those who audit; a unit is moved
    # only by its own agency (checked per unit) or an administrator
    "units.read": frozenset({_ADMIN, _POLICE, _EMERGENCY, _CITY, _AUDITOR}),
    "units.update": frozenset({_ADMIN, _POLICE, _EMERGENCY, _CITY}),
    # the time slider: spaces and alerts as they were (alerts filtered as in the live feed)
    "replay.read": _PEOPLE,
    # video findings and their snapshots (people shaded, or blurred once a threat is confirmed)
    "video.read": frozenset({_ADMIN, _POLICE, _CITY, _AUDITOR}),
    # lifting the shading and raising the space's risk is a police decision (audited)
    "video.confirm": frozenset({_ADMIN, _POLICE}),
}
"""Action -> the roles allowed to do it. The permission matrix test reads the same table."""

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/",
        "/api/v1/basemap",
        "/api/v1/auth/login",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/static",
        "/static/vendor/leaflet",
    }
)
"""Paths anybody may reach: health, the login, the page, its static files and the API docs."""

ACT_EVERYWHERE: frozenset[Role] = frozenset({_ADMIN})
READ_EVERYWHERE: frozenset[Role] = frozenset({_ADMIN, _AUDITOR})


def allows(principal: Principal, action: Action) -> bool:
    return bool(principal.roles & POLICY[action])


def require(principal: Principal, action: Action) -> None:
    """Raise ``Forbidden`` unless one of the principal's roles may do ``action``."""
    if not allows(principal, action):
        roles = ", ".join(sorted(principal.roles)) or "no role"
        raise Forbidden(f"{roles} may not do {action}")


def access(
    principal: Principal, owners: frozenset[str], shares: Mapping[str, str]
) -> Access | None:
    """The principal's access to an item owned by ``owners`` and shared as ``shares``
    (agency -> "read" or "act"); None when it has none."""
    if principal.roles & ACT_EVERYWHERE:
        return "act"
    agency = principal.agency
    if agency is not None and agency in owners:
        return "act"
    shared = shares.get(agency) if agency is not None else None
    if shared == "act":
        return "act"
    if shared == "read" or principal.roles & READ_EVERYWHERE:
        return "read"
    return None


def require_access(
    principal: Principal,
    needed: Access,
    owners: frozenset[str],
    shares: Mapping[str, str],
    what: str,
) -> None:
    """Raise ``Forbidden`` unless the principal's agency may ``needed`` the item ``what``."""
    granted = access(principal, owners, shares)
    if granted == "act" or (granted == "read" and needed == "read"):
        return
    raise Forbidden(f"{what} is not shared with agency {principal.agency or '(none)'}")


def require_space(principal: Principal, space_id: str) -> None:
    if not principal.may_see_space(space_id):
        raise Forbidden(f"{principal.name} is not allowed on space {space_id[:128]!r}")


def may_own(principal: Principal, owners: frozenset[str]) -> bool:
    """Whether the principal speaks for an owner of an item (and so may share it)."""
    return bool(principal.roles & ACT_EVERYWHERE) or principal.agency in owners
