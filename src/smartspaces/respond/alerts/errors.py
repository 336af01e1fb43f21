"""Errors of the alert formats: CAP and NGSI-LD building and parsing."""

from smartspaces.errors import RejectedInput, SmartspacesError


class AlertFormatError(SmartspacesError):
    """An alert could not be rendered in an outside format (missing reference, unknown space)."""


class CapRejected(RejectedInput):
    """A CAP message from outside was refused; ``reason`` says why in words a sender can act on."""


class CapSchemaMissing(AlertFormatError):
    """The OASIS CAP schemas are not where the settings say they are."""
