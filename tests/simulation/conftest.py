"""The real València layout (the geometry shipped in the package) for the simulation tests."""

from __future__ import annotations

import pytest

from smartspaces.scenarios.valencia.layout import Layout
from smartspaces.scenarios.valencia.scenario import shipped_layout
from smartspaces.simulation.space import SimSpace, from_layout

SQUARE = "plaza-ayuntamiento"


@pytest.fixture(scope="session")
def layout() -> Layout:
    return shipped_layout()


@pytest.fixture(scope="session")
def square_space(layout: Layout) -> SimSpace:
    return from_layout(layout, SQUARE)
