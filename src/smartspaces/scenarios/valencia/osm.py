"""Safe, pure parsing of OpenStreetMap XML (API 0.6 exports) into plain typed records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from smartspaces.scenarios.valencia.errors import ScenarioDataError, UnsafeXml

MAX_OSM_BYTES = 64 * 1024 * 1024
"""Largest export we read: the demo's file is 1.7 MB, a whole city district stays far below."""


@dataclass(frozen=True)
class OsmWay:
    """A way: its node ids in order and its tags."""

    id: int
    refs: tuple[int, ...]
    tags: Mapping[str, str]

    @property
    def closed(self) -> bool:
        return len(self.refs) >= 4 and self.refs[0] == self.refs[-1]


@dataclass(frozen=True)
class OsmMember:
    """One member of a relation."""

    type: str
    ref: int
    role: str


@dataclass(frozen=True)
class OsmRelation:
    """A relation: its members in order and its tags."""

    id: int
    members: tuple[OsmMember, ...]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class OsmData:
    """An OSM export: node positions (lon, lat), ways, relations, and the file's sha256."""

    nodes: Mapping[int, tuple[float, float]]
    ways: Mapping[int, OsmWay]
    relations: Mapping[int, OsmRelation]
    sha256: str = ""

    def coords(self, way: OsmWay) -> list[tuple[float, float]]:
        """The way's (lon, lat) points; a node missing from the export is an error, not a gap."""
        try:
            return [self.nodes[ref] for ref in way.refs]
        except KeyError as exc:
            raise ScenarioDataError(
                f"way {way.id} refers to node {exc} missing from the export"
            ) from exc


def _refuse_dtd(data: bytes) -> None:
    # libxml2 expands internal entities inside attribute values even with resolve_entities=False
    # (checked with lxml 6.1), so the only safe policy is the defusedxml one: no DTD at all.
    # OSM exports never carry one. UTF-16/32 would hide the markup from a byte scan: refuse them.
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")):
        raise UnsafeXml("OSM XML must be UTF-8")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXml("OSM XML with a DTD or entity declarations is refused")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _tags(element: etree._Element) -> dict[str, str]:
    return {str(t.get("k")): str(t.get("v", "")) for t in element.iterfind("tag")}


def parse_osm(data: bytes) -> OsmData:
    """Parse an OSM XML document (refusing DTDs, entities and oversized input)."""
    if len(data) > MAX_OSM_BYTES:
        raise UnsafeXml(f"OSM XML larger than {MAX_OSM_BYTES} bytes")
    _refuse_dtd(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ScenarioDataError(f"not well-formed OSM XML: {exc}") from exc
    if root.tag != "osm":
        raise ScenarioDataError(f"root element is <{root.tag}>, expected <osm>")
    nodes: dict[int, tuple[float, float]] = {}
    ways: dict[int, OsmWay] = {}
    relations: dict[int, OsmRelation] = {}
    try:
        for element in root.iterfind("node"):
            node_id = int(element.get("id", ""))
            nodes[node_id] = (float(element.get("lon", "")), float(element.get("lat", "")))
        for element in root.iterfind("way"):
            way_id = int(element.get("id", ""))
            refs = tuple(int(nd.get("ref", "")) for nd in element.iterfind("nd"))
            ways[way_id] = OsmWay(way_id, refs, _tags(element))
        for element in root.iterfind("relation"):
            members = tuple(
                OsmMember(str(m.get("type")), int(m.get("ref", "")), str(m.get("role", "")))
                for m in element.iterfind("member")
            )
            rel_id = int(element.get("id", ""))
            relations[rel_id] = OsmRelation(rel_id, members, _tags(element))
    except ValueError as exc:
        raise ScenarioDataError(f"bad id or coordinate in OSM XML: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    return OsmData(nodes, ways, relations, digest)


def read_osm(path: Path) -> OsmData:
    """Read and parse an OSM XML file, refusing one larger than ``MAX_OSM_BYTES``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_OSM_BYTES + 1)
    except OSError as exc:
        raise ScenarioDataError(f"cannot read {path}: {exc}") from exc
    return parse_osm(data)
