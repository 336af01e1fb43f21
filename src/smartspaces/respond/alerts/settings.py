"""Settings of the alert formats and of the alert policy; the sections live in config.py."""

from smartspaces.config import AlertFormatSettings as AlertFormatSettings
from smartspaces.config import AlertPolicySettings as AlertPolicySettings
from smartspaces.config import Audience as Audience
from smartspaces.config import CapStatus as CapStatus
