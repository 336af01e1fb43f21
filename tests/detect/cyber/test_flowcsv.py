"""argus / NetFlow-style flow CSV: header-driven columns, argus states, bad input, properties."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flowcsv import read_flow_csv, zeek_state
from smartspaces.detect.cyber.flows import UNANSWERED_STATES as UNANSWERED
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.network import NetworkDetectors
from tests.detect.cyber.conftest import NOW

# the column layout of the CTU-13 binetflow files (argus 'ra -c ,'), with argus's own states
ARGUS_HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,"
ARGUS_HEADER += "TotBytes,SrcBytes,Label\n"


def read(text: str, **kwargs: int) -> list[Flow]:
    return list(read_flow_csv(io.BytesIO(text.encode()), **kwargs))


def test_argus_rows_become_flows_with_zeek_states_and_derived_responder_counts() -> None:
    text = ARGUS_HEADER + (
        "2011/08/10 09:46:53.047277,3.1,tcp,147.32.84.165,1040,   ->,60.190.222.139,22,"
        "FSPA_FSPA,0,0,20,4000,1500,flow=Background\n"
        "2011/08/10 09:46:54.000000,0,tcp,147.32.84.165,1041,   ->,60.190.222.140,445,S_RA,"
        "0,0,2,120,60,flow=Background\n"
        "2011/08/10 09:46:55.000000,0,icmp,147.32.84.165,0x0008,   ->,147.32.84.1,0x0000,"
        "ECO,0,,1,98,98,flow=Background\n"
    )
    ssh, refused, ping = read(text)
    assert (ssh.src, ssh.sport, ssh.dst, ssh.dport, ssh.proto) == (
        "147.32.84.165",
        1040,
        "60.190.222.139",
        22,
        "tcp",
    )
    assert ssh.ts == pytest.approx(1312969613.047277)  # no zone in argus output: UTC
    assert (ssh.conn_state, ssh.orig_bytes, ssh.resp_bytes) == ("SF", 1500, 2500)
    assert ssh.answered and not refused.answered and refused.conn_state == "REJ"
    assert (ping.sport, ping.dport, ping.proto) == (8, 0, "icmp")


def test_nfdump_csv_with_protocol_numbers_and_iso_times() -> None:
    text = (
        "ts,te,td,sa,da,sp,dp,pr,flg,ipkt,ibyt,opkt,obyt\n"
        "2024-05-01 10:00:00,2024-05-01 10:00:01,1.0,10.0.0.5,10.0.0.9,50000,23,6,....S.,1,60,"
        "0,0\n"
    )
    (probe,) = read(text)
    assert (probe.proto, probe.dport, probe.orig_pkts, probe.resp_pkts) == ("tcp", 23, 1, 0)
    assert not probe.answered  # no state column: nothing came back, so not answered


def test_a_horizontal_scan_in_an_argus_export_is_detected() -> None:
    rows = "".join(
        f"2011/08/10 10:00:{i:02d}.0,0,tcp,147.32.84.165,{40000 + i},   ->,147.32.80.{i},80,"
        f"S_,0,,1,62,62,flow=From-Botnet\n"
        for i in range(1, 8)
    )
    found = NetworkDetectors(CyberSettings(), AssetMap()).run(read(ARGUS_HEADER + rows), NOW)
    assert [d.detection_type for d in found] == ["cyber.horizontal_port_scan"]
    assert found[0].summary.startswith("Horizontal port scan: 147.32.84.165 probed 80/tcp")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("StartTime,SrcAddr,DstAddr\n", r"line 1: header lacks required column\(s\) \(proto"),
        ("ts,sa,da,pr,dp\n1,a,b,tcp,99999\n", "line 2: port 99999 out of range"),
        ("ts,sa,da,pr\nyesterday,a,b,tcp\n", "line 2: start time 'yesterday' is neither"),
        ("ts,sa,da,pr,ibyt\n1,a,b,tcp,-5\n", "line 2: count '-5' out of range"),
        ("ts,sa,da,pr,td\n1,a,b,tcp,nan\n", "line 2: duration 'nan'"),
        ("ts,sa,da,pr\n1,a\n", "line 2: 2 columns, fewer than the header"),
    ],
)
def test_bad_rows_are_clear_errors_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(FlowInputError, match=message):
        read(text)


def test_non_utf8_and_overlong_lines_are_refused() -> None:
    with pytest.raises(FlowInputError, match=r"flow CSV line 2: not UTF-8"):
        list(read_flow_csv(io.BytesIO(b"ts,sa,da,pr\n1,\xff,b,tcp\n")))
    with pytest.raises(FlowInputError, match="longer than 1024 bytes"):
        read("ts,sa,da,pr\n" + "1," * 5_000_000, max_line_bytes=1024)


@pytest.mark.parametrize(
    ("state", "proto", "zeek"),
    [("S_RA", "tcp", "REJ"), ("S_", "tcp", "S0"), ("SR_SA", "tcp", "S1"),
     ("FSPA_FSPA", "tcp", "SF"), ("CON", "udp", "SF"), ("INT", "udp", "S0"),
     ("REJ", "tcp", "REJ"), ("", "tcp", "")],
)  # fmt: skip
def test_argus_states_in_zeek_terms(state: str, proto: str, zeek: str) -> None:
    assert zeek_state(state, proto) == zeek


flows = st.builds(
    Flow,
    ts=st.floats(0, 4e9, allow_nan=False).map(lambda t: round(t, 6)),
    src=st.ip_addresses().map(str), sport=st.integers(0, 65535),
    dst=st.ip_addresses().map(str), dport=st.integers(0, 65535),
    proto=st.sampled_from(["tcp", "udp", "icmp"]),
    duration_s=st.floats(0, 1e5, allow_nan=False).map(lambda t: round(t, 6)),
    orig_bytes=st.integers(0, 2**40), resp_bytes=st.integers(0, 2**40),
    orig_pkts=st.integers(0, 2**32), resp_pkts=st.integers(0, 2**32),
    conn_state=st.sampled_from(["S0", "SF", "REJ", "RSTO", "OTH"]),
    service=st.just(""), history=st.just(""), src_mac=st.just(""), uid=st.just(""),
).map(
    # a TCP connection that never completed its handshake carried no payload (see flowcsv)
    lambda f: f._replace(resp_bytes=0) if f.proto == "tcp" and f.conn_state in UNANSWERED else f
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(flows, max_size=20), st.permutations(list(range(12))))
def test_any_column_order_round_trips(original: list[Flow], order: list[int]) -> None:
    names = ["stime", "saddr", "sport", "daddr", "dport", "proto", "dur", "sbytes", "dbytes",
             "spkts", "dpkts", "state"]  # fmt: skip
    header = ",".join(names[i] for i in order)
    rows = [",".join(str(f[i]) if i != 0 else f"{f.ts:.6f}" for i in order) for f in original]
    assert read("\n".join([header.upper(), *rows]) + "\n") == original


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_flows_or_a_clear_error(data: bytes) -> None:
    try:
        for parsed in read_flow_csv(io.BytesIO(b"ts,sa,da,pr,sp,dp\n" + data), 1024):
            assert isinstance(parsed, Flow)
    except FlowInputError as error:
        assert error.reason
