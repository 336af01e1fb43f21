"""Settings section: fusion rules and the city model (infrastructure assets and dependencies)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from smartspaces.config.infrastructure import _Section


class FusionSettings(_Section):
    """Fusion rules and the city model (infrastructure assets and dependencies)."""

    rules_file: Path | None = Field(
        default=None,
        description="YAML rules file for situation assessment; None: the shipped rules "
        "(smartspaces/detect/fusion/rules/default.yaml)",
    )
    max_open_situations: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Open situations kept at once; past it the least recently updated one ends",
    )
    max_evidence: int = Field(
        default=64,
        ge=4,
        le=10_000,
        description="Recent events kept per rule condition and smart space (bounded windows)",
    )
    max_provenance_ids: int = Field(
        default=100,
        ge=4,
        le=10_000,
        description="Event ids a situation lists in derived_from: the first ones, then the latest",
    )
