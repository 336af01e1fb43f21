"""Errors of the Valencia scenario: unusable or unsafe map data."""

from __future__ import annotations

from smartspaces.errors import RejectedInput, SmartspacesError


class ScenarioDataError(SmartspacesError):
    """The map data lacks what the scenario needs (a feature, a node, a readable file)."""


class UnsafeXml(RejectedInput):
    """An XML document was refused before parsing (a DTD, entities, too large, not UTF-8)."""
