"""The HTTP API: REST, WebSocket stream and the Common Operational Picture page."""

from smartspaces.api.app import create_app

__all__ = ["create_app"]
