"""Errors of the security package; the API turns them into 401, 403 and 429 answers."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class SecurityError(SmartspacesError):
    """Base of the security package's errors."""


class Unauthenticated(SecurityError):
    """No usable credentials: missing, unknown, expired, revoked or forged (401)."""


class Forbidden(SecurityError):
    """Known caller, but its role, agency or spaces do not allow this (403)."""


class TooManyAttempts(SecurityError):
    """Too many failed sign-ins: locked for ``retry_after_s`` seconds (429)."""

    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class BadAccount(SecurityError):
    """An account cannot be made as asked (bad role, agency, name or weak password)."""
