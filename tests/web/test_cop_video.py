"""The COP's video panel in a real browser (Debian's chromium): a finding the real pipeline made
from the real corridor video, its snapshot with people as shaded boxes, a police operator
confirming the threat (then the blurred view, the space's alert in the Alerts panel, the audit
record), and who sees what. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from smartspaces.config import Settings
from smartspaces.config.video import CameraSettings, VideoSettings, ZoneSettings
from smartspaces.detect.video.pipeline import watch_camera
from smartspaces.events import Detection
from smartspaces.store import Store
from smartspaces.store.audit import records
from tests.conftest import shared_data
from tests.detect.video.clips import real_frames, write_clip
from tests.detect.video.conftest import SAMPLE
from tests.web.conftest import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
START = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store={"data_dir": tmp_path},  # type: ignore[arg-type]
        mqtt={"enabled": False},  # type: ignore[arg-type]
        video={"snapshot_dir": tmp_path / "snapshots"},  # type: ignore[arg-type]
    )


@pytest.fixture
def finding(settings: Settings, token: str, tmp_path: Path) -> Detection:
    """The real pipeline on 15 s of the corridor (someone stands at the table: loitering),
    its findings stored as the video node's would be; returns the loitering one."""
    clip = write_clip(
        tmp_path / "corridor.avi", real_frames(shared_data(SAMPLE), range(60, 212, 2))
    )
    zone = ZoneSettings(id="floor", space_id="plaza", loiter_after_s=5,
                        polygon=[(0, 0), (768, 0), (768, 432), (0, 432)])  # fmt: skip
    camera = CameraSettings(id="cam-corridor", url=str(clip), anchor="centre", zones=[zone])
    video = VideoSettings(cameras=[camera], snapshot_dir=settings.video.snapshot_dir)
    events = list(watch_camera(camera, video, clock=lambda: START, file_start=START))
    (loitering,) = [e for e in events if isinstance(e, Detection)]
    assert loitering.attributes["snapshot_file"]
    store = Store(settings.store.database_url())
    store.append_events(events)
    store.close()
    return loitering


def open_video(page: Page, server: str, user: str) -> None:
    sign_in(page, server, user)
    page.wait_for_selector("#tab-video:not([hidden])")
    page.click("#tab-video")
    page.wait_for_selector("#video-list li[data-detection-id]")


def snapshot_loaded(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => { const i = document.getElementById('video-snapshot');"
            " return !!i && i.complete && i.naturalWidth > 0; }"
        )
    )


def test_a_police_operator_sees_shaded_people_and_confirms_the_threat(
    page: Page, server: str, finding: Detection, settings: Settings, artifacts: Path
) -> None:
    open_video(page, server, "police")
    row = page.locator(f"#video-list li[data-detection-id='{finding.id}']")
    assert "loitering" in row.inner_text() and "TO REVIEW" in row.inner_text().upper()
    assert page.locator("#video-count").inner_text() == "1"
    row.locator("button").click()
    page.wait_for_selector("#video-snapshot")
    page.wait_for_function("() => document.getElementById('video-snapshot').naturalWidth > 0")
    image = page.locator("#video-snapshot")
    assert image.get_attribute("src", timeout=2000).endswith("?view=shaded")  # type: ignore[union-attr]
    assert "shaded boxes" in (image.get_attribute("alt") or "")
    # what the browser was sent is the shaded view, with no store in any cache
    answer = page.request.get(server + image.get_attribute("src"))  # type: ignore[operator]
    assert answer.headers["x-snapshot-view"] == "shaded"
    assert answer.headers["cache-control"] == "no-store"
    page.screenshot(path=str(artifacts / "cop-video-shaded.png"))

    page.fill("#video-note", "person collapsed by the table")
    page.select_option("#video-level", "red")
    page.click("#video-confirm")
    page.wait_for_selector(".video-confirmed")
    assert "Threat confirmed by police" in page.inner_text(".video-confirmed")
    assert "Threat confirmed" in page.inner_text("#notice")
    page.wait_for_function(
        "() => { const i = document.getElementById('video-snapshot');"
        " return i && i.src.endsWith('?view=blurred') && i.naturalWidth > 0; }"
    )
    assert page.locator("#video-count").inner_text() == "0"
    assert "CONFIRMED" in row.inner_text().upper()
    # the square's risk turns red: its alert reaches the Alerts panel live, and the finding
    page.wait_for_selector("#alerts li.level-red", state="attached", timeout=10_000)
    page.locator("#tab-video").click()
    row.locator("button").click()
    page.wait_for_selector(".video-confirmed li button", timeout=10_000)
    page.screenshot(path=str(artifacts / "cop-video-confirmed.png"))
    page.locator(".video-confirmed li button").first.click()  # to its alert
    assert (
        page.locator("#panel-alerts").is_visible() and not page.locator("#panel-video").is_visible()
    )
    assert page.locator("#alerts li[aria-selected='true'].level-red").count() == 1

    store = Store(settings.store.database_url())
    try:
        (audited,) = records(store, action="video.threat_confirmed")
    finally:
        store.close()
    assert audited.actor == "police" and audited.target == finding.id
    assert json.loads(audited.details)["note"] == "person collapsed by the table"


def test_a_city_operator_reviews_but_does_not_confirm(
    page: Page, server: str, finding: Detection
) -> None:
    open_video(page, server, "city")
    page.locator(f"#video-list li[data-detection-id='{finding.id}'] button").click()
    page.wait_for_selector("#video-snapshot")
    assert page.locator("#video-confirm").count() == 0
    assert "Police operators confirm threats" in page.inner_text("#video-detail")


def test_emergency_services_have_no_video_panel(
    page: Page, server: str, finding: Detection
) -> None:
    sign_in(page, server, "emergency")
    page.wait_for_timeout(300)
    assert page.locator("#tab-video").is_hidden()
    answer = page.request.get(server + "/api/v1/video/detections")
    assert answer.status == 403


def test_the_panel_takes_turns_with_the_others_by_click_and_key(
    page: Page, server: str, finding: Detection
) -> None:
    open_video(page, server, "police")
    assert page.locator("#panel-video").is_visible()
    assert page.locator("#panel-alerts").is_hidden()
    page.keyboard.press("1")
    assert page.locator("#panel-alerts").is_visible()
    page.wait_for_selector("#panel-video", state="hidden")
    assert page.locator("#tab-video").get_attribute("aria-selected") == "false"
    page.keyboard.press("5")
    page.wait_for_selector("#panel-video", state="visible")
    assert page.locator("#panel-alerts").is_hidden()
    page.click("#tab-spaces")
    page.wait_for_selector("#panel-video", state="hidden")
    assert page.locator("#panel-spaces").is_visible()
