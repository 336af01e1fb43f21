"""Errors of the video stage: sources that will not open, frames we refuse, bad calibrations."""

from __future__ import annotations

from smartspaces.errors import SmartspacesError


class VideoError(SmartspacesError):
    """Base of every error the video package raises on purpose; the message says what to fix."""


class VideoSourceError(VideoError):
    """A file or stream that cannot be opened, decodes to nothing, or was lost for good."""


class FrameError(VideoError, ValueError):
    """A frame we refuse to analyse: empty, absurdly small or large, or of the wrong layout."""


class CalibrationError(VideoError, ValueError):
    """Image-to-ground point pairs that do not define a usable homography."""


class DetectorError(VideoError):
    """A person detector that cannot be built (missing model file, unusable model)."""
