"""Real public data from ../shared/data (SMARTSPACES_DATA overrides); skipped, with the reason
printed, where the folder is absent (an outside user's clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartspaces.config import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    folder = shared_data_dir()
    if not folder.is_dir():
        pytest.skip(f"real data folder {folder} is absent (set SMARTSPACES_DATA)")
    return folder
