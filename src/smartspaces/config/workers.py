"""Settings of the distributed workers (``smartspaces worker --stage ...``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class WorkerSettings(BaseModel):
    """How workers share smart spaces and take over from one that died.

    A space lapses ``lease_s`` after its worker last renewed it; another worker claims it at its
    next look (every ``renew_s``). So a dead worker's spaces resume within ``lease_s + renew_s``
    for new messages; the messages it held unacknowledged come again after the bus's ack wait
    (set ``nats.ack_wait_s`` near ``lease_s`` in a distributed deployment).
    """

    model_config = ConfigDict(extra="forbid")

    lease_s: float = Field(
        default=4.0, ge=0.5, le=300, description="A silent worker's spaces lapse"
    )
    renew_s: float = Field(default=1.0, gt=0, le=60, description="Renew, claim and rebalance")
    recent_seqs: int = Field(
        default=4096, ge=64, le=1_000_000,
        description="Bus seqs per space kept in the checkpoint, to skip a redelivered message",
    )  # fmt: skip

    @model_validator(mode="after")
    def _renew_well_before_lapse(self) -> WorkerSettings:
        if self.renew_s * 2 > self.lease_s:
            raise ValueError("renew_s must be at most half of lease_s (or leases lapse in use)")
        return self
