"""Settings sections of the stages: crowd, cyber, alerts, and the demo scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smartspaces.config.infrastructure import _Section, shared_data_dir


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
