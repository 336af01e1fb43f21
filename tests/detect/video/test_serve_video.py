"""The app ``smartspaces serve`` runs, with a camera configured: the video node starts with it
(the camera joins the device registry, its findings reach the store and the review API, with a
shaded snapshot), and it stops with the app, mid-file, promptly."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.store import Store
from smartspaces.video_node import VideoNode
from tests.api.conftest import admin_key, seed
from tests.detect.video.clips import real_frames, write_clip

ZONE = {"id": "floor", "space_id": "plaza", "polygon": [[0, 0], [768, 0], [768, 432], [0, 432]]}


def settings_with(tmp_path: Path, url: Path) -> Settings:
    camera = {"id": "cam-corridor", "url": str(url), "anchor": "centre",
              "zones": [{**ZONE, "loiter_after_s": 5}]}  # fmt: skip
    return Settings(
        store={"data_dir": tmp_path},  # type: ignore[arg-type]
        mqtt={"enabled": False},  # type: ignore[arg-type]
        video={"cameras": [camera], "snapshot_dir": tmp_path / "snapshots",  # type: ignore[arg-type]
               "report_interval_s": 2.0},
    )  # fmt: skip


def wait_for(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.1)


def test_the_served_app_runs_its_camera_and_shows_what_it_found(
    sample_video: Path, tmp_path: Path
) -> None:
    # 15 s of the corridor: the first person comes in, stands at the table (loitering), leaves
    clip = write_clip(tmp_path / "corridor.avi", real_frames(sample_video, range(60, 212, 2)))
    settings = settings_with(tmp_path, clip)
    seed(settings)
    headers = {"X-API-Key": admin_key(settings)}
    with TestClient(create_app(settings), headers=headers) as client:
        node: VideoNode = client.app.state.video  # type: ignore[attr-defined]
        wait_for(lambda: not node.running, 60)  # a file is read once
        assert node.failures == {} and node.published > 0

        def listed() -> list[dict[str, object]]:
            found: list[dict[str, object]] = client.get("/api/v1/video/detections").json()
            return found

        wait_for(lambda: listed(), 10)
        (loitering,) = listed()
        assert loitering["detection_type"] == "video.loitering"
        assert loitering["snapshot_view"] == "shaded"
        image = client.get(str(loitering["snapshot_url"]))
        assert image.status_code == 200 and image.headers["x-snapshot-view"] == "shaded"
        devices = Store(settings.store.database_url())
        try:
            camera = devices.devices.get("cam-corridor")
            assert camera is not None and camera.kind == "camera" and camera.space_id == "plaza"
        finally:
            devices.close()
    assert not node.running


def test_the_camera_stops_with_the_app_mid_file(sample_video: Path, tmp_path: Path) -> None:
    settings = settings_with(tmp_path, sample_video)  # 140 s of video: a minute of work here
    seed(settings)
    client = TestClient(create_app(settings))
    with client:
        node: VideoNode = client.app.state.video  # type: ignore[attr-defined]
        wait_for(lambda: node.running and node.published > 0, 30)
        stopping = time.monotonic()
    stopped_s = time.monotonic() - stopping
    assert not node.running
    assert stopped_s < 5, f"the app took {stopped_s:.1f} s to stop its camera"
    pipeline = node.pipelines["cam-corridor"]
    assert 0 < pipeline.position < 1300  # it stopped mid-file (1394 frames)
