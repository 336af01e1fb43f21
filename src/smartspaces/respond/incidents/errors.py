"""Errors of incident handling and playbooks."""

from collections.abc import Iterable

from smartspaces.errors import SmartspacesError


class IncidentError(SmartspacesError):
    """An incident cannot do what was asked (a conflict with its current state)."""


class IllegalTransition(IncidentError):
    """A status change the lifecycle does not allow; ``allowed`` lists what is allowed."""

    def __init__(self, message: str, allowed: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.allowed = tuple(sorted(allowed))


class NotFound(IncidentError):
    """Something named in the request does not exist (an API answers 404)."""


class UnknownIncident(NotFound):
    """No incident has this id."""


class UnknownAlert(NotFound):
    """No stored alert has this id."""


class UnknownMeasure(NotFound):
    """The incident tracks no measure with this id."""


class UnknownUnit(NotFound):
    """The unit is not assigned to the incident."""


class PlaybookError(SmartspacesError):
    """A playbook file is unreadable or invalid; the message says where and why."""
