"""Options the ``smartspaces`` command groups share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (else SMARTSPACES_CONFIG)")
]
