"""Errors raised by the store."""

from smartspaces.errors import SmartspacesError


class StoreError(SmartspacesError):
    """The store could not do what was asked (unknown kind, unreachable database...)."""
