"""Names of the snapshot files the video package writes, and the check that a name is one.

Each snapshot is two files in the snapshot folder: ``<name>.jpg``, people and faces blurred,
and ``<name>.shaded.jpg``, the same with every person covered by an opaque box. A Detection
names the first in its ``snapshot_file`` attribute; whoever serves the files resolves that name
with ``snapshot_files`` and never with a path of its own making.
"""

from __future__ import annotations

import re
from pathlib import Path

SHADED_SUFFIX = ".shaded.jpg"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,250}\.jpg")


def shaded_path(path: Path) -> Path:
    """The shaded view of the blurred snapshot at ``path``."""
    return path.with_name(path.name.removesuffix(".jpg") + SHADED_SUFFIX)


def snapshot_files(folder: Path, name: object) -> tuple[Path, Path] | None:
    """(blurred, shaded) files of the snapshot called ``name`` in ``folder``; None when the
    name is not one this package writes (a path, a hidden file, another type). Whether the
    files still exist is the caller's to check."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith(SHADED_SUFFIX):
        return None
    blurred = folder / name
    if blurred.parent != folder:  # belt and braces: the pattern admits no separator
        return None
    return blurred, shaded_path(blurred)
