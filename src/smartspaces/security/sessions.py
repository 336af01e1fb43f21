"""Server-side COP sessions and their CSRF tokens.

The cookie carries a random session id; the server keeps only its HMAC under the session secret,
with the user, the absolute expiry and the last use. A session ends at its expiry, after
``session_idle_s`` unused, at sign-out, or when its user is disabled or changes password.

The CSRF token is derived from the session id (HMAC under the same secret with another purpose):
the page sends it back in ``X-CSRF-Token`` on every change, and also gets it as a readable cookie
(double submit). A forged site can make the browser send the session cookie (not even that, with
SameSite=Strict) but cannot read the token.
"""

from __future__ import annotations

from datetime import timedelta

from smartspaces.clock import Clock
from smartspaces.config.security import SecuritySettings
from smartspaces.security.errors import Forbidden, Unauthenticated
from smartspaces.security.tokens import keyed, new_session_id, same
from smartspaces.store.accounts import AccountRepository, SessionRecord, UserRecord

TOUCH_EVERY = timedelta(seconds=60)
"""The last use of a session is written at most this often (not one write per request)."""


class SessionService:
    """Starts, resolves and ends sessions."""

    def __init__(
        self, accounts: AccountRepository, settings: SecuritySettings, clock: Clock
    ) -> None:
        self._accounts, self._clock = accounts, clock
        self._secret = settings.session_secret.get_secret_value()
        self._ttl = timedelta(seconds=settings.session_ttl_s)
        self._idle = timedelta(seconds=settings.session_idle_s)

    def start(self, user: UserRecord) -> tuple[str, str]:
        """A new session for ``user``: (the cookie's session id, its CSRF token)."""
        session_id = new_session_id()
        now = self._clock.now()
        self._accounts.end_expired_sessions(now)
        self._accounts.add_session(
            SessionRecord(
                id_hash=self.hash_of(session_id),
                username=user.username,
                created_at=now,
                expires_at=now + self._ttl,
                last_seen_at=now,
            )
        )
        return session_id, self.csrf_token(session_id)

    def resolve(self, session_id: str) -> tuple[str, UserRecord]:
        """The (session hash, user) of a live session; ``Unauthenticated`` otherwise."""
        id_hash = self.hash_of(session_id)
        record = self._accounts.session(id_hash) if 0 < len(session_id) <= 128 else None
        if record is None:
            raise Unauthenticated("no session: sign in")
        now = self._clock.now()
        if record.expires_at <= now or now - record.last_seen_at > self._idle:
            self._accounts.end_sessions(id_hash=id_hash)
            raise Unauthenticated("the session has expired: sign in again")
        user = self._accounts.user(record.username)
        if user is None or user.disabled:
            self._accounts.end_sessions(id_hash=id_hash)
            raise Unauthenticated("the session's user is disabled")
        if now - record.last_seen_at > TOUCH_EVERY:
            self._accounts.touch_session(id_hash, now)
        return id_hash, user

    def check_csrf(self, session_id: str, header: str | None, cookie: str | None) -> None:
        """Raise ``Forbidden`` unless the header carries this session's CSRF token (and the
        CSRF cookie, when sent, is the same)."""
        expected = self.csrf_token(session_id)
        if not header:
            raise Forbidden("missing X-CSRF-Token header (changes from the COP need it)")
        if not same(header, expected) or (cookie is not None and not same(cookie, expected)):
            raise Forbidden("wrong CSRF token: reload the page")

    def end(self, id_hash: str) -> None:
        self._accounts.end_sessions(id_hash=id_hash)

    def hash_of(self, session_id: str) -> str:
        return keyed(self._secret, "session", session_id)

    def csrf_token(self, session_id: str) -> str:
        return keyed(self._secret, "csrf", session_id)
