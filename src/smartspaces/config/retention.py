"""Settings section: how long each kind of data is kept (data minimisation)."""

from __future__ import annotations

from smartspaces.config.infrastructure import _Section


class RetentionSettings(_Section):
    """How long each kind of data is kept (data minimisation)."""
