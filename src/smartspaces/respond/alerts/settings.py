"""Settings of the alert formats; the section lives in config.py with the others."""

from smartspaces.config import AlertFormatSettings as AlertFormatSettings
from smartspaces.config import Audience as Audience
from smartspaces.config import CapStatus as CapStatus
