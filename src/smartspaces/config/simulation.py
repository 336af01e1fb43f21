"""Settings section: pedestrian simulation (JuPedSim) for what-if and evacuation support."""

from __future__ import annotations

from smartspaces.config.infrastructure import _Section


class SimulationSettings(_Section):
    """Pedestrian simulation (JuPedSim) for what-if and evacuation support."""
