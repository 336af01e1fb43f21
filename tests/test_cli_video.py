"""``smartspaces video run`` on real footage and on bad sources, through its typer app: counts
and findings reach the store through the embedded pipeline, the camera joins the device
registry, and a corrupt file, a missing one or a stream that never opens ends with the reason
and status 1, quickly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from smartspaces.cli_video import video
from smartspaces.events import Detection, Observation
from smartspaces.store import Store
from tests.conftest import shared_data
from tests.detect.video.clips import real_frames, write_clip
from tests.detect.video.conftest import SAMPLE, finish_within

SQUARE = "plaza-ayuntamiento"  # a space of the embedded default (València) scenario
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMARTSPACES__STORE__DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARTSPACES__MQTT__ENABLED", "false")
    monkeypatch.setenv("SMARTSPACES__VIDEO__OPEN_TIMEOUT_S", "1")
    monkeypatch.delenv("SMARTSPACES_CONFIG", raising=False)
    return tmp_path


@pytest.fixture
def sample_video() -> Path:
    return shared_data(SAMPLE)


@pytest.fixture
def clip(sample_video: Path, tmp_path: Path) -> Path:
    """15 s of the real corridor: the first person comes in, stands at the table, leaves."""
    return write_clip(tmp_path / "corridor.avi", real_frames(sample_video, range(60, 212, 2)))


def invoke(*args: str, seconds: float = 120) -> Result:
    return finish_within(seconds, lambda: runner.invoke(video, ["run", *args]))


def stored(home: Path) -> tuple[list[Observation], list[Detection], Store]:
    store = Store(f"sqlite:///{home / 'smartspaces.sqlite3'}")
    observations = [e for e in store.recent("observation", 1000) if isinstance(e, Observation)]
    detections = [e for e in store.recent("detection", 1000) if isinstance(e, Detection)]
    return observations, detections, store


def test_a_configured_camera_on_a_real_clip_reaches_the_store(home: Path, clip: Path) -> None:
    config = home / "smartspaces.toml"
    config.write_text(
        f"""
[video]
report_interval_s = 5.0

[[video.cameras]]
id = "cam-corridor"
url = "rtsp://replaced.invalid/by-the-source-option"
anchor = "centre"

[[video.cameras.zones]]
id = "floor"
space_id = "{SQUARE}"
polygon = [[0, 0], [768, 0], [768, 432], [0, 432]]
loiter_after_s = 5

[[video.cameras.lines]]
id = "exit"
space_id = "{SQUARE}"
a = [480, 0]
b = [480, 432]
"""
    )
    result = invoke(
        "--source", str(clip), "--camera", "cam-corridor", "--space", SQUARE,
        "--config", str(config),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "published to the memory bus" in result.output
    assert "video.loitering" in result.output and "exits_count" in result.output
    observations, detections, store = stored(home)
    try:
        exits = sum(o.value for o in observations if o.sensor_id == "cam-corridor.exit"
                    and o.quantity == "exits_count")  # fmt: skip
        assert exits == 1  # the person left by the exit
        assert [d.detection_type for d in detections if d.detector.startswith("video.")] == [
            "video.loitering"
        ]
        camera = store.devices.get("cam-corridor")
        assert camera is not None and camera.kind == "camera" and camera.space_id == SQUARE
    finally:
        store.close()


def test_a_camera_not_in_the_settings_counts_its_whole_view(home: Path, clip: Path) -> None:
    result = invoke("--source", str(clip), "--camera", "cam-9", "--space", SQUARE)
    assert result.exit_code == 0, result.output
    observations, _, store = stored(home)
    store.close()
    occupancy = [o.value for o in observations if o.sensor_id == "cam-9.view"]
    assert occupancy and max(occupancy) == 1 and min(occupancy) == 0


def test_a_corrupt_file_ends_with_its_reason(home: Path, sample_video: Path) -> None:
    corrupt = home / "corrupt.mp4"
    corrupt.write_bytes(sample_video.read_bytes()[100_000:300_000])  # no header, cut mid-frame
    result = invoke("--source", str(corrupt), "--camera", "cam-1", "--space", SQUARE, seconds=60)
    assert result.exit_code == 1
    assert "camera cam-1 failed" in result.output
    assert "cannot open" in result.output or "corrupt" in result.output
    assert "Traceback" not in result.output
    _, detections, store = stored(home)
    store.close()
    assert [d.detection_type for d in detections if d.detector.startswith("video.")] == [
        "video.stream_lost"
    ]


def test_a_missing_file_ends_with_its_reason(home: Path) -> None:
    result = invoke("--source", str(home / "nothing.mp4"), "--camera", "c", "--space", SQUARE)
    assert result.exit_code == 1 and "video file not found" in result.output


def test_a_stream_that_never_opens_ends_quickly_without_its_password(home: Path) -> None:
    source = "rtsp://viewer:hunter2@127.0.0.1:9/cam"
    result = invoke("--source", source, "--camera", "cam-1", "--space", SQUARE, seconds=30)
    assert result.exit_code == 1
    assert "cannot open video source" in result.output and "hunter2" not in result.output


@pytest.mark.parametrize(
    ("camera", "space", "source"),
    [
        ("../etc", SQUARE, "x.mp4"),
        ("cam-1", "no spaces allowed", "x.mp4"),
        ("cam-1", SQUARE, ""),
        ("cam-1", SQUARE, "rtsp://h/" + "x" * 3000),
    ],
)
def test_invalid_options_are_refused_before_anything_runs(
    home: Path, camera: str, space: str, source: str
) -> None:
    result = invoke("--source", source, "--camera", camera, "--space", space, seconds=30)
    assert result.exit_code == 2 and "invalid camera" in result.output
    assert not (home / "smartspaces.sqlite3").exists()


def test_other_protocols_are_refused(home: Path) -> None:
    result = invoke("--source", "concat:/etc/passwd", "--camera", "c", "--space", SQUARE)
    assert result.exit_code == 1 and "unsupported source" in result.output
