"""Settings section: authentication, roles and agencies, sessions, hardening."""

from __future__ import annotations

from smartspaces.config.infrastructure import _Section


class SecuritySettings(_Section):
    """Authentication, roles and agencies, sessions, hardening."""
