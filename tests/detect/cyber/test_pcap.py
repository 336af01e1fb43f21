"""pcap to flows: the real SSH capture, and damaged or hostile files fail clearly and cheaply."""

from __future__ import annotations

import io
import socket
import struct
import tracemalloc
from pathlib import Path

import dpkt  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.pcap import PcapFlowReader
from tests.detect.cyber.conftest import GIB, Zeros

SSH_PCAP = "test19-malicious-ssh/malicious-ssh-bruteforce.pcap"


def read(data: bytes | io.RawIOBase, **overrides: object) -> tuple[list[Flow], PcapFlowReader]:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    reader = PcapFlowReader(stream, CyberSettings(**overrides))  # type: ignore[arg-type]
    return list(reader.flows()), reader


def packet(src: str, dst: str, l4: dpkt.Packet, proto: int) -> bytes:
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=l4)
    ip.len = len(ip)
    frame = dpkt.ethernet.Ethernet(src=b"\x02\x00\x00\x00\x00\x01", dst=b"\x02" * 6, data=ip)
    return bytes(frame)


def tcp(sport: int, dport: int, flags: int, payload: bytes = b"") -> dpkt.Packet:
    return dpkt.tcp.TCP(sport=sport, dport=dport, flags=flags, data=payload)


def capture(packets: list[tuple[float, bytes]]) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out)
    for ts, data in packets:
        writer.writepkt(data, ts=ts)
    return out.getvalue()


def test_handshake_data_and_close_make_one_zeek_like_flow() -> None:
    a, b = "10.0.0.1", "10.0.0.2"
    syn, ack, fin, rst = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN, dpkt.tcp.TH_RST
    data = capture([
        (1.0, packet(a, b, tcp(5000, 22, syn), 6)),
        (1.1, packet(b, a, tcp(22, 5000, syn | ack), 6)),
        (1.2, packet(b, a, tcp(22, 5000, ack, b"SSH-2.0-OpenSSH\r\n"), 6)),
        (1.3, packet(a, b, tcp(5000, 22, fin | ack), 6)),
        (1.4, packet(b, a, tcp(22, 5000, fin | ack), 6)),
        (2.0, packet(a, b, tcp(5001, 23, syn), 6)),
        (2.1, packet(b, a, tcp(23, 5001, rst | ack), 6)),
    ])  # fmt: skip
    flows, reader = read(data)
    ssh, refused = sorted(flows, key=lambda f: f.ts)
    assert (ssh.src, ssh.dst, ssh.dport, ssh.conn_state, ssh.service) == (a, b, 22, "SF", "ssh")
    assert (ssh.orig_pkts, ssh.resp_pkts, ssh.resp_bytes) == (2, 3, 17)
    assert ssh.history == "ShdFf" and ssh.duration_s == pytest.approx(0.4)
    assert ssh.src_mac == "02:00:00:00:00:01"
    assert (refused.conn_state, refused.answered) == ("REJ", False)
    assert reader.stats.packets == 7 and reader.stats.skipped_packets == 0


def test_icmp_echo_and_reply_are_one_answered_flow() -> None:
    echo = dpkt.icmp.ICMP(type=8, code=0, data=dpkt.icmp.ICMP.Echo(id=1, seq=1))
    reply = dpkt.icmp.ICMP(type=0, code=0, data=dpkt.icmp.ICMP.Echo(id=1, seq=1))
    data = capture([(1.0, packet("10.0.0.1", "10.0.0.9", echo, 1)),
                    (1.1, packet("10.0.0.9", "10.0.0.1", reply, 1))])  # fmt: skip
    (ping,) = read(data)[0]
    assert (ping.proto, ping.sport, ping.resp_pkts, ping.answered) == ("icmp", 8, 1, True)


def test_real_ssh_capture_becomes_flows(slips_dir: Path) -> None:
    with (slips_dir / SSH_PCAP).open("rb") as stream:
        flows, reader = read(stream)  # type: ignore[arg-type]
    ssh = [f for f in flows if f.service == "ssh"]
    assert reader.stats.packets == 1178 and reader.stats.skipped_packets == 0
    assert len(ssh) >= 60
    assert {(f.src, f.dst, f.dport) for f in ssh} == {("147.32.80.40", "147.32.80.37", 902)}


def test_truncated_pcap_yields_what_it_read_then_a_clear_error(slips_dir: Path) -> None:
    whole = (slips_dir / SSH_PCAP).read_bytes()
    stream = PcapFlowReader(io.BytesIO(whole[: len(whole) // 2 + 7]), CyberSettings()).flows()
    got: list[Flow] = []
    with pytest.raises(FlowInputError, match=r"pcap truncated inside (the header of )?packet \d+"):
        got.extend(stream)
    assert len(got) > 20  # a partial capture still feeds the detectors


def test_a_gibibyte_of_zeros_is_refused_after_reading_its_header() -> None:
    zeros = Zeros()
    tracemalloc.start()
    with pytest.raises(FlowInputError, match="not a pcap file"):
        read(zeros)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert zeros.position <= 24 and peak < 1_000_000


def test_a_sparse_gibibyte_file_of_zeros_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "zeros.pcap"
    with path.open("wb") as out:
        out.truncate(GIB)  # sparse: no gibibyte is written to disk
    with path.open("rb") as stream, pytest.raises(FlowInputError, match="magic 00000000"):
        read(stream)  # type: ignore[arg-type]


def test_valid_header_then_zeros_is_bounded() -> None:
    # a header followed by zero-length records must not spin forever or allocate per record
    data = capture([]) + bytes(16 * 1000) + b"\x00" * 5
    with pytest.raises(FlowInputError, match="truncated inside the header of packet 1001"):
        read(data)


def test_absurd_captured_length_is_refused_before_reading_it() -> None:
    data = capture([]) + struct.pack("<IIII", 1, 0, 2**31, 2**31)
    with pytest.raises(FlowInputError, match="exceeds the limit"):
        read(data)


def test_pcapng_and_unknown_link_types_are_named() -> None:
    with pytest.raises(FlowInputError, match="pcapng is not supported"):
        read(b"\x0a\x0d\x0d\x0a" + bytes(40))
    header = bytearray(capture([]))
    header[20:24] = struct.pack("<I", 147)
    with pytest.raises(FlowInputError, match="link type 147"):
        read(bytes(header))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_garbage_packets_are_skipped_or_refused_never_a_crash(body: bytes) -> None:
    records = b"".join(
        struct.pack("<IIII", i, 0, len(chunk), len(chunk)) + chunk
        for i, chunk in enumerate(body[i : i + 64] for i in range(0, len(body), 64))
    )
    flows, reader = read(capture([]) + records)
    assert reader.stats.packets == (len(body) + 63) // 64


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_are_flows_or_a_clear_error(data: bytes) -> None:
    try:
        read(capture([]) + data)
    except FlowInputError as error:
        assert error.reason
