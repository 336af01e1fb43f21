"""Errors of crowd measurement: unusable trajectories, units, geometry or forecast input."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class CrowdMeasureError(SmartspacesError, ValueError):
    """Input the crowd measures cannot work with; the message says what to fix."""


class TrajectoryError(CrowdMeasureError):
    """Positions that are empty, not finite, duplicated or otherwise inconsistent."""


class UnitError(TrajectoryError):
    """Positions whose scale cannot be metres (e.g. centimetres read as metres)."""


class GeometryError(CrowdMeasureError):
    """A measurement area, line or walkable area that is empty, degenerate or invalid."""
