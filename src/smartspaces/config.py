"""One settings object for the whole platform, built once in the composition root.

Values come from, highest priority first: arguments, environment variables
``SMARTSPACES__SECTION__FIELD`` (e.g. ``SMARTSPACES__CROWD__RED_P_M2=3.5``), a TOML file (given
with ``--config`` or ``SMARTSPACES_CONFIG``; sections as tables), then the defaults below. Each
component is handed its own section only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


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


class BusSettings(_Section):
    """The event bus: the embedded journalled one unless a distributed engine is chosen."""

    backend: Literal["memory", "nats"] = Field(
        default="memory", description="Bus engine: the embedded one, or NATS JetStream"
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


class CrowdSettings(_Section):
    """The alert ladder on crowd density (persons per square metre)."""

    amber_p_m2: float = Field(default=2.0, gt=0, description="Amber at or above this density")
    red_p_m2: float = Field(default=4.0, gt=0, description="Red at or above this density")
    critical_p_m2: float = Field(default=5.0, gt=0, description="Critical at or above this")
    rise_amber_p_m2_min: float = Field(
        default=0.5, gt=0, description="Amber when density rises faster (persons/m2 per minute)"
    )
    rise_window_s: float = Field(default=120.0, gt=0, description="Readings the rise uses")
    rise_min_density_p_m2: float = Field(
        default=1.0, ge=0, description="No rise alarm below this density"
    )

    @model_validator(mode="after")
    def _ordered(self) -> CrowdSettings:
        if not self.amber_p_m2 < self.red_p_m2 < self.critical_p_m2:
            raise ValueError("crowd thresholds must rise: amber < red < critical")
        return self


class ScenarioSettings(_Section):
    """The scripted demo."""

    name: Literal["valencia"] = Field(default="valencia", description="Which scenario to play")
    step_s: float = Field(default=10.0, gt=0, le=600, description="Counter reporting interval")
    seed: int = Field(default=7, description="Seed of the scenario's random arrivals")
    data_dir: Path | None = Field(
        default=None,
        description="Shared real data folder (SMARTSPACES_DATA overrides); default ../shared/data",
    )

    def shared_data_dir(self) -> Path:
        return shared_data_dir(self.data_dir)


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


class ForecastSettings(BaseModel):
    """Density forecasting and the early warning it raises (one section of the settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    red_p_m2: float = Field(default=4.0, gt=0, description="Density the warning is about")
    window_s: float = Field(default=300.0, gt=0, description="Recent readings the trend uses")
    min_span_s: float = Field(default=60.0, ge=0, description="Least history before forecasting")
    min_readings: int = Field(default=5, ge=3, description="Least readings before forecasting")
    horizon_s: float = Field(default=600.0, gt=0, description="Warn if red is expected sooner")
    min_rising_share: float = Field(
        default=0.8, gt=0.5, le=1, description="Share of pairwise slopes that must be rising"
    )


class IntegritySettings(BaseModel):
    """Per-quantity physics and the patterns that betray a faulty or spoofed sensor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    limits: dict[str, tuple[float, float]] = Field(
        default={
            "noise_laeq_dba": (20.0, 140.0),
            "entries_count": (0.0, 100_000.0),
            "exits_count": (0.0, 100_000.0),
            "occupancy_persons": (0.0, 1_000_000.0),
        },
        description="Physically possible (low, high) per quantity; others are not judged",
    )
    max_step: dict[str, float] = Field(
        default={"noise_laeq_dba": 30.0},
        description="Largest believable change between consecutive readings, per quantity",
    )
    stuck_repeats: int = Field(default=6, ge=2, description="Identical readings in a row")
    replay_length: int = Field(default=7, ge=3, description="Readings in a replayed sequence")
    flap_reversals: int = Field(default=4, ge=2, description="Direction changes in a row")
    flap_min_step_fraction: float = Field(
        default=0.1, gt=0, le=1, description="A flap moves at least this share of the limits"
    )
    silence_factor: float = Field(
        default=3.0, gt=1, description="Silent after this many usual intervals without a reading"
    )
    max_series: int = Field(default=100_000, ge=1, description="Series tracked at most")


class CyberSettings(BaseModel):
    """Thresholds and windows of the network and telemetry-integrity detectors."""

    # A misspelt setting is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_s: float = Field(default=60.0, gt=0, le=86_400, description="Scan/flood window")
    horizontal_min_targets: int = Field(
        default=6, ge=2, description="Unanswered hosts on one port that make a horizontal scan"
    )
    vertical_min_ports: int = Field(
        default=10, ge=2, description="Unanswered ports on one host that make a vertical scan"
    )
    icmp_sweep_min_targets: int = Field(
        default=10, ge=2, description="Hosts pinged by one source that make an ICMP sweep"
    )
    bruteforce_window_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Password-guessing window"
    )
    bruteforce_min_attempts: int = Field(
        default=10, ge=2, description="Short logins to one service that make password guessing"
    )
    bruteforce_max_duration_s: float = Field(
        default=30.0, gt=0, description="A login attempt lasts at most this long"
    )
    bruteforce_max_bytes: int = Field(
        default=20_000, gt=0, description="A login attempt carries at most this many bytes"
    )
    flood_min_packets: int = Field(
        default=50_000, ge=1, description="Packets to one host in a window that make a flood"
    )
    flood_min_flows: int = Field(
        default=5_000, ge=1, description="Connections to one host in a window that make a flood"
    )
    beacon_min_events: int = Field(
        default=8, ge=4, description="Connections needed before judging periodicity"
    )
    beacon_max_jitter: float = Field(
        default=0.1, gt=0, le=1, description="Largest interval spread (MAD/median) of a beacon"
    )
    beacon_min_interval_s: float = Field(
        default=5.0, gt=0, description="Shorter intervals are bursts, not beacons"
    )
    red_factor: float = Field(
        default=5.0, gt=1, description="A detection turns red at this multiple of its threshold"
    )
    max_tracked_keys: int = Field(
        default=200_000, ge=100, description="State kept per detector (oldest evicted first)"
    )
    max_line_bytes: int = Field(
        default=65_536, ge=1024, description="Longest conn.log/CSV line accepted"
    )
    max_packet_bytes: int = Field(
        default=262_144, ge=1500, description="Largest captured packet accepted in a pcap"
    )
    max_active_flows: int = Field(
        default=100_000, ge=100, description="Open flows kept while reading a pcap"
    )
    flow_idle_timeout_s: float = Field(
        default=60.0, gt=0, description="A pcap flow with no packet for this long is closed"
    )


CapStatus = Literal["Actual", "Exercise", "System", "Test", "Draft"]
Audience = Literal["public", "agencies", "operators"]
"""Who a CAP message is for: the public (scope Public), partner agencies (Restricted) or our own
operators (Private, to named addresses)."""


class AlertFormatSettings(BaseModel):
    """How alerts are written as CAP 1.2 and NGSI-LD, and how CAP from other agencies is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender: str = Field(
        default="smartspaces@valencia.example",
        pattern=r"^[^\s,<&]{1,200}$",
        description="CAP sender: globally unique id of this system (no spaces, commas, < or &)",
    )
    sender_name: str = Field(
        default="smartspaces · Ciutat Vella", max_length=200, description="CAP senderName"
    )
    status: CapStatus = Field(
        default="Actual", description="CAP status; Exercise for drills, Test for tests"
    )
    languages: tuple[str, ...] = Field(
        default=("es-ES", "ca-ES-valencia", "en"),
        min_length=1,
        description="One CAP info block per language, in this order (BCP 47 tags)",
    )
    expires_after_s: float = Field(
        default=3600.0, gt=0, le=7 * 86_400, description="CAP expires: this long after sent"
    )
    area_shapes: Literal["polygon", "circle", "both"] = Field(
        default="polygon", description="How a space is drawn in the CAP area"
    )
    restriction: str = Field(
        default="Emergency services and city operators only; do not redistribute.",
        max_length=500,
        description="CAP restriction text of messages for partner agencies (scope Restricted)",
    )
    operator_addresses: tuple[str, ...] = Field(
        default=("smartspaces-operators",),
        min_length=1,
        description="CAP addresses of messages for our own operators (scope Private)",
    )
    web: str | None = Field(default=None, description="CAP web: a page with more information")
    cap_schema_dir: Path | None = Field(
        default=None,
        description="Folder holding cap10.xsd, cap11.xsd and cap12.xsd; "
        "default <shared data>/cap/schema",
    )
    cap_max_bytes: int = Field(
        default=262_144, gt=0, le=8_388_608, description="Largest CAP message accepted"
    )

    def schema_dir(self) -> Path:
        return self.cap_schema_dir or shared_data_dir() / "cap" / "schema"


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


class AlertPolicySettings(BaseModel):
    """When the alert policy holds an alert back (flapping) and when it escalates one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    suppress_after_cancel_s: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="After a Cancel, no new Alert for the same space at the same or a lower level "
        "for this long (stops flapping); a level still standing when it ends is alerted then. "
        "0 turns suppression off",
    )
    escalate_after_s: float = Field(
        default=180.0,
        gt=0,
        le=86_400,
        description="An alert nobody has acknowledged (no incident of it got past new) for this "
        "long is sent again as an Update with a higher urgency",
    )
    max_escalations: int = Field(
        default=2, ge=0, le=10, description="How many times one alert is escalated at most"
    )


class BaselineSettings(BaseModel):
    """Hour-of-week count baselines: what counts as an unusual number of people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field(default="Europe/Madrid", description="Local time the week runs in")
    band_mads: float = Field(default=5.0, gt=0, description="Band half-width, robust sigmas")
    min_spread: float = Field(
        default=0.25, ge=0, description="Least robust sigma on log(1 + count) (0.25: about 28%)"
    )
    min_excess_persons: float = Field(
        default=100.0, ge=0, description="Least distance outside the band that counts"
    )
    min_weeks: int = Field(default=8, ge=3, description="Past weeks an hour needs for a verdict")


class Settings(BaseSettings):
    """Every setting of the platform, one section per component."""

    model_config = SettingsConfigDict(
        env_prefix="SMARTSPACES__", env_nested_delimiter="__", extra="forbid"
    )

    environment: Literal["development", "production"] = "development"
    store: StoreSettings = Field(default_factory=StoreSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    edge_buffer: BufferSettings = Field(default_factory=BufferSettings)
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)
    baseline: BaselineSettings = Field(default_factory=BaselineSettings)
    cyber: CyberSettings = Field(default_factory=CyberSettings)
    integrity: IntegritySettings = Field(default_factory=IntegritySettings)
    alerts: AlertFormatSettings = Field(default_factory=AlertFormatSettings)
    alert_policy: AlertPolicySettings = Field(default_factory=AlertPolicySettings)
    crowd: CrowdSettings = Field(default_factory=CrowdSettings)
    scenario: ScenarioSettings = Field(default_factory=ScenarioSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def journal_path(self) -> Path:
        return self.bus.journal_path or self.store.data_dir / "bus.sqlite3"


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Build the settings once: arguments > environment > TOML file > defaults."""
    path = config_file or (
        Path(os.environ["SMARTSPACES_CONFIG"]) if os.environ.get("SMARTSPACES_CONFIG") else None
    )
    if path is None:
        return Settings(**overrides)  # type: ignore[arg-type]
    if not path.is_file():
        from smartspaces.errors import ConfigError

        raise ConfigError(f"settings file not found: {path}")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    return _FromFile(**overrides)  # type: ignore[arg-type]
