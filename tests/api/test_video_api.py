"""The video review API over the real app: findings listed and read, the snapshot shaded until
an operator confirms a threat (then blurred), the confirmation role-guarded, audited, visible,
and raising the space's alert through the real pipeline; hostile and malformed input refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from smartspaces.api import create_app
from smartspaces.config import Settings
from smartspaces.config.video import CameraSettings
from smartspaces.detect.video.boxes import Box
from smartspaces.detect.video.findings import DETECTORS, Finding, to_detection
from smartspaces.detect.video.privacy import SHADE, count_faces, write_snapshot
from smartspaces.detect.video.snapshot_files import shaded_path
from smartspaces.events import Detection, Level, Observation
from smartspaces.store import Store
from smartspaces.store.audit import records
from smartspaces.video_review import CONFIRMED, confirmation_id
from tests.api.conftest import add_user, issue_key, seed, sign_in

NOW = datetime.now(UTC).replace(microsecond=0)
PERSON = Box(300, 120, 360, 300)
CAMERA = CameraSettings(id="cam-plaza", url="rtsp://camera.invalid/1", space_id="plaza")
CALLE_CAMERA = CameraSettings(id="cam-calle", url="rtsp://camera.invalid/2", space_id="calle")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store={"data_dir": tmp_path},  # type: ignore[arg-type]
        mqtt={"enabled": False},  # type: ignore[arg-type]
        video={"snapshot_dir": tmp_path / "snapshots"},  # type: ignore[arg-type]
    )


def scene() -> np.ndarray:
    """A street-like frame: a graded background with texture, and a figure where PERSON is."""
    rng = np.random.default_rng(3)
    frame = np.zeros((432, 768, 3), np.uint8)
    frame[:] = np.linspace(60, 200, 768, dtype=np.uint8)[None, :, None]
    frame = np.clip(frame + rng.normal(0, 8, frame.shape), 0, 255).astype(np.uint8)
    cv2.rectangle(frame, (310, 130), (350, 290), (40, 90, 180), -1)  # a body
    cv2.circle(frame, (330, 140), 14, (150, 170, 210), -1)  # a head
    return frame


def finding(
    kind: str, family: str, level: Level, minutes_ago: float, snapshot: str | None = None
) -> Finding:
    attributes: dict[str, str | float | int | bool] = {"zone_id": "square"}
    if snapshot is not None:
        attributes["snapshot_file"] = snapshot
    at = (NOW - timedelta(minutes=minutes_ago)).timestamp()
    return Finding(kind, DETECTORS[family], level, at, f"{kind} seen", attributes)


class World:
    """The app, its store, the findings in it and a key per role."""

    def __init__(self, client: TestClient, store: Store, settings: Settings) -> None:
        self.client, self.store, self.settings = client, store, settings
        assert settings.video.snapshot_dir is not None
        self.folder = settings.video.snapshot_dir
        path = write_snapshot(scene(), [PERSON], self.folder, "cam-plaza-video.loitering-1")
        self.loitering = to_detection(
            finding("video.loitering", "behaviour", Level.AMBER, 2, path.name), CAMERA, NOW
        )
        self.frozen = to_detection(
            finding("video.frozen_image", "health", Level.AMBER, 3), CAMERA, NOW
        )
        self.calle = to_detection(
            finding("video.running", "behaviour", Level.AMBER, 1), CALLE_CAMERA, NOW
        )
        # a finding whose file name was tampered with on the bus: it must not reach any file
        self.hostile = to_detection(
            finding("video.fall", "behaviour", Level.RED, 4, "../store.sqlite3.jpg"), CAMERA, NOW
        )
        self.crowd = Detection(
            source="crowd.density", space_id="plaza", observed_at=NOW, received_at=NOW,
            detector="crowd.density", detection_type="crowd.density_level", level=Level.AMBER,
        )  # fmt: skip
        store.append_events([self.loitering, self.frozen, self.calle, self.hostile, self.crowd])
        self.keys = {
            role: issue_key(store, role, "valencia-police")
            for role in (
                "police_operator", "city_operator", "auditor", "emergency_services",
                "infrastructure_operator", "administrator",
            )
        }  # fmt: skip
        self.keys["police_calle"] = issue_key(store, "police_operator", spaces=["calle"])

    def as_(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def get(self, path: str, role: str = "police_operator", **params: Any) -> Any:
        return self.client.get(path, headers=self.as_(role), params=params)

    def confirm(self, detection_id: str, role: str = "police_operator", **body: Any) -> Any:
        path = f"/api/v1/video/detections/{detection_id}/confirm"
        return self.client.post(path, headers=self.as_(role), json=body)


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    seed(settings)
    store = Store(settings.store.database_url())
    with TestClient(create_app(settings)) as client:
        yield World(client, store, settings)
    store.close()


def test_findings_are_listed_newest_first_without_file_names(world: World) -> None:
    answer = world.get("/api/v1/video/detections")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    # video findings only: no crowd detection; newest first
    assert [f["id"] for f in found] == [
        world.calle.id, world.loitering.id, world.frozen.id, world.hostile.id
    ]  # fmt: skip
    loitering = found[1]
    assert loitering["camera_id"] == "cam-plaza" and loitering["confirmable"] is True
    assert loitering["snapshot_view"] == "shaded" and loitering["confirmation"] is None
    assert loitering["snapshot_url"] == f"/api/v1/video/detections/{world.loitering.id}/snapshot"
    assert found[2]["confirmable"] is False  # a frozen image is a fault, not a threat
    assert found[3]["snapshot_url"] is None  # its file name was not one of ours
    assert all("snapshot_file" not in f["attributes"] for f in found)
    one_camera = world.get("/api/v1/video/detections", camera_id="cam-calle").json()
    assert [f["id"] for f in one_camera] == [world.calle.id]
    one_space = world.get("/api/v1/video/detections", space_id="plaza", limit=1).json()
    assert [f["id"] for f in one_space] == [world.loitering.id]
    reads = records(world.store, action="video.detections.read")
    assert len(reads) == 3 and json.loads(reads[0].details)["count"] == 1


def test_the_snapshot_shows_people_as_shaded_boxes_until_a_threat_is_confirmed(
    world: World,
) -> None:
    path = f"/api/v1/video/detections/{world.loitering.id}/snapshot"
    shaded = world.get(path)
    assert shaded.status_code == 200, shaded.text
    assert shaded.headers["content-type"] == "image/jpeg"
    assert shaded.headers["x-snapshot-view"] == "shaded"
    assert shaded.headers["cache-control"] == "no-store"
    image = cv2.imdecode(np.frombuffer(shaded.content, np.uint8), cv2.IMREAD_COLOR)
    inside = image[150:270, 320:340].reshape(-1, 3).astype(int)
    # the person is one flat shade (JPEG noise aside): no shape, no colour of theirs left
    assert np.abs(inside - np.array(SHADE)).max() < 12
    assert count_faces(image) == 0
    assert records(world.store, action="video.snapshot.read", target=world.loitering.id)

    assert world.confirm(world.loitering.id).status_code == 200
    blurred = world.get(path)
    assert blurred.headers["x-snapshot-view"] == "blurred"
    assert blurred.content == (world.folder / "cam-plaza-video.loitering-1.jpg").read_bytes()
    assert blurred.content != shaded.content
    image = cv2.imdecode(np.frombuffer(blurred.content, np.uint8), cv2.IMREAD_COLOR)
    assert count_faces(image) == 0
    assert np.abs(image[150:270, 320:340].astype(int) - np.array(SHADE)).max() > 12


def test_confirming_a_threat_is_audited_visible_and_raises_the_spaces_alert(
    world: World, eventually: Callable[[Callable[[], Any]], Any]
) -> None:
    add_user(world.store, "officer-12")  # a police operator at the COP
    session = sign_in(world.client, "officer-12")
    path = f"/api/v1/video/detections/{world.loitering.id}/confirm"
    body = {"level": "red", "note": "man with a knife, cam 3"}
    answer = world.client.post(path, headers=session, json=body)
    assert answer.status_code == 200, answer.text
    confirmation = answer.json()["confirmation"]
    assert confirmation["id"] == confirmation_id(world.loitering.id)
    assert confirmation["level"] == "red" and confirmation["confirmed_by"] == "officer-12"
    assert answer.json()["snapshot_view"] == "blurred"

    (audited,) = records(world.store, action="video.threat_confirmed")
    assert audited.target == world.loitering.id and audited.actor == "officer-12"
    details = json.loads(audited.details)
    assert details["note"] == "man with a knife, cam 3" and details["level"] == "red"

    stored = world.store.event(confirmation["id"])
    assert isinstance(stored, Detection) and stored.detection_type == CONFIRMED
    assert stored.derived_from == (world.loitering.id,) and stored.level == Level.RED
    assert "man with a knife" not in stored.model_dump_json()  # the note stays in the audit

    # the pipeline takes it up: the square's risk turns red and its alert is raised
    def alerts() -> list[str]:
        view = world.get(f"/api/v1/video/detections/{world.loitering.id}").json()
        return list(view["confirmation"]["alert_ids"])

    raised = eventually(alerts)
    assert raised, "no alert was raised from the confirmation"
    (alert,) = [a for a in world.get("/api/v1/alerts").json() if a["id"] == raised[0]]
    assert alert["space_id"] == "plaza" and alert["level"] == "red"
    chain = world.get(f"/api/v1/events/{alert['id']}/provenance").json()
    assert {confirmation["id"], world.loitering.id} <= {e["id"] for e in chain}

    again = world.confirm(world.loitering.id, role="administrator", level="critical")
    assert again.status_code == 409
    assert len(records(world.store, action="video.threat_confirmed")) == 1


def test_who_may_read_and_who_may_confirm(world: World) -> None:
    path = f"/api/v1/video/detections/{world.loitering.id}"
    for role in ("police_operator", "city_operator", "auditor", "administrator"):
        assert world.get(path, role).status_code == 200, role
    for role in ("emergency_services", "infrastructure_operator"):
        assert world.get(path, role).status_code == 403, role
        assert world.get(path + "/snapshot", role).status_code == 403, role
    for role in ("city_operator", "auditor", "emergency_services", "infrastructure_operator"):
        assert world.confirm(world.loitering.id, role).status_code == 403, role
    assert world.client.get(path).status_code == 401
    assert world.client.post(path + "/confirm", json={}).status_code == 401
    assert world.store.event(confirmation_id(world.loitering.id)) is None
    assert not records(world.store, action="video.threat_confirmed")
    # an operator limited to the calle sees nothing of the plaza
    assert world.get(path, "police_calle").status_code == 403
    assert world.get(path + "/snapshot", "police_calle").status_code == 403
    assert world.confirm(world.loitering.id, "police_calle").status_code == 403
    listed = world.get("/api/v1/video/detections", "police_calle").json()
    assert [f["id"] for f in listed] == [world.calle.id]
    assert (
        world.get("/api/v1/video/detections", "police_calle", space_id="plaza").status_code == 403
    )
    assert world.confirm(world.calle.id, "administrator").status_code == 200


def test_a_session_needs_its_csrf_token_to_confirm(world: World) -> None:
    add_user(world.store, "officer")
    session = sign_in(world.client, "officer")
    path = f"/api/v1/video/detections/{world.loitering.id}/confirm"
    refused = world.client.post(path, json={}, headers={"Cookie": session["Cookie"]})
    assert refused.status_code == 403
    assert world.client.post(path, json={}, headers=session).status_code == 200


@pytest.mark.parametrize(
    "detection_id",
    [
        "..%2F..%2Fstore.sqlite3",
        "det-" + "0" * 23,
        "det-" + "g" * 24,
        "det-" + "0" * 24 + "%00",
        "DET-" + "0" * 24,
        "x" * 5000,
        "det-0' OR '1'='1",
    ],
)
def test_malformed_ids_are_refused(world: World, detection_id: str) -> None:
    for path in ("", "/snapshot"):
        answer = world.get(f"/api/v1/video/detections/{detection_id}{path}")
        assert answer.status_code in (404, 422), answer.text
    assert world.confirm(detection_id).status_code in (404, 422)


def test_unknown_and_non_video_ids_are_not_found(world: World) -> None:
    for detection_id in ("det-" + "0" * 24, world.crowd.id):
        for path in ("", "/snapshot", "/confirm"):
            url = f"/api/v1/video/detections/{detection_id}{path}"
            call = world.client.post if path == "/confirm" else world.client.get
            kwargs: dict[str, Any] = {"json": {}} if path == "/confirm" else {}
            answer = call(url, headers=world.as_("police_operator"), **kwargs)
            assert answer.status_code == 404, (url, answer.text)
    # a confirmation is not itself a finding to confirm
    confirmed = world.confirm(world.loitering.id).json()["confirmation"]["id"]
    assert world.get(f"/api/v1/video/detections/{confirmed}").status_code == 404


def test_a_hostile_snapshot_name_reaches_no_file(world: World) -> None:
    (world.folder.parent / "store.sqlite3.jpg").write_bytes(b"secret")
    answer = world.get(f"/api/v1/video/detections/{world.hostile.id}/snapshot")
    assert answer.status_code == 404 and b"secret" not in answer.content
    assert world.confirm(world.hostile.id).status_code == 200
    answer = world.get(f"/api/v1/video/detections/{world.hostile.id}/snapshot")
    assert answer.status_code == 404 and b"secret" not in answer.content


def test_a_missing_snapshot_file_is_not_found(world: World) -> None:
    shaded_path(world.folder / "cam-plaza-video.loitering-1.jpg").unlink()
    answer = world.get(f"/api/v1/video/detections/{world.loitering.id}/snapshot")
    assert answer.status_code == 404


def test_a_camera_fault_cannot_be_confirmed(world: World) -> None:
    answer = world.confirm(world.frozen.id)
    assert answer.status_code == 422 and "not a threat" in answer.text
    assert world.store.event(confirmation_id(world.frozen.id)) is None


@pytest.mark.parametrize(
    "body",
    [
        {"level": "amber"},
        {"level": "normal"},
        {"level": "RED"},
        {"level": 3},
        {"note": "x" * 501},
        {"note": ["list"]},
        {"confirmed_by": "someone else"},
        {"level": "red", "extra": True},
        [],
        "red",
    ],
)
def test_malformed_confirmations_are_refused(world: World, body: object) -> None:
    path = f"/api/v1/video/detections/{world.loitering.id}/confirm"
    answer = world.client.post(path, headers=world.as_("police_operator"), json=body)
    assert answer.status_code == 422, answer.text
    assert world.store.event(confirmation_id(world.loitering.id)) is None


def test_a_body_that_is_not_json_is_refused(world: World) -> None:
    path = f"/api/v1/video/detections/{world.loitering.id}/confirm"
    headers = {**world.as_("police_operator"), "content-type": "application/json"}
    answer = world.client.post(path, headers=headers, content=b'{"level": ')
    assert answer.status_code == 422
    huge = b'{"note": "' + b"a" * 2_000_000 + b'"}'
    assert world.client.post(path, headers=headers, content=huge).status_code in (413, 422)
    assert world.store.event(confirmation_id(world.loitering.id)) is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"limit": -1},
        {"limit": "ten"},
        {"space_id": "../plaza"},
        {"space_id": "plaza' OR 1=1 --"},
        {"camera_id": "x" * 200},
        {"camera_id": ""},
    ],
)
def test_malformed_list_queries_are_refused(world: World, params: dict[str, Any]) -> None:
    assert world.get("/api/v1/video/detections", **params).status_code == 422


def test_the_routes_are_documented(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    assert "/api/v1/video/detections/{detection_id}/confirm" in paths
    snapshot = paths["/api/v1/video/detections/{detection_id}/snapshot"]["get"]
    assert "image/jpeg" in snapshot["responses"]["200"]["content"]


def test_observations_of_a_camera_are_not_findings(world: World) -> None:
    count = Observation(
        source="video.analytics", space_id="plaza", sensor_id="cam-plaza.square",
        quantity="occupancy_persons", value=3, observed_at=NOW, received_at=NOW, interval_s=10,
    )  # fmt: skip
    world.store.append_events([count])
    ids = [f["id"] for f in world.get("/api/v1/video/detections").json()]
    assert count.id not in ids and len(ids) == 4
