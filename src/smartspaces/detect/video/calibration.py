"""Image-to-ground calibration: a homography from four or more point pairs, pixels to metres.

Each camera is calibrated once by an operator who marks points on the image whose ground
positions (metres, in a local frame of the space) are known. Tracks then become ground
positions, and a zone drawn on the image gets its real area, which density needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from smartspaces.detect.video.errors import CalibrationError
from smartspaces.planar import spans_a_plane

Point = tuple[float, float]

MAX_PAIRS = 64
"""More pairs add nothing but cost (the collinearity check looks at groups of four)."""

MAX_REPROJECTION_ERROR_M = 0.5
"""A pair whose ground point the fitted homography misses by more is a marking mistake."""


class GroundPlane:
    """A fitted image-to-ground homography; ``to_ground`` maps pixels to metres."""

    def __init__(self, matrix: npt.NDArray[np.float64]) -> None:
        self._matrix = matrix

    @classmethod
    def fit(cls, image_points: Sequence[Point], ground_points: Sequence[Point]) -> GroundPlane:
        """Fit from >= 4 pairs; raises CalibrationError on too few, non-finite, collinear or
        inconsistent points (a clear message rather than a silently wrong density)."""
        if len(image_points) != len(ground_points):
            raise CalibrationError(
                f"{len(image_points)} image points but {len(ground_points)} ground points"
            )
        if not 4 <= len(image_points) <= MAX_PAIRS:
            raise CalibrationError(f"need 4 to {MAX_PAIRS} point pairs, got {len(image_points)}")
        image = np.asarray(image_points, dtype=np.float64).reshape(-1, 2)
        ground = np.asarray(ground_points, dtype=np.float64).reshape(-1, 2)
        if not (np.isfinite(image).all() and np.isfinite(ground).all()):
            raise CalibrationError("calibration points must be finite numbers")
        for name, points in (("image", image), ("ground", ground)):
            if not spans_a_plane(points):
                raise CalibrationError(
                    f"the {name} points are collinear (or coincide): pick 4 points that span "
                    "the floor, no three on one line"
                )
        matrix, _ = cv2.findHomography(image, ground, 0)
        if matrix is None or not np.isfinite(matrix).all() or abs(np.linalg.det(matrix)) < 1e-12:
            raise CalibrationError("these point pairs do not define an image-to-ground mapping")
        plane = cls(matrix.astype(np.float64))
        errors = np.linalg.norm(plane.to_ground_array(image) - ground, axis=1)
        worst = float(errors.max())
        if worst > MAX_REPROJECTION_ERROR_M:
            raise CalibrationError(
                f"point pair {int(errors.argmax())} is {worst:.2f} m off the fitted plane: "
                "check that every image point and its ground point are the same spot"
            )
        return plane

    def to_ground_array(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Map an (n, 2) array of pixels to an (n, 2) array of ground metres."""
        if len(points) == 0:
            return np.zeros((0, 2), dtype=np.float64)
        mapped = cv2.perspectiveTransform(points.reshape(-1, 1, 2).astype(np.float64), self._matrix)
        return mapped.reshape(-1, 2).astype(np.float64)

    def to_ground(self, point: Point) -> Point:
        x, y = self.to_ground_array(np.asarray([point], dtype=np.float64))[0]
        return (float(x), float(y))

    def area_m2(self, image_polygon: Sequence[Point]) -> float:
        """The ground area of a polygon drawn on the image."""
        ground = self.to_ground_array(np.asarray(image_polygon, dtype=np.float64))
        return polygon_area([(float(x), float(y)) for x, y in ground])


def polygon_area(polygon: Sequence[Point]) -> float:
    """Shoelace area of a simple polygon (either orientation)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2
