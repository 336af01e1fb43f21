"""Errors of evacuation support: exits, occupancies or hazards it cannot work with."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class EvacuationError(SmartspacesError, ValueError):
    """Input evacuation support cannot use; the message says what to fix."""
