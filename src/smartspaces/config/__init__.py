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

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from smartspaces.config.delivery import DeliverySettings, TakTarget, WebhookTarget
from smartspaces.config.fusion import FusionSettings
from smartspaces.config.infrastructure import (
    ApiSettings,
    BufferSettings,
    BusSettings,
    EdgeSettings,
    KafkaSettings,
    MqttSettings,
    NatsSettings,
    StoreSettings,
    shared_data_dir,
)
from smartspaces.config.retention import RetentionSettings
from smartspaces.config.risk import RiskSettings
from smartspaces.config.security import SecuritySettings
from smartspaces.config.simulation import SimulationSettings
from smartspaces.config.stages import (
    AlertFormatSettings,
    AlertPolicySettings,
    Audience,
    BaselineSettings,
    CapStatus,
    CrowdSettings,
    CyberSettings,
    ForecastSettings,
    IntegritySettings,
    ScenarioSettings,
)
from smartspaces.config.video import VideoSettings
from smartspaces.config.workers import WorkerSettings

__all__ = [
    "AlertFormatSettings",
    "AlertPolicySettings",
    "ApiSettings",
    "Audience",
    "BaselineSettings",
    "BufferSettings",
    "BusSettings",
    "CapStatus",
    "CrowdSettings",
    "CyberSettings",
    "DeliverySettings",
    "EdgeSettings",
    "ForecastSettings",
    "FusionSettings",
    "IntegritySettings",
    "KafkaSettings",
    "MqttSettings",
    "NatsSettings",
    "RetentionSettings",
    "RiskSettings",
    "ScenarioSettings",
    "SecuritySettings",
    "Settings",
    "SimulationSettings",
    "StoreSettings",
    "VideoSettings",
    "TakTarget",
    "WebhookTarget",
    "WorkerSettings",
    "load_settings",
    "shared_data_dir",
]


class Settings(BaseSettings):
    """Every setting of the platform, one section per component."""

    model_config = SettingsConfigDict(
        env_prefix="SMARTSPACES__", env_nested_delimiter="__", extra="forbid"
    )

    environment: Literal["development", "production"] = "development"
    store: StoreSettings = Field(default_factory=StoreSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
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
    fusion: FusionSettings = Field(default_factory=FusionSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)

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
