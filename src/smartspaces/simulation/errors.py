"""Errors of the pedestrian simulation: unusable geometry, unknown exits, impossible runs."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class SimulationError(SmartspacesError):
    """A simulation that cannot be set up or run as asked; the message says why."""


class UnknownExit(SimulationError):
    """An exit id the space does not have (the message lists the ones it has)."""
