"""Settings section: fusion rules and the city model (infrastructure assets and dependencies)."""

from __future__ import annotations

from smartspaces.config.infrastructure import _Section


class FusionSettings(_Section):
    """Fusion rules and the city model (infrastructure assets and dependencies)."""
