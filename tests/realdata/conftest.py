"""Real public data from ../shared/data (SMARTSPACES_DATA overrides); skipped, with the reason
printed, where the folder is absent (an outside user's clone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import shared_data as data_path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    folder = data_path()
    return folder
