"""Zeek conn.log parsing: TSV and JSON lines, odd columns, bad bytes, and property tests."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.zeek import read_conn_log
from tests.detect.cyber.conftest import Zeros

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
)
FIELDS = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
    "duration", "orig_bytes", "resp_bytes", "conn_state", "history", "orig_pkts", "resp_pkts",
]  # fmt: skip


def tsv(fields: list[str], rows: list[list[str]]) -> io.BytesIO:
    text = HEADER + "#fields\t" + "\t".join(fields) + "\n"
    text += "".join("\t".join(row) + "\n" for row in rows)
    return io.BytesIO(text.encode())


ROW = ["928.9", "Cx1", "10.0.2.112", "49168", "1.2.3.4", "80", "tcp", "-", "-", "-", "-"]
ROW += ["S0", "S", "1", "0"]


def test_tsv_row_becomes_a_flow_with_unset_fields_defaulted() -> None:
    (parsed,) = read_conn_log(tsv(FIELDS, [ROW]))
    assert parsed == Flow(
        ts=928.9, src="10.0.2.112", sport=49168, dst="1.2.3.4", dport=80, proto="tcp",
        conn_state="S0", history="S", orig_pkts=1, uid="Cx1",
    )  # fmt: skip
    assert not parsed.answered


def test_unknown_extra_columns_are_tolerated() -> None:
    fields = [*FIELDS, "orig_l2_addr", "community_id", "some_future_field"]
    (parsed,) = read_conn_log(tsv(fields, [[*ROW, "aa:bb:cc:dd:ee:ff", "1:abc", "x"]]))
    assert parsed.src_mac == "aa:bb:cc:dd:ee:ff"


def test_missing_required_column_is_a_clear_error() -> None:
    fields = [f for f in FIELDS if f != "id.resp_p"]
    with pytest.raises(
        FlowInputError, match=r"line 6: #fields lacks required column\(s\) id.resp_p"
    ):
        list(read_conn_log(tsv(fields, [])))


def test_short_row_and_bad_number_name_the_line() -> None:
    with pytest.raises(FlowInputError, match="line 8: 3 columns"):
        list(read_conn_log(tsv(FIELDS, [ROW, ROW[:3]])))
    with pytest.raises(FlowInputError, match="line 8: port 70000 out of range"):
        list(read_conn_log(tsv(FIELDS, [ROW, [*ROW[:3], "70000", *ROW[4:]]])))


def test_non_utf8_bytes_are_a_clear_error() -> None:
    data = tsv(FIELDS, [ROW]).getvalue() + b"929.0\tC\xff\xfe\n"
    with pytest.raises(FlowInputError, match=r"line 8: not UTF-8 \(byte 7: 0xff\)"):
        list(read_conn_log(io.BytesIO(data)))


def test_overlong_line_and_binary_are_refused_without_reading_it_all() -> None:
    with pytest.raises(FlowInputError, match="longer than 1024 bytes"):
        list(read_conn_log(io.BytesIO(b"{" + b"a" * 5_000_000), max_line_bytes=1024))
    with pytest.raises(FlowInputError, match="NUL bytes"):
        list(read_conn_log(io.BytesIO(b"\x00" * 100)))


def test_json_lines_with_iso_timestamps_and_extra_keys() -> None:
    record = {
        "ts": "2023-11-24T12:16:57.314Z", "id.orig_h": "192.168.1.9", "id.orig_p": 1,
        "id.resp_h": "45.33.32.156", "id.resp_p": 443, "proto": "tcp", "conn_state": "REJ",
        "orig_l2_addr": "c4:23:60:3d:fd:d3", "new_field": [1],
    }  # fmt: skip
    (parsed,) = read_conn_log(io.BytesIO(json.dumps(record).encode() + b"\n\n"))
    assert parsed.ts == pytest.approx(1700828217.314)
    assert parsed.src_mac == "c4:23:60:3d:fd:d3"


VALID = (
    b'{"ts": 1, "id.orig_h": "a", "id.orig_p": 1, "id.resp_h": "b", "id.resp_p": 2, "proto": "tcp"}'
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"ts": 1}', "missing id.orig_h"),
        (VALID + b"\n[1, 2]", "line 2: a JSON object was expected"),
        (b'{"ts": 1, "id.orig_h', "invalid JSON"),
        (b"hello", "neither a Zeek TSV header"),
        (
            b'{"ts": true, "id.orig_h": "a", "id.orig_p": 1, "id.resp_h": "b", "id.resp_p": 2,'
            b' "proto": "tcp"}',
            "ts must be a number",
        ),
    ],
)
def test_bad_json_lines_are_clear_errors(line: bytes, message: str) -> None:
    with pytest.raises(FlowInputError, match=message):
        list(read_conn_log(io.BytesIO(line)))


addresses = st.ip_addresses().map(str)
flows = st.builds(
    Flow,
    ts=st.floats(0, 4e9, allow_nan=False).map(lambda t: round(t, 6)),
    src=addresses, sport=st.integers(0, 65535), dst=addresses, dport=st.integers(0, 65535),
    proto=st.sampled_from(["tcp", "udp", "icmp"]),
    duration_s=st.floats(0, 1e5, allow_nan=False).map(lambda t: round(t, 6)),
    orig_bytes=st.integers(0, 2**40), resp_bytes=st.integers(0, 2**40),
    orig_pkts=st.integers(0, 2**32), resp_pkts=st.integers(0, 2**32),
    conn_state=st.sampled_from(["S0", "SF", "REJ", "RSTO", "OTH"]),
    service=st.sampled_from(["", "ssh", "http,ssl"]),
    history=st.text("ShADadFfRr", max_size=10),
    uid=st.text("ABCDEFabcdef0123456789", min_size=1, max_size=18),
    src_mac=st.just(""),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(flows, max_size=20))
def test_tsv_and_json_round_trip(original: list[Flow]) -> None:
    fields = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto",
              "service", "duration", "orig_bytes", "resp_bytes", "conn_state", "history",
              "orig_pkts", "resp_pkts"]  # fmt: skip
    rows = [[f"{f.ts:.6f}", f.uid, f.src, str(f.sport), f.dst, str(f.dport), f.proto,
             f.service or "-", f"{f.duration_s:.6f}", str(f.orig_bytes), str(f.resp_bytes),
             f.conn_state, f.history or "(empty)", str(f.orig_pkts), str(f.resp_pkts)]
            for f in original]  # fmt: skip
    assert list(read_conn_log(tsv(fields, rows))) == original
    names = dict(zip(["ts", "uid", "src", "sport", "dst", "dport"], fields[:6], strict=True))
    records = [{names.get(k, k): v for k, v in f._asdict().items() if v != ""} for f in original]
    lines = [json.dumps(record) for record in records]
    stream = io.BytesIO("\n".join(lines).encode())
    parsed = list(read_conn_log(stream))
    assert [(p.src, p.dport, p.orig_bytes, p.history) for p in parsed] == [
        (f.src, f.dport, f.orig_bytes, f.history) for f in original
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_flows_or_a_clear_error(data: bytes) -> None:
    try:
        for parsed in read_conn_log(io.BytesIO(data), max_line_bytes=1024):
            assert isinstance(parsed, Flow)
    except FlowInputError as error:
        assert error.reason


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=len(FIELDS)))
def test_any_tsv_row_gives_a_flow_or_a_clear_error(row: list[str]) -> None:
    clean = [cell.replace("\t", " ").replace("\n", " ").replace("\r", " ") for cell in row]
    try:
        list(read_conn_log(tsv(FIELDS, [clean])))
    except FlowInputError as error:
        assert "line 7" in error.reason


def test_column_and_row_paths_agree_and_markers_read_as_defaults() -> None:
    rows = [[f"{900 + i}.5", f"C{i}", "10.0.0.1", str(40000 + i), f"10.0.1.{i}", "80", "tcp",
             "-" if i % 2 else "http", "-" if i % 3 else "0.25", "(empty)" if i % 4 else "12",
             "-", "S0", "S", "1", "0"] for i in range(50)]  # fmt: skip
    clean = list(read_conn_log(tsv(FIELDS, rows)))  # one chunk, converted column at a time
    # an empty line sends the chunk down the row-at-a-time path, which skips it
    with_blank = tsv(FIELDS, rows).getvalue().replace(b"\n920.5", b"\n\n920.5")
    assert list(read_conn_log(io.BytesIO(with_blank))) == clean
    assert (clean[0].service, clean[0].duration_s, clean[0].orig_bytes) == ("http", 0.25, 12)
    assert (clean[1].service, clean[1].duration_s, clean[1].orig_bytes) == ("", 0.0, 0)


def test_flows_before_a_bad_row_in_the_same_chunk_are_yielded_first() -> None:
    rows = [ROW, ROW, [*ROW[:3], "-1", *ROW[4:]], ROW]
    got: list[Flow] = []
    with pytest.raises(FlowInputError, match="line 9: port -1 out of range"):
        got.extend(read_conn_log(tsv(FIELDS, rows)))
    assert len(got) == 2


def test_a_gibibyte_of_zeros_offered_as_a_conn_log_is_refused_after_one_chunk() -> None:
    zeros = Zeros()  # produced on demand, never stored
    tracemalloc.start()
    with pytest.raises(FlowInputError, match="conn.log line 1: longer than 65536 bytes"):
        list(read_conn_log(zeros))  # type: ignore[arg-type]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert zeros.position <= 1 << 20 and peak < 4_000_000
