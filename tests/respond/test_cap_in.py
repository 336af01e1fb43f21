"""CAP in: real alerts from other agencies parse and round-trip; hostile or invalid ones do not."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from smartspaces.respond.alerts.cap_in import parse_cap
from smartspaces.respond.alerts.cap_xml import CapSchemas, safe_parser, to_bytes
from smartspaces.respond.alerts.errors import CapRejected
from tests.conftest import shared_data

pytestmark = pytest.mark.realdata

MINIMAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>ES-test-1</identifier><sender>%s</sender>
  <sent>2026-03-15T12:30:00+01:00</sent><status>Test</status><msgType>Alert</msgType>
  <scope>Public</scope>%s
</alert>"""


def minimal(sender: bytes = b"cecopal@valencia.example", extra: bytes = b"") -> bytes:
    return MINIMAL % (sender, extra)


def real_alerts() -> list[Path]:
    folder = shared_data("cap")
    return sorted([*folder.glob("examples/*.cap"), *folder.glob("testdata/*.cap")])


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback TCP port that records whether anyone connected."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    yield server
    server.close()


def nobody_connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_every_real_alert_parses_round_trips_and_revalidates(cap_schemas: CapSchemas) -> None:
    paths = real_alerts()
    assert len(paths) == 10
    versions = set()
    for path in paths:
        message = parse_cap(path.read_bytes(), cap_schemas)
        versions.add(message.version)
        again = to_bytes(message)
        assert cap_schemas.errors(etree.fromstring(again), message.version) == [], path.name
        assert parse_cap(again, cap_schemas) == message, path.name
    assert versions == {"1.1", "1.2"}


def test_what_the_real_alerts_say(cap_schemas: CapSchemas) -> None:
    folder = shared_data("cap")
    storm = parse_cap((folder / "examples" / "thunderstorm.cap").read_bytes(), cap_schemas)
    info = storm.infos[0]
    assert (info.event, info.urgency, info.response_types) == (
        "SEVERE THUNDERSTORM",
        "Immediate",
        ("Shelter",),
    )
    assert info.areas[0].polygons[0][0] == (38.47, -120.14)
    tsunami = parse_cap((folder / "testdata" / "wcatwc-warning.cap").read_bytes(), cap_schemas)
    assert tsunami.msg_type == "Update"
    ref = tsunami.references[0]
    assert (ref.sender, ref.identifier) == ("PAAQ", "PAAQ-1-lqw6d6")
    latin1 = (folder / "testdata" / "earthquake-iso8859-1.cap").read_bytes()
    assert b'encoding="ISO-8859-1"' in latin1
    quake = parse_cap(latin1, cap_schemas)
    assert quake.infos[0].event == "Earthquake"
    canada = parse_cap((folder / "testdata" / "canada.cap").read_bytes(), cap_schemas)
    assert canada.restriction == "" and canada.addresses == ""  # present but empty, kept so
    assert [i.language for i in canada.infos] == ["en-CA", "fr-CA"]


def test_xxe_is_refused_and_reads_no_file(cap_schemas: CapSchemas, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>'
    ).encode()
    with pytest.raises(CapRejected, match="DTD or entities"):
        parse_cap(xxe, cap_schemas)
    # and the parser alone, behind that check, would not have read the file either
    root = etree.fromstring(xxe, safe_parser())
    assert "TOP-SECRET" not in etree.tostring(root).decode()


def test_billion_laughs_is_refused(cap_schemas: CapSchemas) -> None:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY l0 "lol">{entities}]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&l9;</identifier></alert>'
    ).encode()
    with pytest.raises(CapRejected, match="DTD or entities"):
        parse_cap(bomb, cap_schemas)
    # and the parser alone, behind that check, either refuses it or leaves it unexpanded
    try:
        root = etree.fromstring(bomb, safe_parser())
    except etree.XMLSyntaxError as error:
        assert "amplification" in str(error)
    else:
        assert len(etree.tostring(root)) < 10_000


def test_external_dtd_is_refused_and_no_address_is_contacted(
    cap_schemas: CapSchemas, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:{port}/cap.dtd">'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>'
    ).encode()
    with pytest.raises(CapRejected, match="DTD"):
        parse_cap(doc, cap_schemas)
    etree.fromstring(doc, safe_parser())
    assert nobody_connected(listener)


def test_a_doctype_hidden_in_utf16_is_refused(cap_schemas: CapSchemas) -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    with pytest.raises(CapRejected, match="UTF-8"):
        parse_cap(doc.encode("utf-16"), cap_schemas)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (minimal(extra=b" " * 300_000), "over the 262144-byte limit"),
        (b"<alert", "not well-formed XML"),
        (b"<alert xmlns='urn:example'/>", "not a CAP alert"),
        (minimal(extra=b"<info/>"), "invalid CAP 1.2: line"),
        (minimal().replace(b"+01:00", b"Z"), "invalid CAP 1.2"),  # 1.2 wants a numeric offset
        (minimal(extra=b"<references>a,b</references>"), "not sender,identifier,sent"),
        (
            minimal(
                extra=b"<info><category>Geo</category><event>e</event>"
                b"<urgency>Past</urgency><severity>Minor</severity><certainty>Observed</certainty>"
                b"<area><areaDesc>x</areaDesc><polygon>1,2 3,4</polygon></area></info>"
            ),
            "not a closed ring",
        ),
    ],
)
def test_invalid_alerts_are_refused_with_the_reason(
    cap_schemas: CapSchemas, data: bytes, reason: str
) -> None:
    with pytest.raises(CapRejected, match=reason):
        parse_cap(data, cap_schemas)


def test_a_minimal_alert_parses(cap_schemas: CapSchemas) -> None:
    message = parse_cap(minimal(), cap_schemas)
    assert (message.identifier, message.status, message.infos) == ("ES-test-1", "Test", ())
    assert message.sent.utcoffset() is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000))
def test_fuzz_random_bytes_never_crash_the_parser(cap_schemas: CapSchemas, data: bytes) -> None:
    try:
        parse_cap(data, cap_schemas)
    except CapRejected:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    choice=st.integers(min_value=0, max_value=9),
    cut=st.integers(min_value=0, max_value=12_000),
    insert=st.text(max_size=40),
)
def test_fuzz_mutated_real_alerts_never_crash_the_parser(
    cap_schemas: CapSchemas, choice: int, cut: int, insert: str
) -> None:
    original = real_alerts()[choice].read_bytes()
    cut %= len(original) + 1
    mutated = original[:cut] + insert.encode() + original[cut:]
    try:
        message = parse_cap(mutated, cap_schemas)
    except CapRejected:
        return
    # whatever is accepted can be written back out validly
    assert cap_schemas.errors(etree.fromstring(to_bytes(message)), message.version) == []
