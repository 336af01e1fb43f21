"""From a request's credentials to a principal: API key, bearer token (JWT or device token) or
COP session cookie, in that order; plus sign-in with a password, rate limited.

Synchronous (it reads the store); the API calls it in a worker thread. A header credential
(``X-API-Key``, ``Authorization``) is never sent by a browser on its own, so only the session
cookie needs the CSRF check on changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from smartspaces.clock import Clock
from smartspaces.config.security import SecuritySettings
from smartspaces.edge.devices import hash_token
from smartspaces.security.accounts import AccountService, user_principal
from smartspaces.security.errors import Unauthenticated
from smartspaces.security.oidc import TokenValidator
from smartspaces.security.roles import Principal
from smartspaces.security.sessions import SessionService
from smartspaces.security.throttle import LoginThrottle
from smartspaces.store import Store
from smartspaces.store.accounts import UserRecord
from smartspaces.store.grants import GrantRepository

MAX_CREDENTIAL_CHARS = 8192


@dataclass(frozen=True)
class Credentials:
    """What a request presented; ``changes`` is true for POST, PUT, PATCH and DELETE."""

    api_key: str | None = None
    bearer: str | None = None
    session: str | None = None
    csrf_header: str | None = None
    csrf_cookie: str | None = None
    changes: bool = False


@dataclass(frozen=True)
class SignedIn:
    user: UserRecord
    session_id: str
    csrf_token: str


class Authenticator:
    """Everything that checks who is calling; built once per app."""

    def __init__(self, settings: SecuritySettings, store: Store, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self.accounts = AccountService(store.accounts, settings)
        self.sessions = SessionService(store.accounts, settings, clock)
        self.grants = GrantRepository(store.engine)
        self._tokens = TokenValidator(settings, clock)
        self._throttle = LoginThrottle(settings)
        self._throttle_lock = threading.Lock()
        self._store = store

    def authenticate(self, credentials: Credentials) -> Principal:
        """The caller; raises ``Unauthenticated`` (401) or ``Forbidden`` (403, CSRF)."""
        if credentials.api_key is not None:
            return self.accounts.key_principal(_bounded(credentials.api_key), self.clock.now())
        if credentials.bearer is not None:
            token = _bounded(credentials.bearer)
            # a JWT has three dot-separated parts; a device token has no dot
            if token.count(".") == 2:
                return self._tokens.principal(token)
            return self.device(token)
        if credentials.session is not None:
            session_id = _bounded(credentials.session)
            id_hash, user = self.sessions.resolve(session_id)
            if credentials.changes:
                self.sessions.check_csrf(
                    session_id, credentials.csrf_header, credentials.csrf_cookie
                )
            return user_principal(user, id_hash)
        raise Unauthenticated(
            "sign in, or send an API key (X-API-Key) or a bearer token (Authorization)"
        )

    def device(self, token: str) -> Principal:
        """The principal of a device token; refused once the device is disabled or its token
        replaced (only the current token's hash is kept)."""
        device = self._store.devices.by_token_hash(hash_token(_bounded(token)))
        if device is None or device.status != "active":
            raise Unauthenticated("unknown or revoked device token")
        return Principal(
            name=device.id,
            via="device",
            roles=frozenset({"device"}),
            agency=None,
            spaces=frozenset({device.space_id}),
        )

    def user(self, username: str) -> UserRecord | None:
        return self._store.accounts.user(username)

    def sign_in(self, username: str, password: str, client: str) -> SignedIn:
        """Check a password and start a session; ``TooManyAttempts`` while locked out,
        ``Unauthenticated`` for a wrong name or password (counted towards the lock-out)."""
        now = self.clock.now()
        with self._throttle_lock:
            self._throttle.check(username, client, now)
        try:
            user = self.accounts.check_password(username, password)
        except Unauthenticated:
            with self._throttle_lock:
                self._throttle.failed(username, client, now)
            raise
        with self._throttle_lock:
            self._throttle.succeeded(username)
        session_id, csrf = self.sessions.start(user)
        return SignedIn(user, session_id, csrf)


def _bounded(value: str) -> str:
    if len(value) > MAX_CREDENTIAL_CHARS:
        raise Unauthenticated("credential too long")
    return value.strip()
