"""Snapshot views: each snapshot is written blurred and shaded (people as opaque boxes), both
face-checked; behaviours get one for the operator who judges them; and only names the package
writes resolve to files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from smartspaces.config.video import CameraSettings, VideoSettings, ZoneSettings
from smartspaces.config.video_behaviours import BehaviourSettings
from smartspaces.detect.video.detectors import build_detector
from smartspaces.detect.video.pipeline import watch_camera
from smartspaces.detect.video.privacy import SHADE, count_faces, shade_people, write_snapshot
from smartspaces.detect.video.snapshot_files import shaded_path, snapshot_files
from smartspaces.events import Detection
from tests.detect.video.clips import real_frames, write_clip

START = datetime(2026, 3, 15, 11, 0, tzinfo=UTC)


def test_a_snapshot_is_written_blurred_and_shaded_with_no_face(
    sample_video: Path, tmp_path: Path
) -> None:
    import cv2

    (frame,) = real_frames(sample_video, [330])
    boxes = build_detector(VideoSettings()).detect(frame)
    assert boxes
    path = write_snapshot(frame, boxes, tmp_path, "cam-1-video.fall-1")
    blurred, shaded = cv2.imread(str(path)), cv2.imread(str(shaded_path(path)))
    assert count_faces(blurred) == 0 and count_faces(shaded) == 0
    box = boxes[0]
    x1, y1, x2, y2 = int(box.x1) + 3, int(box.y1) + 3, int(box.x2) - 3, int(box.y2) - 3
    person = shaded[y1:y2, x1:x2].reshape(-1, 3).astype(int)
    assert np.abs(person - np.array(SHADE)).max() < 12  # one flat shade, JPEG noise aside
    assert np.abs(blurred[y1:y2, x1:x2].astype(int) - np.array(SHADE)).mean() > 20
    # outside the people both views are the same picture
    assert np.abs(shaded[:, :40].astype(int) - blurred[:, :40].astype(int)).mean() < 2


def test_shading_nothing_changes_nothing() -> None:
    frame = np.full((90, 160, 3), 128, np.uint8)
    assert shade_people(frame, []).tobytes() == frame.tobytes()


@pytest.mark.parametrize(
    "name",
    [
        "../store.sqlite3.jpg", "/etc/passwd", "a/b.jpg", ".hidden.jpg", "x.png", "x.jpg/",
        "cam.shaded.jpg", "a\x00.jpg", "a" * 300 + ".jpg", "", None, 42, ["x.jpg"],
    ],
)  # fmt: skip
def test_only_names_of_ours_resolve(tmp_path: Path, name: object) -> None:
    assert snapshot_files(tmp_path, name) is None


def test_a_name_of_ours_resolves_to_both_views(tmp_path: Path) -> None:
    name = "cam:7-video.loitering-20260315T110000000000.jpg"
    assert snapshot_files(tmp_path, name) == (
        tmp_path / name,
        tmp_path / "cam:7-video.loitering-20260315T110000000000.shaded.jpg",
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_a_behaviour_gets_a_snapshot_for_the_operator(
    sample_video: Path, tmp_path: Path, enabled: bool
) -> None:
    clip = write_clip(tmp_path / "corridor.avi", real_frames(sample_video, range(60, 212, 2)))
    zone = ZoneSettings(id="floor", space_id="corridor", loiter_after_s=5,
                        polygon=[(0, 0), (768, 0), (768, 432), (0, 432)])  # fmt: skip
    camera = CameraSettings(id="cam-1", url=str(clip), anchor="centre", zones=[zone])
    folder = tmp_path / "snapshots"
    settings = VideoSettings(snapshot_dir=folder, behaviours=BehaviourSettings(snapshot=enabled))
    events = list(watch_camera(camera, settings, clock=lambda: START, file_start=START))
    (loitering,) = [e for e in events if isinstance(e, Detection)]
    assert loitering.detection_type == "video.loitering"
    if not enabled:
        assert "snapshot_file" not in loitering.attributes and not folder.exists()
        return
    files = snapshot_files(folder, loitering.attributes["snapshot_file"])
    assert files is not None and all(f.is_file() for f in files)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f.name for f in files)
