"""Errors of incident handling and playbooks."""

from smartspaces.errors import SmartspacesError


class IncidentError(SmartspacesError):
    """An incident cannot do what was asked (an illegal transition, an unknown unit or measure)."""


class IllegalTransition(IncidentError):
    """A status change the lifecycle does not allow; the message lists what is allowed."""


class PlaybookError(SmartspacesError):
    """A playbook file is unreadable or invalid; the message says where and why."""
