"""Settings sections of the platform's infrastructure: store, buses, API, edge adapters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smartspaces"


class _Section(BaseModel):
    # A misspelt setting is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Section):
    """Where events, spaces, dead letters and the audit trail are kept."""

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Folder for embedded files"
    )
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in data_dir "
        "(PostgreSQL: postgresql+psycopg://user@host/db)",
    )

    def database_url(self) -> str:
        return self.url or f"sqlite:///{self.data_dir / 'smartspaces.sqlite3'}"


_NAME = r"^[A-Za-z0-9_\-]{1,32}$"  # a NATS stream name part
_PREFIX = r"^([A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*)?$"  # dot-separated subject tokens


class NatsSettings(BaseModel):
    """The NATS JetStream bus: which servers, and how its streams and consumers are made."""

    model_config = ConfigDict(extra="forbid")

    servers: list[str] = Field(
        default=["nats://127.0.0.1:4222"], min_length=1, description="Cluster URLs, any subset"
    )
    stream_prefix: str = Field(
        default="SS", pattern=_NAME, description="Streams are named <prefix>_<KIND>"
    )
    subject_prefix: str = Field(
        default="", pattern=_PREFIX, description="Before ss.<kind>.<space>: share a cluster"
    )
    replicas: int = Field(default=1, ge=1, le=5, description="Copies of each stream (3: cluster)")
    ack_wait_s: float = Field(default=30.0, gt=0, description="Redeliver if not acked by then")
    duplicate_window_s: float = Field(default=120.0, gt=0, description="Dedup ids kept this long")
    max_age_s: float = Field(default=0.0, ge=0, description="Drop older messages; 0 keeps all")
    connect_timeout_s: float = Field(default=2.0, gt=0, description="Per server, at start-up")
    request_timeout_s: float = Field(default=5.0, gt=0, description="Wait for one server answer")
    publish_retry_s: float = Field(default=15.0, ge=0, description="Retry lost publishes this long")


_TOPIC_PREFIX = r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$"  # Kafka topic characters, dot-separated


class KafkaSettings(_Section):
    """The Kafka bus: which brokers, how topics are named and made, how producers wait."""

    bootstrap_servers: list[str] = Field(
        default=["127.0.0.1:9092"], min_length=1, description="host:port of brokers, any subset"
    )
    topic_prefix: str = Field(
        default="ss", pattern=_TOPIC_PREFIX, max_length=200,
        description="Topics are <prefix>.<kind>, plus <prefix>.dead_letter and .consumers",
    )  # fmt: skip
    client_id: str = Field(
        default="smartspaces", pattern=r"^[A-Za-z0-9._\-]{1,64}$",
        description="Names this process in the brokers' logs and quotas",
    )  # fmt: skip
    group_prefix: str = Field(
        default="ss-", pattern=r"^[A-Za-z0-9._\-]{0,64}$",
        description="A durable consumer is the consumer group <prefix><durable>",
    )  # fmt: skip
    partitions: int = Field(
        default=12, ge=1, le=4096, description="Partitions of each topic the bus creates"
    )
    replication_factor: int = Field(
        default=1, ge=1, le=5, description="Copies of each topic the bus creates (3: cluster)"
    )
    acks: Literal["all", "1"] = Field(
        default="all", description="all: every in-sync replica has a message; 1: the leader"
    )
    linger_s: float = Field(
        default=0.005, ge=0, le=1, description="Wait this long to fill a batch before sending"
    )
    max_message_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest event on the wire (producer and topics)"
    )
    ack_wait_s: float = Field(default=30.0, gt=0, description="Redeliver if not acked by then")
    session_timeout_s: float = Field(
        default=10.0, gt=0, description="A consumer silent this long leaves its group"
    )
    fetch_wait_s: float = Field(
        default=0.1, gt=0, le=5, description="Longest a broker may hold a fetch with nothing new"
    )
    dedup_window: int = Field(
        default=10_000, ge=0,
        description="Per kind: the ids of its last this many messages are checked on publish",
    )  # fmt: skip
    request_timeout_s: float = Field(
        default=30.0, gt=0, description="Wait for one broker answer (a send is retried within)"
    )
    publish_retry_s: float = Field(
        default=15.0, ge=0, description="Retry failed publishes this long"
    )


class BusSettings(_Section):
    """The event bus: the embedded journalled one unless a distributed engine is chosen."""

    backend: Literal["memory", "nats", "kafka"] = Field(
        default="memory", description="Bus engine: the embedded one, NATS JetStream or Kafka"
    )
    journal_path: Path | None = Field(
        default=None, description="SQLite journal of the embedded bus; default data_dir/bus.sqlite3"
    )
    ack_wait_s: float = Field(default=30.0, gt=0, description="Redeliver if not acked by then")
    dedup_window: int = Field(default=100_000, ge=0, description="Recent ids kept to drop dupes")


class ApiSettings(_Section):
    """The HTTP API and the Common Operational Picture it serves."""

    host: str = Field(default="127.0.0.1", description="Interface to listen on")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port")
    max_body_bytes: int = Field(default=1_048_576, gt=0, description="Largest request body")
    max_batch_items: int = Field(default=10_000, gt=0, description="Most observations per batch")
    max_future_skew_s: float = Field(
        default=300.0, ge=0, description="How far ahead of our clock a timestamp may be"
    )
    max_age_s: float = Field(
        default=7 * 86_400.0, gt=0, description="How old an observation may be when it arrives"
    )


def shared_data_dir(configured: Path | None = None) -> Path:
    """The folder of real public data: SMARTSPACES_DATA, else the configured one, else
    ../shared/data beside the project."""
    env = os.environ.get("SMARTSPACES_DATA")
    if env:
        return Path(env)
    return configured or Path("..") / "shared" / "data"


class EdgeSettings(_Section):
    """Ingestion: who may send, how big, against which schemas."""

    require_device_token: bool = Field(
        default=True, description="Refuse observations without a registered device's token"
    )
    max_message_bytes: int = Field(
        default=262_144, gt=0, description="Largest single message (NGSI-LD entity, MQTT payload)"
    )
    rate_limit_per_s: float = Field(
        default=5_000.0, gt=0, description="Observations per second one device may send, sustained"
    )
    rate_burst: float = Field(
        default=20_000.0, ge=1, description="Observations one device may send at once"
    )
    health_silence_factor: float = Field(
        default=3.0, gt=1, description="Silent for this many expected intervals: report it"
    )
    health_max_skew_s: float = Field(
        default=30.0, gt=0, description="Device clock this far from ours: report it"
    )
    smart_data_models_dir: Path | None = Field(
        default=None,
        description="Official Smart Data Models schemas; default <shared data>/smart-data-models",
    )

    def schema_dir(self) -> Path:
        return self.smart_data_models_dir or shared_data_dir() / "smart-data-models"


class MqttSettings(BaseModel):
    """Where the MQTT adapter connects, what it subscribes to and what it accepts."""

    # A misspelt setting is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", title="Host", description="Broker host name or IP")
    port: int = Field(
        default=11883,
        ge=1,
        le=65535,
        title="Port",
        description="Broker TCP port; 11883 is the embedded broker's (a system Mosquitto may "
        "hold 1883)",
    )
    topic: str = Field(
        default="ss/observations/#",
        pattern=r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*/#$",
        title="Topic filter",
        description="Subscription; devices publish to <prefix>/<space_id>/<device_id>",
    )
    qos: Literal[0, 1, 2] = Field(
        default=1,
        title="QoS",
        description="1 or 2: a message is acknowledged only once it is durable downstream",
    )
    max_payload_bytes: int = Field(
        default=262_144, gt=0, title="Largest payload", description="Bigger ones are rejected"
    )
    enabled: bool = Field(
        default=True, title="Enabled", description="Run the MQTT adapter with the API/demo"
    )
    embedded: bool = Field(
        default=True,
        title="Embedded broker",
        description="Run an amqtt broker inside the process on host:port (for the demo)",
    )
    client_id: str = Field(
        default="smartspaces-edge",
        pattern=r"^[A-Za-z0-9_\-]{1,23}$",
        title="Client id",
        description="Fixed, so the broker keeps our session and queues messages while we are away",
    )
    reconnect_min_s: float = Field(
        default=0.2, gt=0, title="First retry", description="Wait before the first reconnect"
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0, title="Longest retry", description="Cap of the doubling backoff"
    )
    max_batch: int = Field(
        default=1000,
        gt=0,
        le=100_000,
        title="Batch size",
        description="Most messages handed to the sink at once (then acknowledged together)",
    )

    require_registered: bool = Field(
        default=True,
        title="Registered devices only",
        description="Accept a reading only from a registered, active device serving its space "
        "and measuring its quantity, published on its own topic or by its gateway",
    )
    registry_cache_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        title="Registry cache",
        description="How long a device's registration is believed before it is looked up again",
    )
    pace: bool = Field(
        default=False,
        title="Pace slow streams",
        description="While the edge buffer's backlog grows, keep only the share of low and "
        "normal readings its rate factor allows (alarms always pass); the rest is counted and "
        "dropped. Off by default: devices are only advised to slow down, nothing valid is lost",
    )
    advice_topic: str = Field(
        default="ss/control/rate",
        pattern=r"^([A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*)?$",
        title="Rate advice topic",
        description="Retained {priority, rate_factor, interval_factor} messages under "
        "<topic>/<priority> tell devices to slow down; empty: none",
    )

    @model_validator(mode="after")
    def _ordered(self) -> MqttSettings:
        if self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("reconnect_min_s must not exceed reconnect_max_s")
        return self

    def topic_prefix(self) -> str:
        """The topic filter without its final ``/#``: ``ss/observations``."""
        return self.topic.removesuffix("/#")


class BufferSettings(BaseModel):
    """The store-and-forward buffer of an edge node."""

    model_config = ConfigDict(extra="forbid")

    max_bytes: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        title="Bound",
        description="Most bytes of buffered observations (alarms may exceed it)",
    )
    batch: int = Field(
        default=1000, gt=0, title="Forward batch", description="Observations per forward"
    )
    retry_min_s: float = Field(
        default=0.2, gt=0, title="First retry", description="Wait after a failed forward"
    )
    retry_max_s: float = Field(
        default=5.0, gt=0, title="Longest retry", description="Cap of the doubling wait"
    )
    timeout_s: float = Field(
        default=10.0,
        gt=0,
        title="Downstream timeout",
        description="A downstream call taking longer counts as failed (the batch is buffered)",
    )
    dedup_window: int = Field(
        default=100_000,
        ge=0,
        title="Dedup window",
        description="Recent ids remembered so a message the broker sends again is not forwarded "
        "twice",
    )
