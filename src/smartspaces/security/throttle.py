"""Sign-in lock-out: too many failures for one user name, or from one client, lock it a while.

Pure and in memory: ``check`` before verifying a password, ``failed``/``succeeded`` after. User
names are tracked whether they exist or not, so a lock-out does not tell which names are real.
Each process keeps its own counts (a restart forgets them; several API processes each allow the
limit), which bounds guessing to a few attempts per window without a shared store.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smartspaces.config.security import SecuritySettings
from smartspaces.security.errors import TooManyAttempts

MAX_TRACKED = 100_000
"""Most names and clients remembered; the oldest are forgotten first (bounded memory)."""


@dataclass
class _Record:
    failures: deque[datetime] = field(default_factory=deque)
    locked_until: datetime | None = None


class LoginThrottle:
    """Counts failed sign-ins per user name and per client address."""

    def __init__(self, settings: SecuritySettings) -> None:
        self._window = timedelta(seconds=settings.login_window_s)
        self._lockout = timedelta(seconds=settings.lockout_s)
        self._limits = {
            "user": settings.login_max_failures,
            "client": settings.login_client_max_failures,
        }
        self._records: dict[tuple[str, str], _Record] = {}

    def check(self, username: str, client: str, now: datetime) -> None:
        """Raise ``TooManyAttempts`` if the name or the client is locked now."""
        for key in (("user", username.lower()), ("client", client)):
            record = self._records.get(key)
            if record and record.locked_until and record.locked_until > now:
                wait = (record.locked_until - now).total_seconds()
                raise TooManyAttempts(
                    f"too many failed sign-ins; try again in {wait:.0f} s", retry_after_s=wait
                )

    def failed(self, username: str, client: str, now: datetime) -> bool:
        """Count a failure; True if it locked the name or the client."""
        locked = False
        for kind, value in (("user", username.lower()), ("client", client)):
            record = self._records.setdefault((kind, value), _Record())
            record.failures.append(now)
            while record.failures and record.failures[0] <= now - self._window:
                record.failures.popleft()
            if len(record.failures) >= self._limits[kind]:
                record.locked_until = now + self._lockout
                record.failures.clear()
                locked = True
        self._forget_oldest()
        return locked

    def succeeded(self, username: str) -> None:
        """A good password clears the name's failures (not the client's)."""
        self._records.pop(("user", username.lower()), None)

    def _forget_oldest(self) -> None:
        while len(self._records) > MAX_TRACKED:
            del self._records[next(iter(self._records))]
