"""The video section of the settings (``VideoSettings``): detector, cameras, zones, behaviours.

Zones and lines are drawn on the camera image (pixels); the calibration maps them to the ground
so a zone gets its area in square metres and tracks their speeds in metres per second.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smartspaces.config.video_behaviours import (
    BehaviourSettings,
    HealthSettings,
    UnattendedSettings,
)
from smartspaces.config.video_detectors import OnnxSettings, SsdLiteSettings
from smartspaces.events import Identifier, SpaceId
from smartspaces.planar import spans_a_plane

Pixel = tuple[
    Annotated[float, Field(ge=0, le=16_384, allow_inf_nan=False)],
    Annotated[float, Field(ge=0, le=16_384, allow_inf_nan=False)],
]
Metres = tuple[
    Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)],
    Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)],
]


class _Strict(BaseModel):
    # A misspelt setting is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ZoneSettings(_Strict):
    """An area of the image whose people are counted (and, calibrated, their density)."""

    id: Identifier = Field(title="Zone id", description="Unique within the camera")
    space_id: SpaceId = Field(title="Space", description="The smart space the zone belongs to")
    polygon: list[Pixel] = Field(
        min_length=3, max_length=64, title="Polygon", description="Image pixels, in order"
    )
    loiter_after_s: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        title="Loitering after",
        description="A person staying in the zone this long is loitering; none: not watched",
    )
    one_way_heading_deg: float | None = Field(
        default=None,
        ge=0,
        lt=360,
        title="One-way direction",
        description="The allowed direction of walking, degrees clockwise from the ground "
        "frame's +y axis (from the image's up direction without a calibration); moving "
        "against it is counter-flow; none: two-way",
    )


class LineSettings(_Strict):
    """A counting line: crossings from the left of a->b to its right (as seen on the image)
    are entries, the other way exits."""

    id: Identifier = Field(title="Line id", description="Unique within the camera")
    space_id: SpaceId = Field(title="Space", description="The space people enter by crossing")
    a: Pixel = Field(title="Start", description="First end of the line, image pixels")
    b: Pixel = Field(title="End", description="Second end of the line, image pixels")
    margin_px: float = Field(
        default=12.0,
        ge=0,
        le=500,
        title="Dead band",
        description="A side counts only this far from the line, so jitter is not a crossing",
    )

    @model_validator(mode="after")
    def _not_a_point(self) -> LineSettings:
        if self.a == self.b:
            raise ValueError("a counting line needs two distinct ends")
        return self


class CalibrationSettings(_Strict):
    """Four or more image points and where they are on the ground (metres, local frame)."""

    image_points: list[Pixel] = Field(min_length=4, max_length=64, title="Image points")
    ground_points: list[Metres] = Field(min_length=4, max_length=64, title="Ground points")

    @model_validator(mode="after")
    def _fits(self) -> CalibrationSettings:
        # refused when the settings load, not when a camera starts; the fit itself (and its
        # reprojection check) runs when the camera's pipeline is built
        if len(self.image_points) != len(self.ground_points):
            raise ValueError(
                f"{len(self.image_points)} image points but {len(self.ground_points)} ground points"
            )
        for name, points in (("image", self.image_points), ("ground", self.ground_points)):
            if not spans_a_plane(points):
                raise ValueError(
                    f"the {name} points are collinear (or coincide): pick 4 points that span "
                    "the floor, no three on one line"
                )
        return self


class CameraSettings(_Strict):
    """One camera: where its frames come from, how often to look, what to count."""

    id: Identifier = Field(title="Camera id", description="Also its device id")
    space_id: SpaceId | None = Field(
        default=None,
        title="Space",
        description="The smart space the camera watches (for its health and whole-view "
        "findings); default the space of its first zone or line",
    )
    url: str = Field(
        min_length=1,
        max_length=2048,
        title="Source",
        description="A video file path, or an rtsp://, http:// or https:// stream URL",
    )
    target_fps: float = Field(
        default=5.0,
        gt=0,
        le=60,
        title="Analysis rate",
        description="Frames analysed per second; frames arriving faster are skipped, late "
        "frames dropped rather than queued",
    )
    anchor: Literal["foot", "centre"] = Field(
        default="foot",
        title="Anchor",
        description="Point of a person box that zones and lines test: feet, or the box centre "
        "where feet are often out of view",
    )
    zones: list[ZoneSettings] = Field(default=[], max_length=64, title="Zones")
    lines: list[LineSettings] = Field(default=[], max_length=64, title="Counting lines")
    calibration: CalibrationSettings | None = Field(
        default=None, title="Ground calibration", description="Needed for density"
    )

    @model_validator(mode="after")
    def _has_a_space(self) -> CameraSettings:
        if self.space_id is None and not self.zones and not self.lines:
            raise ValueError(f"camera {self.id}: give space_id, or a zone or line with one")
        ids = [z.id for z in self.zones] + [line.id for line in self.lines]
        if len(ids) != len(set(ids)):
            raise ValueError(f"camera {self.id}: zone and line ids must be unique")
        return self

    @property
    def home_space(self) -> str:
        """The space of the camera's own findings (health, unattended objects)."""
        if self.space_id is not None:
            return self.space_id
        return self.zones[0].space_id if self.zones else self.lines[0].space_id


class VideoSettings(_Strict):
    """Video analytics: which person detector, how frames are read and counts reported."""

    detector: Literal["hog", "ssdlite", "onnx"] = Field(
        default="hog",
        title="Person detector",
        description="hog: OpenCV's built-in people detector (CPU, no model file); ssdlite: the "
        "SSDLite MobileNetV2 pedestrian model, OpenCV DNN; onnx: an ONNX model file, "
        "onnxruntime (CUDA when available)",
    )
    score_min: float = Field(
        default=0.3,
        ge=0,
        title="Score threshold",
        description="Weaker person boxes are ignored (HOG: SVM margin; models: probability)",
    )
    nms_iou: float = Field(
        default=0.4,
        gt=0,
        le=1,
        title="Overlap suppression",
        description="Of two person boxes overlapping more than this (IoU), the weaker goes",
    )
    ssdlite: SsdLiteSettings = Field(default_factory=SsdLiteSettings, title="SSDLite detector")
    onnx: OnnxSettings = Field(default_factory=OnnxSettings, title="ONNX detector")
    analysis_height_px: int = Field(
        default=176,
        ge=64,
        le=2160,
        title="Analysis height",
        description="Frames are scaled to this height before detection (speed vs small people)",
    )
    max_frame_pixels: int = Field(
        default=8192 * 4320, gt=0, title="Largest frame", description="Bigger frames are refused"
    )
    min_frame_side_px: int = Field(
        default=32, ge=1, title="Smallest frame side", description="Smaller frames are refused"
    )
    max_lag_s: float = Field(
        default=1.0,
        gt=0,
        title="Largest lag",
        description="A live frame older than this when its turn comes is dropped",
    )
    reconnect_attempts: int = Field(
        default=5, ge=0, le=1000, title="Reconnects", description="Before a stream is lost"
    )
    reconnect_backoff_s: float = Field(
        default=1.0, gt=0, le=300, title="First reconnect wait", description="Doubles each try"
    )
    open_timeout_s: float = Field(
        default=5.0, gt=0, le=120, title="Open/read timeout", description="Per stream call"
    )
    track_max_missing_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        title="Track memory",
        description="A track unseen this long is forgotten (ids are short-lived on purpose)",
    )
    report_interval_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        title="Report interval",
        description="Counts are published once per interval",
    )
    behaviours: BehaviourSettings = Field(default_factory=BehaviourSettings, title="Behaviours")
    unattended: UnattendedSettings = Field(
        default_factory=UnattendedSettings, title="Unattended objects"
    )
    health: HealthSettings = Field(default_factory=HealthSettings, title="Camera health")
    snapshot_dir: Path | None = Field(
        default=None,
        title="Snapshot folder",
        description="Where blurred snapshots of findings are written; none: never written",
    )
    cameras: list[CameraSettings] = Field(default=[], max_length=256, title="Cameras")

    @model_validator(mode="after")
    def _unique_cameras(self) -> VideoSettings:
        ids = [c.id for c in self.cameras]
        if len(ids) != len(set(ids)):
            raise ValueError("camera ids must be unique")
        if self.detector == "onnx" and self.onnx.model_path is None:
            raise ValueError("the onnx detector needs onnx.model_path")
        return self
