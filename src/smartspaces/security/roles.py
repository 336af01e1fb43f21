"""Roles, agencies and the authenticated principal a request acts as."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal[
    "administrator",
    "police_operator",
    "city_operator",
    "emergency_services",
    "infrastructure_operator",
    "auditor",
    "device",
]
ROLES: tuple[Role, ...] = get_args(Role)
PERSON_ROLES: tuple[Role, ...] = tuple(r for r in ROLES if r != "device")
"""Roles a user, an API key or a token may hold; devices authenticate with device tokens."""
Via = Literal["session", "api_key", "jwt", "device"]

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$")
"""User names are the actors of incidents and audit records: no spaces, no markup."""
AGENCY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9\-]{0,63}$")
SPACE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:\-]{0,127}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a name (recorded as the actor), how they signed in, their roles, the
    agency they work for and the smart spaces they are limited to (None: every space)."""

    name: str
    via: Via
    roles: frozenset[Role]
    agency: str | None
    spaces: frozenset[str] | None = None
    session_id: str | None = None  # the keyed hash of the session, for sign-out

    def may_see_space(self, space_id: str) -> bool:
        return self.spaces is None or space_id in self.spaces

    def audit_details(self) -> dict[str, object]:
        """What the audit trail keeps about the caller besides the name."""
        return {"via": self.via, "roles": sorted(self.roles), "agency": self.agency}


def parse_role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise ValueError(f"unknown role {value!r}; one of {', '.join(ROLES)}")
