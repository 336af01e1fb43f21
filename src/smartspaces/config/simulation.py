"""Settings section: pedestrian simulation (JuPedSim) for what-if and evacuation support."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from smartspaces.config.infrastructure import _Section

GREEN_GUIDE_FLOW_P_M_S = 82.0 / 60.0
"""The Green Guide's (Guide to Safety at Sports Grounds, 6th edition, 2018) exit flow on level
routes: 82 persons per metre of width per minute, about 1.37 persons per metre per second. The
SFPE Handbook's maximum specific flow (1.3 persons/s per metre of effective width) is close."""


class SimulationSettings(_Section):
    """Pedestrian simulation (JuPedSim) for what-if and evacuation support."""

    dt_s: float = Field(
        default=0.05,
        gt=0,
        le=0.1,
        description="Simulation time step; at 0.2 s dense crowds get pushed through walls",
    )
    desired_speed_m_s: float = Field(
        default=1.34, gt=0, le=3, description="Mean free walking speed (Weidmann: 1.34 m/s)"
    )
    speed_spread_m_s: float = Field(
        default=0.2, ge=0, le=1, description="Standard deviation of the free walking speed"
    )
    agent_radius_m: float = Field(default=0.2, gt=0, le=0.5, description="Body radius")
    exit_depth_m: float = Field(
        default=1.0, gt=0, le=10, description="Depth of an exit's strip inside the space"
    )
    max_simulated_s: float = Field(
        default=3600.0, gt=0, le=86_400, description="A run stops after this simulated time"
    )
    seed: int = Field(default=1, description="Seed of positions, speeds and arrivals")
    counter_interval_s: float = Field(
        default=10.0, gt=0, le=600, description="Interval of simulated counter observations"
    )
    exit_flow_p_m_s: float = Field(
        default=GREEN_GUIDE_FLOW_P_M_S,
        gt=0,
        le=5,
        description="Exit flow of the capacity estimate when no simulation exists "
        "(persons per metre of exit width per second; Green Guide: 82/min = 1.37/s)",
    )
    results_dir: Path | None = Field(
        default=None, description="Where egress results are kept; default DATA_DIR/simulation"
    )

    def results_path(self, data_dir: Path) -> Path:
        """The egress results file (JSON lines) for a store in ``data_dir``."""
        return (self.results_dir or data_dir / "simulation") / "egress.jsonl"
