"""Settings of the MQTT adapter; the section lives in config.py with the others."""

from smartspaces.config import MqttSettings as MqttSettings
