"""Settings section: where alerts are delivered (webhooks, an MQTT topic, TAK servers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from smartspaces.config.infrastructure import _Section

DeliveryLevel = Literal["amber", "red", "critical"]


class WebhookTarget(_Section):
    """A partner system that receives alerts as signed HTTP POSTs."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$", description="Short name in logs")
    url: str = Field(pattern=r"^https?://[^\s]{1,2000}$", description="Where to POST")
    secret: SecretStr = Field(min_length=16, description="HMAC-SHA256 key shared with it")
    format: Literal["cap", "json", "ngsi-ld"] = Field(
        default="cap", description="Body: CAP 1.2 XML, our Alert JSON or an NGSI-LD Alert"
    )
    audience: Literal["public", "agencies", "operators"] = Field(
        default="agencies", description="CAP scope of what it receives"
    )
    min_level: DeliveryLevel = Field(default="amber", description="Alerts below are not sent")


class TakTarget(_Section):
    """A TAK server or client (ATAK, WinTAK) that receives Cursor-on-Target events."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535, description="8087 is TAK's plain TCP CoT port")
    protocol: Literal["tcp", "udp"] = "tcp"
    min_level: DeliveryLevel = "amber"


class DeliverySettings(_Section):
    """How hard to try and where to send; nothing is sent unless a target is configured."""

    webhooks: tuple[WebhookTarget, ...] = ()
    tak: tuple[TakTarget, ...] = ()
    mqtt_topic: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$",
        description="Publish every alert (JSON) to <topic>/<space_id> on the MQTT broker of "
        "the mqtt section; None: no MQTT delivery",
    )
    max_attempts: int = Field(default=5, ge=1, le=20, description="Then it is dead-lettered")
    first_backoff_s: float = Field(default=0.5, gt=0, le=60)
    max_backoff_s: float = Field(default=30.0, gt=0, le=3600)
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="Per attempt")
    cot_stale_after_s: float = Field(
        default=3600.0, gt=0, le=86_400, description="A TAK marker fades this long after"
    )
