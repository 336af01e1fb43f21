"""Settings section: risk per smart space and per infrastructure asset, and the city model file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from smartspaces.config.infrastructure import _Section


class RiskSettings(_Section):
    """How detections, crowds and infrastructure combine into a space's risk (score, grade)."""

    city_model: Path | None = Field(
        default=None,
        title="City model file",
        description="Infrastructure assets and dependencies (YAML or GeoJSON); none: no "
        "infrastructure in the risk, no cascades",
    )
    half_life_s: float = Field(
        default=600.0,
        gt=0,
        title="Evidence half-life",
        description="An event-like detection or situation weighs half as much after this long "
        "(crowd measures and asset outages stand until replaced)",
    )
    evidence_ttl_s: float = Field(
        default=3600.0,
        gt=0,
        title="Evidence lifetime",
        description="Event-like evidence older than this no longer counts, for the level too",
    )
    full_exposure_p_m2: float = Field(
        default=5.0,
        gt=0,
        title="Density of full exposure",
        description="Crowd density (persons/m2) at which exposure is full (Fruin level F)",
    )
    unknown_exposure: float = Field(
        default=0.5,
        ge=0,
        le=1,
        title="Exposure before any crowd measure",
        description="Exposure assumed for a space whose crowd was never measured",
    )
    exposure_floor: float = Field(
        default=0.5,
        ge=0,
        le=1,
        title="Risk share of an empty space",
        description="Share of the likelihood an empty space still carries as risk",
    )
    vulnerability_floor: float = Field(
        default=0.8,
        ge=0,
        le=1,
        title="Risk share with all infrastructure up",
        description="Share of the risk a space carries when every asset serving it is up; the "
        "rest comes as they go degraded or down",
    )
    degraded_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        title="Weight of a degraded asset",
        description="How much a degraded asset (on backup, lost a redundant feed) counts, "
        "against 1 for a down one",
    )
    amber_vulnerability: float = Field(
        default=0.6,
        gt=0,
        le=1,
        title="Vulnerability that makes a space amber",
        description="A space is at least amber when the infrastructure serving it is this "
        "vulnerable (a vital asset down: 1.0; a criticality-4 asset down: 0.8)",
    )
    grade_thresholds: tuple[float, float, float, float] = Field(
        default=(0.2, 0.4, 0.6, 0.8),
        title="Grade thresholds",
        description="Scores at which grades 2, 3, 4 and 5 start",
    )
    min_score_change: float = Field(
        default=0.1,
        gt=0,
        le=1,
        title="Score change worth publishing",
        description="A space's risk is published again when its score moves this much, even "
        "at the same level and grade",
    )

    @model_validator(mode="after")
    def _rising(self) -> RiskSettings:
        t = self.grade_thresholds
        if not 0 < t[0] < t[1] < t[2] < t[3] <= 1:
            raise ValueError("grade thresholds must rise within (0, 1]")
        return self
