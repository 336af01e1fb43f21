"""Settings section: how long each kind of data is kept (data minimisation).

The defaults keep as little as the work needs; docs/privacy.md gives the reason for each one.
Raise a period only with a documented purpose (a DPIA update), never "just in case".
"""

from __future__ import annotations

from pydantic import Field, model_validator

from smartspaces.config.infrastructure import _Section

_MAX_DAYS = 3650
MAX_PARTITIONS = 5000
"""At most this many observation partitions live at once (PostgreSQL plans more slowly beyond)."""


def _days(default: int, what: str) -> int:
    return Field(default=default, ge=1, le=_MAX_DAYS, description=f"Days {what} are kept")


class RetentionSettings(_Section):
    """How long each kind of data is kept (data minimisation), and how it is deleted."""

    enabled: bool = Field(default=True, description="Delete expired data on a timer")
    observations_days: int = _days(7, "raw observations (counts, flow records, readings)")
    detections_days: int = _days(30, "detections")
    situations_days: int = _days(30, "fused situations")
    risk_levels_days: int = _days(30, "risk levels")
    alerts_days: int = _days(365, "alerts and the record of their delivery")
    incidents_days: int = _days(365, "incidents, their state changes and closed cases")
    dead_letters_days: int = _days(30, "refused inputs (dead letters)")
    audit_days: int = _days(730, "audit records (longest of all)")
    batch_rows: int = Field(
        default=5000, ge=1, le=100_000, description="Rows deleted per transaction"
    )
    max_batches: int = Field(
        default=100, ge=1, le=10_000, description="Batches per kind per run; the rest next run"
    )
    interval_s: float = Field(
        default=3600.0, ge=60, le=86_400, description="Seconds between two runs of the timer"
    )
    observations_partition_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 31,
        description=(
            "Hours of observations per partition on PostgreSQL: expired observations go a whole "
            "partition at a time, so they are kept at most this much longer than their period"
        ),
    )
    observations_partitions_ahead: int = Field(
        default=3,
        ge=1,
        le=366,
        description="Partitions made ready ahead of the clock (later readings wait in the "
        "default partition until the clock comes near)",
    )
    observations_drop_partitions: bool = Field(
        default=True,
        description="On PostgreSQL, drop whole expired partitions of observations; false "
        "deletes their rows in batches instead, to the second (slower)",
    )

    @model_validator(mode="after")
    def _audit_outlives_what_it_records(self) -> RetentionSettings:
        # An audit record must be there as long as the data whose reading or change it records.
        longest = max(
            self.observations_days,
            self.detections_days,
            self.situations_days,
            self.risk_levels_days,
            self.alerts_days,
            self.incidents_days,
            self.dead_letters_days,
        )
        if self.audit_days < longest:
            raise ValueError(
                f"audit_days ({self.audit_days}) must be at least the longest other period "
                f"({longest} days): the audit trail outlives what it records"
            )
        return self

    @model_validator(mode="after")
    def _partitions_stay_few_and_narrow(self) -> RetentionSettings:
        # A partition wider than the period would keep data past twice its period; thousands of
        # partitions slow every query's planning down.
        hours = self.observations_partition_hours
        if hours > self.observations_days * 24:
            raise ValueError(
                f"observations_partition_hours ({hours}) must be at most observations_days in "
                f"hours ({self.observations_days * 24}): data would outlive its period too long"
            )
        live = -(-self.observations_days * 24 // hours) + self.observations_partitions_ahead
        if live > MAX_PARTITIONS:
            raise ValueError(
                f"{live} live observation partitions (observations_days in hours over "
                f"observations_partition_hours, plus those ahead): at most {MAX_PARTITIONS}"
            )
        return self
