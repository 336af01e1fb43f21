"""Errors of the cyber package: bad network captures and logs, bad asset maps."""

from __future__ import annotations

from smartspaces.errors import RejectedInput, SmartspacesError


class CyberError(SmartspacesError):
    """Base class of the errors this package raises on purpose."""


class FlowInputError(RejectedInput, CyberError):
    """A conn.log, flow CSV or pcap that cannot be read; ``reason`` says where and why."""


class AssetMapError(CyberError):
    """The asset map file is missing, malformed or inconsistent."""
