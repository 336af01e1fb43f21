"""Users and API keys: create, check, disable, revoke; the demo users of a development install.

Synchronous (the store is); the API calls it in a worker thread. Every account belongs to one
agency, holds one role and may be limited to some smart spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from smartspaces.config.security import SecuritySettings
from smartspaces.security.errors import BadAccount, Unauthenticated
from smartspaces.security.passwords import hash_password, needs_rehash, shared_hash, verify_password
from smartspaces.security.roles import (
    AGENCY_PATTERN,
    NAME_PATTERN,
    PERSON_ROLES,
    SPACE_PATTERN,
    Principal,
    parse_role,
)
from smartspaces.security.tokens import key_id_of, new_api_key, sha256
from smartspaces.store.accounts import AccountRepository, ApiKeyRecord, UserRecord

KEY_TOUCH_EVERY = timedelta(minutes=5)
"""``last_used_at`` of a key is written at most this often (not one write per request)."""


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    agency: str
    display_name: str


DEMO_USERS = (
    DemoUser("admin", "administrator", "valencia-city", "Platform administrator"),
    DemoUser("police", "police_operator", "valencia-police", "Policía Local control room"),
    DemoUser("city", "city_operator", "valencia-city", "City operations centre"),
    DemoUser("emergency", "emergency_services", "valencia-emergency", "Emergency services"),
    DemoUser("infra", "infrastructure_operator", "valencia-infrastructure", "IoT operator"),
    DemoUser("auditor", "auditor", "valencia-audit", "Data protection auditor"),
)
"""One user per role (development only), all with ``security.demo_password``."""


class AccountService:
    """The rules around the account repository: names, roles, passwords, expiry, revocation."""

    def __init__(self, accounts: AccountRepository, settings: SecuritySettings) -> None:
        self._accounts, self._settings = accounts, settings

    # -- users --------------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        agency: str,
        now: datetime,
        spaces: Iterable[str] | None = None,
        display_name: str = "",
    ) -> UserRecord:
        """Create a user; raises ``BadAccount`` (bad name, role, agency, weak password)."""
        self._check_password(password)
        user = UserRecord(
            username=_name(username),
            display_name=display_name[:200] or username,
            password_hash=hash_password(password),
            role=_role(role),
            agency=_agency(agency),
            spaces=_spaces(spaces),
            disabled=False,
            created_at=now,
            password_changed_at=now,
        )
        self._accounts.add_user(user)
        return user

    def users(self) -> list[UserRecord]:
        return self._accounts.users()

    def check_password(self, username: str, password: str) -> UserRecord:
        """The user whose password this is; ``Unauthenticated`` for a wrong name or password
        or a disabled user (the same words for all three, so names cannot be probed)."""
        user = self._accounts.user(username) if NAME_PATTERN.fullmatch(username) else None
        good = verify_password(user.password_hash if user else None, password)
        if user is None or not good or user.disabled:
            raise Unauthenticated("wrong user name or password")
        if needs_rehash(user.password_hash):
            self._accounts.update_user(user.username, password_hash=hash_password(password))
        return user

    def set_password(self, username: str, password: str, now: datetime) -> None:
        """A new password; every session of the user ends."""
        self._check_password(password)
        if not self._accounts.update_user(
            username, password_hash=hash_password(password), password_changed_at=now
        ):
            raise BadAccount(f"unknown user {username!r}")
        self._accounts.end_sessions(username=username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (every session ends) or enable a user."""
        if not self._accounts.update_user(username, disabled=disabled):
            raise BadAccount(f"unknown user {username!r}")
        if disabled:
            self._accounts.end_sessions(username=username)

    def seed_demo_users(self, password: str, now: datetime) -> list[str]:
        """Create the demo users that are missing; returns the names created."""
        created = []
        encoded = shared_hash(password)
        for demo in DEMO_USERS:
            if self._accounts.user(demo.username) is not None:
                continue
            self._accounts.add_user(
                UserRecord(
                    username=demo.username,
                    display_name=demo.display_name,
                    password_hash=encoded,
                    role=demo.role,
                    agency=demo.agency,
                    spaces=None,
                    disabled=False,
                    created_at=now,
                    password_changed_at=now,
                )
            )
            created.append(demo.username)
        return created

    # -- API keys -----------------------------------------------------------------------------
    def issue_key(
        self,
        name: str,
        role: str,
        agency: str,
        now: datetime,
        spaces: Iterable[str] | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key; the whole key is returned once and only its hash is kept."""
        key_id, key = new_api_key()
        record = ApiKeyRecord(
            id=key_id,
            name=name[:200] or key_id,
            secret_sha256=sha256(key),
            role=_role(role),
            agency=_agency(agency),
            spaces=_spaces(spaces),
            created_at=now,
            expires_at=expires_at,
        )
        self._accounts.add_key(record)
        return record, key

    def keys(self) -> list[ApiKeyRecord]:
        return self._accounts.keys()

    def key_principal(self, key: str, now: datetime) -> Principal:
        """The principal of a presented key; ``Unauthenticated`` if unknown, revoked, expired."""
        record = self._accounts.key_by_hash(sha256(key)) if key_id_of(key) else None
        if record is None:
            raise Unauthenticated("unknown API key")
        if record.revoked_at is not None:
            raise Unauthenticated("API key has been revoked")
        if record.expires_at is not None and record.expires_at <= now:
            raise Unauthenticated("API key has expired")
        if record.last_used_at is None or now - record.last_used_at > KEY_TOUCH_EVERY:
            self._accounts.update_key(record.id, last_used_at=now)
        return Principal(
            name=f"key:{record.id}",
            via="api_key",
            roles=frozenset({parse_role(record.role)}),
            agency=record.agency,
            spaces=frozenset(record.spaces) if record.spaces is not None else None,
        )

    def revoke_key(self, key_id: str, now: datetime) -> None:
        if not self._accounts.update_key(key_id, revoked_at=now):
            raise BadAccount(f"unknown API key {key_id!r}")

    def _check_password(self, password: str) -> None:
        if len(password) < self._settings.password_min_length:
            raise BadAccount(
                f"a password has at least {self._settings.password_min_length} characters"
            )
        if len(password) > 1024:
            raise BadAccount("a password has at most 1024 characters")


def user_principal(user: UserRecord, session_id: str | None = None) -> Principal:
    return Principal(
        name=user.username,
        via="session",
        roles=frozenset({parse_role(user.role)}),
        agency=user.agency,
        spaces=frozenset(user.spaces) if user.spaces is not None else None,
        session_id=session_id,
    )


def _name(username: str) -> str:
    if not NAME_PATTERN.fullmatch(username):
        raise BadAccount("a user name is 1-64 letters, digits and . _ : - (no spaces)")
    return username


def _role(role: str) -> str:
    if role not in PERSON_ROLES:
        raise BadAccount(f"role is one of {', '.join(PERSON_ROLES)} (devices use device tokens)")
    return role


def _agency(agency: str) -> str:
    if not AGENCY_PATTERN.fullmatch(agency):
        raise BadAccount("an agency is 1-64 lower-case letters, digits and -")
    return agency


def _spaces(spaces: Iterable[str] | None) -> tuple[str, ...] | None:
    if spaces is None:
        return None
    found = tuple(sorted(set(spaces)))
    bad = [s for s in found if not SPACE_PATTERN.fullmatch(s)]
    if bad or not found:
        raise BadAccount(f"spaces are space ids (at least one): {bad}")
    return found
