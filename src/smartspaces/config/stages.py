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
    trend_sample_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="The rate of rise and the forecast read a space's occupancy at most once "
        "per this many seconds",
    )
    reconcile_time_constant_s: float = Field(
        default=0.0,
        ge=0,
        le=86_400,
        description="How fast an absolute count (camera zone, manual count) corrects the "
        "counter balance of a counted space: 0 replaces the balance at once",
    )
    drift_learning_rate: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="How much each reconciliation updates the learnt counter bias (persons "
        "per counted crossing) that corrects the balance between counts; 0 learns nothing",
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
    stuck_min_count: float = Field(
        default=10.0,
        ge=0,
        description="Counts (``*_count``) below this may repeat by chance: not judged stuck",
    )
    replay_length: int = Field(default=7, ge=3, description="Readings in a replayed sequence")
    replay_min_distinct: int = Field(
        default=5,
        ge=2,
        description="Distinct values a replayed sequence must hold (fewer repeat by chance)",
    )
    flap_reversals: int = Field(default=4, ge=2, description="Direction changes in a row")
    flap_min_step_fraction: float = Field(
        default=0.1, gt=0, le=1, description="A flap moves at least this share of the limits"
    )
    silence_factor: float = Field(
        default=3.0, gt=1, description="Silent after this many usual intervals without a reading"
    )
    max_series: int = Field(default=100_000, ge=1, description="Series tracked at most")
    correlated_sensors: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="Pairs of 'sensor_id/quantity' that see the same crowd, e.g. a people "
        "counter's occupancy and the camera zone count of the same space: each reading is "
        "checked against its partner's (a sensor may be paired with several neighbours)",
    )
    consistency_factor: float = Field(
        default=4.0,
        gt=1,
        description="Paired readings this many times apart (after their usual ratio) are "
        "inconsistent; red at the square of it",
    )
    consistency_floor: float = Field(
        default=10.0,
        gt=0,
        description="Added to both sides, in the second sensor's unit, before comparing: "
        "counts this small are noise, so near-empty against near-empty always agrees",
    )
    consistency_max_skew_s: float = Field(
        default=120.0, ge=0, le=86_400, description="Paired readings further apart in time "
        "are not compared",
    )  # fmt: skip
    consistency_window: int = Field(
        default=48, ge=4, le=10_000, description="Recent agreeing pairs whose median ratio is "
        "the expected one",
    )  # fmt: skip
    consistency_season: Literal["none", "hour_of_day", "hour_of_week"] = Field(
        default="none",
        description="Learn the pairs' ratio per slot of this rhythm: none for two views of "
        "the same place; hour_of_day or hour_of_week for neighbours whose crowds peak apart",
    )
    consistency_warmup: int = Field(
        default=12, ge=2, description="Pairs learnt before a pair is judged"
    )
    consistency_min_readings: int = Field(
        default=2, ge=1, description="Inconsistent comparisons in a row before reporting"
    )
    baseline_quantities: dict[str, Literal["none", "hour_of_day", "hour_of_week"]] = Field(
        default={
            "entries_count": "hour_of_week",
            "exits_count": "hour_of_week",
            "occupancy_persons": "hour_of_week",
            "noise_laeq_dba": "hour_of_week",
        },
        description="Quantities whose per-device baseline is learnt online, and their rhythm "
        "(a daily reading's hour_of_week is its day of the week); others are not judged",
    )
    baseline_window: int = Field(
        default=12, ge=4, le=1_000, description="Past readings per rhythm slot the band uses"
    )
    baseline_min_readings: int = Field(
        default=6, ge=3, description="Past readings a slot needs before it gives a verdict"
    )
    baseline_min_interval_s: float = Field(
        default=900.0, ge=0, le=86_400 * 7,
        description="Live stage: only readings over at least this interval (hourly, daily "
        "aggregates) are judged against a baseline; a 10 s count has no hour-of-week rhythm",
    )  # fmt: skip
    baseline_band_sigmas: float = Field(
        default=5.0, gt=0, description="Band half-width in robust sigmas (IQR / 1.349)"
    )
    baseline_min_spread: float = Field(
        default=0.25,
        ge=0,
        description="Least robust sigma: on log(1 + value) for counts (quantities in _count or "
        "_persons; 0.25 is about 28%), in the quantity's unit otherwise",
    )
    baseline_min_excess: dict[str, float] = Field(
        default={"entries_count": 50.0, "exits_count": 50.0, "occupancy_persons": 50.0,
                 "noise_laeq_dba": 3.0},
        description="Least distance outside the band that counts, in the quantity's unit",
    )  # fmt: skip
    baseline_timezone: str = Field(
        default="Europe/Madrid", description="Local time the daily and weekly rhythm runs in"
    )
    seen_readings: int = Field(
        default=50_000, ge=1, le=10_000_000,
        description="Live stage: readings remembered (an LRU of id and content) so that the "
        "bus delivering one again is recognised and answered with the same detections",
    )  # fmt: skip
    restore_readings: int = Field(
        default=20_000, ge=0, le=10_000_000,
        description="Live stage: newest stored readings replayed into it after a restart (at "
        "most seen_readings), so readings the bus delivers again are known",
    )  # fmt: skip
    max_abs_value: float = Field(
        default=1e12, gt=0, le=1e300,
        description="Larger magnitudes (and NaN, infinities) are reported as invalid and not "
        "judged further: garbage or a unit mix-up, never a measurement",
    )  # fmt: skip
    max_future_s: float = Field(
        default=300.0, ge=0, le=7 * 86_400,
        description="A reading dated this far after it was received is reported and not "
        "judged: let in, it would make every honest reading after it look replayed",
    )  # fmt: skip
    skip_quantity_prefixes: tuple[str, ...] = Field(
        default=("device_",),
        description="Quantities the live stage ignores: the platform's own device-health "
        "readings (device_silence_s ...) are no sensor's telemetry",
    )

    @model_validator(mode="after")
    def _pairs_and_zone(self) -> IntegritySettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only settings loading needs it

        for pair in self.correlated_sensors:
            for name in pair:
                sensor, _, quantity = name.partition("/")
                if not sensor or not quantity or "/" in quantity:
                    raise ValueError(f"correlated sensor {name!r} is not 'sensor_id/quantity'")
            if pair[0] == pair[1]:
                raise ValueError(f"sensor {pair[0]!r} is paired with itself")
        try:
            ZoneInfo(self.baseline_timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.baseline_timezone!r}") from error
        return self


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
    arp_scan_min_targets: int = Field(
        default=30,
        ge=2,
        description="Addresses one sender asks for by ARP within the window that make an ARP "
        "scan (a gateway refreshing its busy LAN may ask for a few dozen: raise it there)",
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
