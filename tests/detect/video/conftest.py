"""The Intel corridor sample video, and its people counted by hand.

Ground truth (watched frame by frame in 10-frame steps, 10 fps): six people, one at a time,
come in from the lower left, stand with their back to the camera in front of the table, and
leave by the right edge. First frame each is visible and the first frame they are gone:
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smartspaces.config import shared_data_dir

SAMPLE = "intel-sample-videos/one-by-one-person-detection.mp4"

PEOPLE_FRAMES = [(70, 200), (230, 450), (510, 700), (750, 870), (930, 1200), (1240, 1380)]
"""(first visible, gone) frame numbers of each of the six people, +-10 frames."""


@pytest.fixture(scope="session")
def sample_video() -> Path:
    path = shared_data_dir() / SAMPLE
    if not path.is_file():
        pytest.skip(f"real data {path} is absent (set SMARTSPACES_DATA)")
    return path
