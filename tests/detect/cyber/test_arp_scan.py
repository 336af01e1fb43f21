"""ARP scans from pcap (and argus flows): a sweep of a camera VLAN is found, ordinary ARP is not."""

from __future__ import annotations

import io
import socket

import dpkt  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.arpscan import NO_ADDRESS
from smartspaces.detect.cyber.assets import AssetMap, asset_map_from_dict
from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flowcsv import read_flow_csv
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.network import NetworkDetectors
from smartspaces.detect.cyber.pcap import PcapFlowReader
from smartspaces.events import Detection, Level
from tests.detect.cyber.conftest import NOW

BROADCAST = b"\xff" * 6
SCANNER_MAC = bytes.fromhex("0242ac1100ee")
GATEWAY_MAC = bytes.fromhex("00005e000101")
T0 = 1_773_576_000.0
ASSETS = {
    "segments": [{"id": "cctv-vlan", "network": "10.20.0.0/24", "protected": True,
                  "spaces": ["plaza-ayuntamiento"]}],
    "devices": [
        {"id": "gateway", "address": "10.20.0.1", "mac": "00:00:5e:00:01:01"},
        {"id": "laptop", "address": "10.20.0.66", "mac": "02:42:ac:11:00:ee"},
        *({"id": f"staff-{i}", "address": f"10.20.0.{i}"} for i in range(100, 125)),
        *({"id": f"camera-{i}", "address": f"10.20.0.{i}", "asset_id": "cctv",
           "mac": f"02:00:00:00:00:{i:02x}"} for i in range(10, 40)),
    ],
    "assets": [{"id": "cctv", "name": "CCTV of the square", "spaces": ["plaza-ayuntamiento"]}],
}  # fmt: skip


def arp(op: int, sender_mac: bytes, sender_ip: str, target_ip: str, to: bytes) -> bytes:
    message = dpkt.arp.ARP(
        op=op, sha=sender_mac, spa=socket.inet_aton(sender_ip),
        tha=b"\x00" * 6 if op == dpkt.arp.ARP_OP_REQUEST else to,
        tpa=socket.inet_aton(target_ip),
    )  # fmt: skip
    frame = dpkt.ethernet.Ethernet(src=sender_mac, dst=to, type=dpkt.ethernet.ETH_TYPE_ARP,
                                   data=message)  # fmt: skip
    return bytes(frame)


def camera_mac(i: int) -> bytes:
    return bytes.fromhex(f"0200000000{i:02x}")


def capture(packets: list[tuple[float, bytes]]) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out)
    for ts, data in sorted(packets, key=lambda p: p[0]):
        writer.writepkt(data, ts=ts)
    return out.getvalue()


def ordinary_lan(minutes: int = 10) -> list[tuple[float, bytes]]:
    """A camera VLAN's everyday ARP: every camera asks for its gateway and gets the answer,
    the gateway looks up 25 staff devices (a few gone), a camera announces itself after a
    reboot (gratuitous ARP) and a new DHCP client probes its address (RFC 5227)."""
    request, reply = dpkt.arp.ARP_OP_REQUEST, dpkt.arp.ARP_OP_REPLY
    packets: list[tuple[float, bytes]] = []
    for minute in range(minutes):
        for i in range(10, 40):
            t = T0 + minute * 60 + i * 0.7
            packets.append((t, arp(request, camera_mac(i), f"10.20.0.{i}", "10.20.0.1",
                                   BROADCAST)))  # fmt: skip
            packets.append((t + 0.001, arp(reply, GATEWAY_MAC, "10.20.0.1", f"10.20.0.{i}",
                                           camera_mac(i))))  # fmt: skip
        for i in range(100, 125):  # the gateway looks up 25 staff devices every minute
            t = T0 + minute * 60 + 30 + (i - 100) * 0.5
            packets.append((t, arp(request, GATEWAY_MAC, "10.20.0.1", f"10.20.0.{i}",
                                   BROADCAST)))  # fmt: skip
            if i % 5:  # some have left: their lookups go unanswered
                packets.append((t + 0.001, arp(reply, camera_mac(i), f"10.20.0.{i}",
                                               "10.20.0.1", GATEWAY_MAC)))  # fmt: skip
    packets.append((T0 + 5, arp(request, camera_mac(12), "10.20.0.12", "10.20.0.12",
                                BROADCAST)))  # gratuitous  # fmt: skip
    for k in range(3):
        packets.append((T0 + 7 + k, arp(request, bytes.fromhex("02aabbccddee"), NO_ADDRESS,
                                        f"10.20.0.{200 + k}", BROADCAST)))  # probes  # fmt: skip
    return packets


def arp_sweep(start: float) -> list[tuple[float, bytes]]:
    """arp-scan --localnet from the laptop: every address of the /24 asked once, 5 ms apart;
    the 30 cameras and the gateway answer."""
    packets: list[tuple[float, bytes]] = []
    live = {1, *range(10, 40)}
    for host in range(1, 255):
        t = start + host * 0.005
        packets.append((t, arp(dpkt.arp.ARP_OP_REQUEST, SCANNER_MAC, "10.20.0.66",
                               f"10.20.0.{host}", BROADCAST)))  # fmt: skip
        if host in live:
            mac = GATEWAY_MAC if host == 1 else camera_mac(host)
            packets.append((t + 0.0005, arp(dpkt.arp.ARP_OP_REPLY, mac, f"10.20.0.{host}",
                                            "10.20.0.66", SCANNER_MAC)))  # fmt: skip
    return packets


def detect(data: bytes, assets: AssetMap | None = None) -> tuple[list[Detection], list[Flow]]:
    flows = list(PcapFlowReader(io.BytesIO(data), CyberSettings()).flows())
    return NetworkDetectors(CyberSettings(), assets or AssetMap()).run(flows, NOW), flows


def test_arp_requests_and_replies_become_arp_flows_keeping_each_senders_mac() -> None:
    request, reply = dpkt.arp.ARP_OP_REQUEST, dpkt.arp.ARP_OP_REPLY
    data = capture(
        [
            (1.0, arp(request, camera_mac(12), "10.20.0.12", "10.20.0.1", BROADCAST)),
            (1.1, arp(reply, GATEWAY_MAC, "10.20.0.1", "10.20.0.12", camera_mac(12))),
            (1.5, arp(request, camera_mac(12), "10.20.0.12", "10.20.0.1", BROADCAST)),
            (2.0, arp(request, SCANNER_MAC, "10.20.0.12", "10.20.0.1", BROADCAST)),
        ]
    )
    asked, answer, forged = sorted(detect(data)[1], key=lambda f: f.ts)
    assert (asked.proto, asked.src, asked.sport, asked.dst) == ("arp", "10.20.0.12", 1,
                                                                "10.20.0.1")  # fmt: skip
    assert (asked.src_mac, asked.orig_pkts) == ("02:00:00:00:00:0c", 2)  # asked twice
    assert (answer.src, answer.sport, answer.src_mac) == ("10.20.0.1", 2, "00:00:5e:00:01:01")
    # the same address asking from another MAC is another flow: the claim is not lost
    assert (forged.src, forged.src_mac) == ("10.20.0.12", "02:42:ac:11:00:ee")


def test_an_arp_sweep_of_the_camera_vlan_is_one_red_arp_scan_with_evidence() -> None:
    found, flows = detect(
        capture(ordinary_lan() + arp_sweep(T0 + 200)), asset_map_from_dict(ASSETS)
    )
    assert sum(f.src == "10.20.0.66" for f in flows) == 254  # one flow per address asked
    scans = [d for d in found if d.detection_type == "cyber.arp_scan"]
    assert [d.level for d in scans] == [Level.AMBER, Level.RED]  # 30 addresses, then 150
    red = scans[-1]
    assert red.summary.startswith(
        "ARP scan: 10.20.0.66 (laptop) (MAC 02:42:ac:11:00:ee) asked for 150 addresses"
    )
    assert red.space_id == "plaza-ayuntamiento"
    a = red.attributes
    assert (a["attacker_ip"], a["target_ip"], a["targets_count"]) == ("10.20.0.66", "10.20.0.1",
                                                                      150)  # fmt: skip
    assert a["protocol"] == "arp" and a["mac"] == "02:42:ac:11:00:ee"
    assert a["asset_id"] == "cctv" and a["device_id"] == "camera-10"  # first camera asked
    assert a["attacker_device_id"] == "laptop" and a["window_s"] == 60.0
    assert 0 < float(a["span_s"]) < 1.0
    # ARP has no ports: the sweep is not also a horizontal scan of "port 0"
    assert {d.detection_type for d in found} == {"cyber.arp_scan"}


def test_everyday_arp_on_a_busy_vlan_raises_nothing() -> None:
    found, flows = detect(capture(ordinary_lan(minutes=30)), asset_map_from_dict(ASSETS))
    assert sum(f.src == "10.20.0.1" for f in flows) >= 25
    assert found == []  # false positives: 0 (gateway refreshes, gratuitous ARP, probes)


def test_arp_spoofing_a_camera_address_from_another_mac() -> None:
    forged = arp(dpkt.arp.ARP_OP_REPLY, SCANNER_MAC, "10.20.0.12", "10.20.0.1", GATEWAY_MAC)
    found, _ = detect(capture([*ordinary_lan(1), (T0 + 90, forged)]), asset_map_from_dict(ASSETS))
    (spoof,) = found
    assert spoof.detection_type == "cyber.device_address_spoofed"
    assert spoof.attributes["device_id"] == "camera-12" and spoof.attributes["asset_id"] == "cctv"
    assert spoof.attributes["mac"] == "02:42:ac:11:00:ee"
    assert spoof.attributes["expected_mac"] == "02:00:00:00:00:0c"


def test_an_unknown_device_asking_by_arp_is_named_as_asking() -> None:
    stranger = arp(dpkt.arp.ARP_OP_REQUEST, bytes.fromhex("02deadbeef01"), "10.20.0.77",
                   "10.20.0.1", BROADCAST)  # fmt: skip
    (unknown,) = detect(capture([(T0, stranger)]), asset_map_from_dict(ASSETS))[0]
    assert "first seen asking (ARP) for 10.20.0.1" in unknown.summary
    assert unknown.attributes["protocol"] == "arp" and "port" not in unknown.attributes


def test_argus_arp_rows_are_an_arp_scan_too() -> None:
    header = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes\n"
    rows = "".join(
        f"2011/08/10 09:46:{i // 10:02d}.{i % 10}00000,0.0,arp,147.32.84.138,,who,"
        f"147.32.84.{i},,{'CON' if i % 7 == 0 else 'INT'},1,60,60\n"
        for i in range(1, 41)
    )
    flows = list(read_flow_csv(io.BytesIO((header + rows).encode())))
    found = NetworkDetectors(CyberSettings(), AssetMap()).run(flows, NOW)
    assert [d.detection_type for d in found] == ["cyber.arp_scan"]
    assert found[0].attributes["targets_count"] == 30


def test_non_ethernet_or_non_ipv4_arp_is_skipped_and_counted() -> None:
    odd = dpkt.arp.ARP(hrd=6, op=1, spa=socket.inet_aton("10.0.0.1"), tpa=b"\x0a\x00\x00\x02")
    frame = bytes(dpkt.ethernet.Ethernet(src=SCANNER_MAC, dst=BROADCAST, type=0x0806, data=odd))
    reader = PcapFlowReader(io.BytesIO(capture([(1.0, frame)])), CyberSettings())
    assert list(reader.flows()) == [] and reader.stats.skipped_packets == 1


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=0, max_size=60))
def test_any_arp_payload_is_a_flow_skipped_or_a_clear_error(body: bytes) -> None:
    frame = SCANNER_MAC + BROADCAST + b"\x08\x06" + body
    try:
        flows = list(PcapFlowReader(io.BytesIO(capture([(1.0, frame)])), CyberSettings()).flows())
    except FlowInputError as error:  # pragma: no cover - a whole record is always there
        pytest.fail(error.reason)
    assert all(f.proto == "arp" for f in flows)
