"""CAP messages to XML (1.1 and 1.2, in the order the OASIS schemas want) and the schemas."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

from smartspaces.respond.alerts.cap_model import (
    NAMESPACES,
    CapArea,
    CapInfo,
    CapMessage,
    CapVersion,
    NamedValue,
    format_cap_time,
    format_circle,
    format_number,
    format_polygon,
    format_reference,
)
from smartspaces.respond.alerts.errors import AlertFormatError, CapSchemaMissing

CAP_MEDIA_TYPE = "application/cap+xml"
# Characters XML 1.0 cannot carry at all (C0 controls but tab, LF and CR; lone surrogates;
# U+FFFE and U+FFFF); free text from detectors may hold them, and lxml refuses such strings.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SCHEMA_FILES: dict[CapVersion, str] = {"1.0": "cap10.xsd", "1.1": "cap11.xsd", "1.2": "cap12.xsd"}


def safe_parser() -> etree.XMLParser:
    """The only way we parse XML: no DTD, no entities, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


class CapSchemas:
    """The OASIS CAP XML Schemas, one per namespace, loaded once from a folder."""

    def __init__(self, schemas: dict[CapVersion, etree.XMLSchema]) -> None:
        self._schemas = schemas

    @classmethod
    def from_dir(cls, folder: Path) -> CapSchemas:
        schemas: dict[CapVersion, etree.XMLSchema] = {}
        for version, name in SCHEMA_FILES.items():
            path = folder / name
            if not path.is_file():
                raise CapSchemaMissing(f"CAP {version} schema not found at {path}")
            schemas[version] = etree.XMLSchema(etree.parse(str(path), safe_parser()))
        return cls(schemas)

    def errors(self, root: etree._Element, version: CapVersion) -> list[str]:
        """What makes ``root`` invalid against its version's schema (empty when valid)."""
        schema = self._schemas[version]
        if schema.validate(root):
            return []
        # lxml-stubs types the error log as opaque; at run time it iterates over log entries.
        entries: Iterable[Any] = schema.error_log  # type: ignore[assignment]
        return [f"line {e.line}: {e.message}" for e in entries]


def render(message: CapMessage) -> etree._Element:
    """The message as an lxml element in its version's namespace (1.1 or 1.2)."""
    version = message.version
    if version == "1.0":
        # CAP 1.0 orders and names some elements differently; we read it but never write it.
        raise AlertFormatError("writing CAP 1.0 is not supported; write 1.2")
    ns = NAMESPACES[version]
    root = etree.Element(f"{{{ns}}}alert", nsmap={None: ns})  # type: ignore[dict-item]
    add = _Adder(ns)
    add.text(root, "identifier", message.identifier)
    add.text(root, "sender", message.sender)
    add.text(root, "sent", format_cap_time(message.sent, version))
    add.text(root, "status", message.status)
    add.text(root, "msgType", message.msg_type)
    add.text(root, "source", message.source)
    add.text(root, "scope", message.scope)
    add.text(root, "restriction", message.restriction)
    add.text(root, "addresses", message.addresses)
    for code in message.codes:
        add.text(root, "code", code)
    add.text(root, "note", message.note)
    if message.references:
        refs = " ".join(format_reference(r, version) for r in message.references)
        add.text(root, "references", refs)
    add.text(root, "incidents", message.incidents)
    for info in message.infos:
        _render_info(add, etree.SubElement(root, f"{{{ns}}}info"), info, version)
    return root


def to_bytes(message: CapMessage) -> bytes:
    """The message as a UTF-8 XML document."""
    return etree.tostring(
        render(message), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


class _Adder:
    """Appends namespaced children, skipping absent optional values."""

    def __init__(self, ns: str) -> None:
        self.ns = ns

    def text(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            etree.SubElement(parent, f"{{{self.ns}}}{name}").text = _NOT_XML.sub("\ufffd", value)

    def pairs(self, parent: etree._Element, name: str, values: tuple[NamedValue, ...]) -> None:
        for item in values:
            element = etree.SubElement(parent, f"{{{self.ns}}}{name}")
            self.text(element, "valueName", item.value_name)
            self.text(element, "value", item.value)


def _render_info(add: _Adder, info_el: etree._Element, info: CapInfo, version: CapVersion) -> None:
    add.text(info_el, "language", info.language)
    for category in info.categories:
        add.text(info_el, "category", category)
    add.text(info_el, "event", info.event)
    for response in info.response_types:
        add.text(info_el, "responseType", response)
    add.text(info_el, "urgency", info.urgency)
    add.text(info_el, "severity", info.severity)
    add.text(info_el, "certainty", info.certainty)
    add.text(info_el, "audience", info.audience)
    add.pairs(info_el, "eventCode", info.event_codes)
    for name in ("effective", "onset", "expires"):
        when = getattr(info, name)
        add.text(info_el, name, None if when is None else format_cap_time(when, version))
    for name, tag in (
        ("sender_name", "senderName"),
        ("headline", "headline"),
        ("description", "description"),
        ("instruction", "instruction"),
        ("web", "web"),
        ("contact", "contact"),
    ):
        add.text(info_el, tag, getattr(info, name))
    add.pairs(info_el, "parameter", info.parameters)
    for resource in info.resources:
        res_el = etree.SubElement(info_el, f"{{{add.ns}}}resource")
        add.text(res_el, "resourceDesc", resource.resource_desc)
        add.text(res_el, "mimeType", resource.mime_type)
        add.text(res_el, "size", None if resource.size is None else str(resource.size))
        add.text(res_el, "uri", resource.uri)
        add.text(res_el, "derefUri", resource.deref_uri)
        add.text(res_el, "digest", resource.digest)
    for area in info.areas:
        _render_area(add, etree.SubElement(info_el, f"{{{add.ns}}}area"), area)


def _render_area(add: _Adder, area_el: etree._Element, area: CapArea) -> None:
    add.text(area_el, "areaDesc", area.area_desc)
    for ring in area.polygons:
        add.text(area_el, "polygon", format_polygon(ring))
    for circle in area.circles:
        add.text(area_el, "circle", format_circle(circle))
    add.pairs(area_el, "geocode", area.geocodes)
    for name in ("altitude", "ceiling"):
        value = getattr(area, name)
        add.text(area_el, name, None if value is None else format_number(value))
