"""Settings of the video behaviours (loitering, running, falls, counter-flow, dispersal), of the
unattended-object watch and of camera health. Zones say where loitering and one-way rules
apply (``ZoneSettings``); the thresholds are here.

Speeds and distances are on the ground, in metres: exact with a camera calibration, estimated
from each person's box height (``person_height_m``) without one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BehaviourSettings(_Strict):
    """When a track's motion is a behaviour worth a Detection."""

    person_height_m: float = Field(
        default=1.7,
        gt=0.5,
        le=2.5,
        title="Person height",
        description="Scale used without a calibration: a person box is this tall on the ground",
    )
    speed_window_s: float = Field(
        default=1.0, gt=0, le=10, title="Speed window", description="Speeds are measured over it"
    )
    running_speed_m_s: float = Field(
        default=2.5, gt=0, le=15, title="Running speed", description="Faster is running"
    )
    running_min_s: float = Field(
        default=1.0, ge=0, le=30, title="Running for", description="Sustained this long"
    )
    fall_upright_ratio: float = Field(
        default=1.3, gt=0, le=10, title="Upright", description="Box height/width of a standing body"
    )
    fall_lying_ratio: float = Field(
        default=0.9, gt=0, le=10, title="Lying", description="Box height/width of a lying body"
    )
    fall_within_s: float = Field(
        default=1.0,
        gt=0,
        le=30,
        title="Fall time",
        description="From the last upright box to the first lying one within this long is a "
        "fall (a fall takes well under a second; lying down on purpose takes seconds)",
    )
    fall_min_s: float = Field(
        default=1.0, ge=0, le=60, title="Down for", description="Still lying this long after"
    )
    stall_speed_m_s: float = Field(
        default=0.5, gt=0, le=5, title="Stalled", description="Slower than this is not moving"
    )
    counter_flow_angle_deg: float = Field(
        default=120.0,
        ge=45,
        le=180,
        title="Against the flow",
        description="Heading this far from a one-way zone's direction is counter-flow",
    )
    counter_flow_min_speed_m_s: float = Field(
        default=0.4, gt=0, le=10, title="Counter-flow speed", description="Slower is ignored"
    )
    counter_flow_min_s: float = Field(
        default=1.0, ge=0, le=60, title="Counter-flow for", description="Sustained this long"
    )
    dispersal_min_persons: int = Field(
        default=4, ge=2, le=1000, title="Dispersal crowd", description="Fewer never disperse"
    )
    dispersal_baseline_s: float = Field(
        default=10.0, gt=0, le=600, title="Dispersal baseline", description="Usual speed over it"
    )
    dispersal_speed_ratio: float = Field(
        default=2.0, gt=1, le=20, title="Speed jump", description="Mean speed this many times up"
    )
    dispersal_min_speed_m_s: float = Field(
        default=1.5, gt=0, le=15, title="Dispersal speed", description="And at least this fast"
    )
    dispersal_max_alignment: float = Field(
        default=0.5,
        ge=0,
        le=1,
        title="Diverging",
        description="Headings diverge when the mean of their unit vectors is shorter than this "
        "(1: all one way, 0: every way)",
    )
    repeat_after_s: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        title="Repeat after",
        description="The same behaviour of the same track or zone is reported again only "
        "after this long",
    )
    snapshot: bool = Field(
        default=True,
        title="Snapshot",
        description="Write a blurred snapshot (and its shaded view) of a reported behaviour, "
        "for the operator who judges it (if a snapshot folder is set)",
    )


class UnattendedSettings(_Strict):
    """A new static object with no person near it for ``delay_s`` is unattended."""

    enabled: bool = Field(default=True, title="Watch for unattended objects")
    delay_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        title="Delay",
        description="Seconds an object must stay put with nobody near before it is reported",
    )
    attended_radius_m: float = Field(
        default=2.0, gt=0, le=20, title="Attended within", description="A person this near"
    )
    short_time_constant_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        title="Short background",
        description="A still object joins the short-term background in about this long",
    )
    long_time_constant_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        title="Long background",
        description="...and the long-term one only after many times this; the difference "
        "between the two is what stays new and still",
    )
    difference_min: int = Field(
        default=30, ge=1, le=255, title="Foreground", description="Grey levels off the background"
    )
    analysis_width_px: int = Field(
        default=320, ge=64, le=1920, title="Analysis width", description="Frames scaled to it"
    )
    min_area_fraction: float = Field(
        default=0.0008, gt=0, le=1, title="Smallest object", description="Of the frame's area"
    )
    max_area_fraction: float = Field(
        default=0.05, gt=0, le=1, title="Largest object", description="Of the frame's area"
    )
    snapshot: bool = Field(
        default=True,
        title="Snapshot",
        description="Write a blurred snapshot of a reported object (if a snapshot folder is set)",
    )


class HealthSettings(_Strict):
    """Camera health and tampering: frozen image, covered lens, turned camera, lost stream."""

    frozen_after_s: float = Field(
        default=10.0, gt=0, le=3600, title="Frozen after", description="Identical frames this long"
    )
    frozen_changed_max: float = Field(
        default=0.002,
        ge=0,
        le=0.5,
        title="Identical",
        description="Two frames are the same picture when at most this share of their pixels "
        "changed at all: a live sensor's noise changes far more (1 % and up on compressed "
        "video of an empty corridor), a frozen one none but a ticking on-screen clock",
    )
    covered_after_s: float = Field(
        default=3.0, gt=0, le=3600, title="Covered after", description="Blank this long"
    )
    covered_detail_max: float = Field(
        default=1.5,
        ge=0,
        le=50,
        title="No detail",
        description="Mean absolute Laplacian of the image (at 160x90) below which no detail "
        "is left: a lens covered by a hand or tape, sprayed or defocused (an empty corridor "
        "shows about 13, a plain asphalt car park 3 to 4)",
    )
    dark_mean_max: float = Field(
        default=12.0, ge=0, le=255, title="Dark", description="Or mean grey below which"
    )
    scene_change_distance: float = Field(
        default=0.5,
        gt=0,
        le=1,
        title="Scene changed",
        description="Bhattacharyya distance between the image's colour histogram and the "
        "learnt scene's above which the view changed (a camera turned or moved)",
    )
    scene_change_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        title="Changed area",
        description="...and at least this share of the image differs from the learnt scene "
        "(a car or a group passing changes colours, but not most of the view)",
    )
    scene_change_after_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        title="Changed for",
        description="Sustained this long: a camera's auto-exposure swings when a bright or dark "
        "vehicle fills the view, for two or three seconds",
    )
    scene_time_constant_s: float = Field(
        default=60.0, gt=0, le=86_400, title="Scene memory", description="Learnt scene's pace"
    )
    repeat_after_s: float = Field(
        default=300.0, ge=0, le=86_400, title="Repeat after", description="Same fault again"
    )
