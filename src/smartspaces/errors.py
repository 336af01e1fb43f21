"""The root of every error smartspaces raises on purpose; packages subclass it."""


class SmartspacesError(Exception):
    """Base class: catch this to catch every error the platform raises deliberately."""


class ConfigError(SmartspacesError):
    """The settings are invalid or unsafe for the chosen environment."""


class RejectedInput(SmartspacesError):
    """Input that cannot be accepted; ``reason`` says why in words a sender can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
