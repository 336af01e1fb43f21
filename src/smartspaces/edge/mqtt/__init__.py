"""MQTT ingest: an aiomqtt adapter over pure topic/payload parsing, and an embedded broker.

Import the parts from their modules (``adapter``, ``broker``, ``parsing``): this package only
re-exports its settings, so that ``config`` can import them without importing aiomqtt.
"""

from smartspaces.edge.mqtt.settings import MqttSettings

__all__ = ["MqttSettings"]
