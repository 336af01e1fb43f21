"""Start-up rules: what a development install may do that a production one must not."""

from __future__ import annotations

from smartspaces.config import Settings
from smartspaces.config.security import DEVELOPMENT_DEMO_PASSWORD, DEVELOPMENT_SESSION_SECRET
from smartspaces.errors import ConfigError


def seeds_demo_users(settings: Settings) -> bool:
    """Demo users are created in development unless switched off, elsewhere only if asked."""
    chosen = settings.security.demo_users
    return settings.environment == "development" if chosen is None else chosen


def refuse_unsafe(settings: Settings) -> None:
    """Raise ``ConfigError`` naming every default secret a production server would run with."""
    if settings.environment == "development":
        return
    security = settings.security
    problems = []
    if security.session_secret.get_secret_value() == DEVELOPMENT_SESSION_SECRET:
        problems.append(
            "security.session_secret is the published development default: set "
            "SMARTSPACES__SECURITY__SESSION_SECRET to at least 32 random characters"
        )
    if seeds_demo_users(settings) and (
        security.demo_password.get_secret_value() == DEVELOPMENT_DEMO_PASSWORD
    ):
        problems.append(
            "security.demo_users is on with the published demo password: switch it off "
            "(create users with `smartspaces users add`) or set security.demo_password"
        )
    if problems:
        raise ConfigError(f"refusing to start in {settings.environment}: " + "; ".join(problems))
