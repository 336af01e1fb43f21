"""``python -m smartspaces.scenarios.valencia.derive``: write the shipped GeoJSON files from OSM."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smartspaces.config import ScenarioSettings
from smartspaces.scenarios.valencia.basemap import basemap_geojson
from smartspaces.scenarios.valencia.geometry import metric_polygon
from smartspaces.scenarios.valencia.layout import SQUARE_ID, layout_to_geojson
from smartspaces.scenarios.valencia.osm import read_osm
from smartspaces.scenarios.valencia.scenario import BASEMAP_FILE, SPACES_FILE, default_osm_path
from smartspaces.scenarios.valencia.streets import build_layout

PACKAGE_DIR = Path(__file__).resolve().parent


def _write(path: Path, doc: dict[str, Any]) -> int:
    # One feature per line: small diffs when the data changes, still compact.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in doc["features"]]
    head = {k: v for k, v in doc.items() if k != "features"}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    text += ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def derive(osm_path: Path, out_dir: Path) -> dict[str, int]:
    """Derive both files from ``osm_path`` into ``out_dir``; returns their sizes in bytes."""
    osm = read_osm(osm_path)
    layout = build_layout(osm)
    square = metric_polygon(layout.space(SQUARE_ID).geometry)
    return {
        SPACES_FILE: _write(out_dir / SPACES_FILE, layout_to_geojson(layout)),
        BASEMAP_FILE: _write(out_dir / BASEMAP_FILE, basemap_geojson(osm, square, osm_path.name)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Derive from ``<shared data>/valencia-geo/valencia-centre.osm`` into this package folder."""
    parser = argparse.ArgumentParser(
        description="Write valencia-spaces.geojson and valencia-basemap.geojson from the OSM "
        "export (run from the project root; --osm and --out override the paths)."
    )
    parser.add_argument("--osm", type=Path, default=default_osm_path(ScenarioSettings()))
    parser.add_argument("--out", type=Path, default=PACKAGE_DIR)
    args = parser.parse_args(argv)
    for name, size in derive(args.osm, args.out).items():
        print(f"wrote {args.out / name} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
