"""OSM parsing: well-formed exports parse, hostile XML (DTDs, entities) is refused unexpanded."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Polygon

from smartspaces.config import ScenarioSettings
from smartspaces.errors import RejectedInput
from smartspaces.scenarios.valencia import ValenciaScenario
from smartspaces.scenarios.valencia.errors import ScenarioDataError, UnsafeXml
from smartspaces.scenarios.valencia.geometry import multipolygon
from smartspaces.scenarios.valencia.osm import MAX_OSM_BYTES, parse_osm, read_osm

NODES = "".join(
    f'<node id="{i}" lat="{lat}" lon="{lon}"/>'
    for i, (lon, lat) in enumerate(
        [
            (-0.3770, 39.4690),
            (-0.3750, 39.4690),
            (-0.3750, 39.4710),
            (-0.3770, 39.4710),
            (-0.3765, 39.4695),
            (-0.3755, 39.4695),
            (-0.3755, 39.4705),
            (-0.3765, 39.4705),
        ],
        start=1,
    )
)
SQUARE_OSM = f"""<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">{NODES}
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/></way>
 <way id="11"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="amenity" v="fountain"/></way>
 <relation id="20"><member type="way" ref="10" role="outer"/>
  <member type="way" ref="11" role="outer"/>
  <tag k="type" v="multipolygon"/><tag k="highway" v="pedestrian"/>
  <tag k="name" v="Plaça de l'Ajuntament"/></relation>
</osm>""".encode()


def test_parses_nodes_ways_relations_and_hash() -> None:
    osm = parse_osm(SQUARE_OSM)
    assert len(osm.nodes) == 8
    assert osm.ways[10].closed and osm.ways[11].tags == {"amenity": "fountain"}
    assert osm.relations[20].tags["name"] == "Plaça de l'Ajuntament"
    assert len(osm.sha256) == 64


def test_nested_outer_ring_is_a_hole() -> None:
    # Both rings say "outer"; the inner one must still come out as a hole (even-odd nesting).
    osm = parse_osm(SQUARE_OSM)
    area = multipolygon(osm, osm.relations[20])
    assert area.is_valid
    assert len(area.interiors) == 1
    # The inner ring spans half the outer's width and height: a quarter of its area is the hole.
    assert area.area == pytest.approx(Polygon(area.exterior).area * 0.75, rel=0.01)


INTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE osm [<!ENTITY name "EXPANDED">]>
<osm version="0.6"><node id="1" lat="39.47" lon="-0.37"><tag k="name" v="&name;"/></node></osm>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE osm [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<osm version="0.6"><node id="1" lat="39.47" lon="-0.37"><tag k="name" v="&secret;"/></node></osm>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE osm [
 <!ENTITY a "lollollollollollollollollollol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<osm version="0.6"><node id="1" lat="39.47" lon="-0.37"><tag k="name" v="&d;"/></node></osm>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE osm SYSTEM "http://example.invalid/osm.dtd">
<osm version="0.6"><node id="1" lat="39.47" lon="-0.37"/></osm>"""


@pytest.mark.parametrize(
    "document",
    [INTERNAL_ENTITY, EXTERNAL_ENTITY, BILLION_LAUGHS, EXTERNAL_DTD],
    ids=["internal-entity", "external-entity", "billion-laughs", "external-dtd"],
)
def test_dtd_and_entities_are_refused(document: bytes) -> None:
    with pytest.raises(UnsafeXml) as caught:
        parse_osm(document)
    assert isinstance(caught.value, RejectedInput)
    assert "DTD" in caught.value.reason


def test_refused_file_is_not_expanded_on_disk_either(tmp_path: Path) -> None:
    path = tmp_path / "hostile.osm"
    path.write_bytes(INTERNAL_ENTITY)
    with pytest.raises(UnsafeXml):
        read_osm(path)


def test_utf16_is_refused() -> None:
    # A UTF-16 document would hide "<!DOCTYPE" from the byte scan: it is refused outright.
    with pytest.raises(UnsafeXml):
        parse_osm(
            INTERNAL_ENTITY.decode()
            .replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1)
            .encode("utf-16")
        )


def test_oversized_input_is_refused() -> None:
    with pytest.raises(UnsafeXml):
        parse_osm(b" " * (MAX_OSM_BYTES + 1))


@pytest.mark.parametrize(
    "document",
    [
        b"<osm><node id='1' lat='39.4' lon='-0.3'>",
        b"<gpx/>",
        b"<osm><node id='x' lat='39.4' lon='-0.3'/></osm>",
    ],
    ids=["truncated", "not-osm", "bad-id"],
)
def test_malformed_osm_is_a_data_error(document: bytes) -> None:
    with pytest.raises(ScenarioDataError):
        parse_osm(document)


def test_way_with_missing_node_is_a_data_error() -> None:
    osm = parse_osm(b"<osm><way id='1'><nd ref='99'/><nd ref='98'/></way></osm>")
    with pytest.raises(ScenarioDataError, match="node"):
        osm.coords(osm.ways[1])


def test_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioDataError):
        read_osm(tmp_path / "missing.osm")


def test_scenario_refuses_a_hostile_shared_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A planted export must stop the scenario, not be expanded nor silently replaced.
    (tmp_path / "valencia-geo").mkdir()
    (tmp_path / "valencia-geo" / "valencia-centre.osm").write_bytes(BILLION_LAUGHS)
    monkeypatch.setenv("SMARTSPACES_DATA", str(tmp_path))
    with pytest.raises(UnsafeXml):
        ValenciaScenario(ScenarioSettings())
