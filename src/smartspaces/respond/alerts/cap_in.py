"""CAP in: alerts from other agencies, refused unless small, DTD-free and schema-valid."""

# Every refusal is a ``CapRejected`` whose reason a sender can act on; nothing else escapes, so a
# caller can keep the input as a dead letter with that reason. No DTD is ever read, no entity
# expanded and no file or network address opened: a document that declares a DOCTYPE is refused
# before it reaches the parser, and the parser itself is built to ignore one anyway.

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from lxml import etree
from pydantic import ValidationError

from smartspaces.respond.alerts.cap_model import (
    VERSIONS,
    CapArea,
    CapCircle,
    CapInfo,
    CapMessage,
    CapReference,
    CapResource,
    LatLon,
    NamedValue,
)
from smartspaces.respond.alerts.cap_xml import CapSchemas, safe_parser
from smartspaces.respond.alerts.errors import CapRejected

MAX_REASON_ERRORS = 5
_T = TypeVar("_T")
_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
# UTF-16 and UTF-32 documents would hide a DOCTYPE from the byte check above; CAP is UTF-8.
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def parse_cap(data: bytes, schemas: CapSchemas, max_bytes: int = 262_144) -> CapMessage:
    """Parse and validate one CAP 1.0/1.1/1.2 alert; raises ``CapRejected`` with the reason."""
    if len(data) > max_bytes:
        raise CapRejected(f"CAP message of {len(data)} bytes is over the {max_bytes}-byte limit")
    if data.startswith(_WIDE_BOMS) or b"\x00" in data:
        raise CapRejected("CAP message must be UTF-8 or another ASCII-compatible encoding")
    if _DECLARATIONS.search(data):
        raise CapRejected(
            "CAP message declares a DTD or entities: refused (no DOCTYPE, ENTITY or other "
            "markup declarations are accepted, to rule out XXE and entity expansion)"
        )
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as error:
        raise CapRejected(f"not well-formed XML: {error}") from error
    except ValueError as error:  # e.g. an unknown encoding in the XML declaration
        raise CapRejected(f"unreadable XML: {error}") from error
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lacks DocInfo.doctype
    if docinfo.doctype:
        raise CapRejected("CAP message declares a DTD: refused")
    qname = etree.QName(root)
    version = VERSIONS.get(qname.namespace or "")
    if qname.localname != "alert" or version is None:
        known = ", ".join(sorted(VERSIONS))
        raise CapRejected(f"not a CAP alert: root is {root.tag}, expected alert in one of {known}")
    errors = schemas.errors(root, version)
    if errors:
        shown = "; ".join(errors[:MAX_REASON_ERRORS])
        more = f" (and {len(errors) - MAX_REASON_ERRORS} more)" if len(errors) > 5 else ""
        raise CapRejected(f"invalid CAP {version}: {shown}{more}")
    try:
        return _Reader(qname.namespace or "").message(root, version)
    except (ValidationError, ValueError) as error:
        raise CapRejected(f"invalid CAP {version} content: {_short(error)}") from error


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()[:5]
        )
    return str(error)


class _Reader:
    """Reads the elements of one CAP namespace into the typed model."""

    def __init__(self, ns: str) -> None:
        self.ns = ns

    def text(self, parent: etree._Element, name: str) -> str | None:
        child = parent.find(f"{{{self.ns}}}{name}")
        return None if child is None else (child.text or "")

    def texts(self, parent: etree._Element, name: str) -> tuple[str, ...]:
        return tuple(c.text or "" for c in parent.findall(f"{{{self.ns}}}{name}"))

    def enums(self, parent: etree._Element, name: str) -> Any:
        """Values of enumerated elements, typed by the model that validates them."""
        return self.texts(parent, name)

    def enum(self, parent: etree._Element, name: str) -> Any:
        return self.text(parent, name)

    def each(self, parent: etree._Element, name: str) -> list[etree._Element]:
        return parent.findall(f"{{{self.ns}}}{name}")

    def pairs(self, parent: etree._Element, name: str) -> tuple[NamedValue, ...]:
        return tuple(
            NamedValue(
                value_name=self.text(e, "valueName") or "", value=self.text(e, "value") or ""
            )
            for e in self.each(parent, name)
        )

    def message(self, root: etree._Element, version: Any) -> CapMessage:
        sent = _time(self.text(root, "sent"))
        return CapMessage(
            version=version,
            identifier=self.text(root, "identifier") or "",
            sender=self.text(root, "sender") or "",
            sent=sent,
            status=self.enum(root, "status"),
            msg_type=self.enum(root, "msgType"),
            source=self.text(root, "source"),
            scope=self.enum(root, "scope"),
            restriction=self.text(root, "restriction"),
            addresses=self.text(root, "addresses"),
            codes=self.texts(root, "code"),
            note=self.text(root, "note"),
            references=_references(self.text(root, "references") or ""),
            incidents=self.text(root, "incidents"),
            infos=tuple(self.info(e) for e in self.each(root, "info")),
        )

    def info(self, el: etree._Element) -> CapInfo:
        certainty = self.enum(el, "certainty")
        return CapInfo(
            language=self.text(el, "language"),
            categories=self.enums(el, "category"),
            event=self.text(el, "event") or "",
            response_types=self.enums(el, "responseType"),
            urgency=self.enum(el, "urgency"),
            severity=self.enum(el, "severity"),
            # CAP 1.0's "Very Likely" became "Likely" in CAP 1.1.
            certainty="Likely" if certainty == "Very Likely" else certainty,
            audience=self.text(el, "audience"),
            event_codes=self.pairs(el, "eventCode"),
            effective=_optional(self.text(el, "effective"), _time),
            onset=_optional(self.text(el, "onset"), _time),
            expires=_optional(self.text(el, "expires"), _time),
            sender_name=self.text(el, "senderName"),
            headline=self.text(el, "headline"),
            description=self.text(el, "description"),
            instruction=self.text(el, "instruction"),
            web=self.text(el, "web"),
            contact=self.text(el, "contact"),
            parameters=self.pairs(el, "parameter"),
            resources=tuple(self.resource(e) for e in self.each(el, "resource")),
            areas=tuple(self.area(e) for e in self.each(el, "area")),
        )

    def resource(self, el: etree._Element) -> CapResource:
        return CapResource(
            resource_desc=self.text(el, "resourceDesc") or "",
            mime_type=self.text(el, "mimeType") or "",
            size=_optional(self.text(el, "size"), int),
            uri=self.text(el, "uri"),
            deref_uri=self.text(el, "derefUri"),
            digest=self.text(el, "digest"),
        )

    def area(self, el: etree._Element) -> CapArea:
        return CapArea(
            area_desc=self.text(el, "areaDesc") or "",
            polygons=tuple(_polygon(t) for t in self.texts(el, "polygon")),
            circles=tuple(_circle(t) for t in self.texts(el, "circle")),
            geocodes=self.pairs(el, "geocode"),
            altitude=_optional(self.text(el, "altitude"), float),
            ceiling=_optional(self.text(el, "ceiling"), float),
        )


def _optional(text: str | None, convert: Callable[[str], _T]) -> _T | None:
    return None if text is None else convert(text.strip())


def _time(text: str | None) -> datetime:
    value = datetime.fromisoformat((text or "").strip())
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return value


def _point(token: str) -> LatLon:
    lat, lon = token.split(",")
    return float(lat), float(lon)


def _polygon(text: str) -> tuple[LatLon, ...]:
    ring = tuple(_point(t) for t in text.split())
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValueError(f"polygon {text[:80]!r} is not a closed ring of at least 4 points")
    return ring


def _circle(text: str) -> CapCircle:
    centre, radius = text.split()
    lat, lon = _point(centre)
    return CapCircle(lat=lat, lon=lon, radius_km=float(radius))


def _references(text: str) -> tuple[CapReference, ...]:
    refs = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) != 3:
            raise ValueError(f"reference {token[:120]!r} is not sender,identifier,sent")
        refs.append(CapReference(sender=parts[0], identifier=parts[1], sent=_time(parts[2])))
    return tuple(refs)
