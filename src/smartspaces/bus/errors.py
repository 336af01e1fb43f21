"""Errors of the event bus, all under one ``BusError`` root."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class BusError(SmartspacesError):
    """Something went wrong on the event bus; subclasses say what."""


class BusClosedError(BusError):
    """The bus was closed: nothing can be published or fetched any more."""


class InvalidSubjectError(BusError, ValueError):
    """A subject filter or durable name that the subject language does not allow."""


class ConsumerConflictError(BusError):
    """A durable name is already in use with different subject filters."""


class JournalError(BusError):
    """The bus journal cannot be opened, read or written; the message says which file and why."""
