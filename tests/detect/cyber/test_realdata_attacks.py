"""Must-show: the slips-ids attacks detected with the right attacker and target; benign is quiet."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap, asset_map_from_dict
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.network import NetworkDetectors
from smartspaces.detect.cyber.pcap import PcapFlowReader
from smartspaces.detect.cyber.zeek import read_conn_log
from smartspaces.events import Level
from tests.detect.cyber.conftest import NOW, flow

pytestmark = pytest.mark.realdata


def conn_log(path: Path) -> list[Flow]:
    with path.open("rb") as stream:
        return list(read_conn_log(stream))


def test_horizontal_scan_to_port_80_from_10_0_2_112(slips_dir: Path) -> None:
    flows = conn_log(slips_dir / "port-scans/horizontal/conn.log")
    found = NetworkDetectors(CyberSettings(), AssetMap()).run(flows, NOW)
    assert [d.detection_type for d in found] == ["cyber.horizontal_port_scan"]
    (scan,) = found
    assert scan.summary.startswith("Horizontal port scan: 10.0.2.112 probed 80/tcp on 6 hosts")
    assert scan.space_id == "city-network" and scan.level is Level.AMBER
    # the named targets are exactly hosts that were sent a SYN on port 80 and never answered
    unanswered = {f.dst for f in flows if f.dport == 80 and not f.answered}
    named = scan.summary.split("(")[1].split(")")[0].split(", ")
    assert set(named) <= unanswered
    a = scan.attributes
    assert (a["attacker_ip"], a["protocol"], a["port"]) == ("10.0.2.112", "tcp", 80)
    assert a["target_ip"] in named and a["targets_count"] == 6 and a["ports_count"] == 1
    assert a["window_s"] == 60.0 and 0 < float(a["span_s"]) <= 60.0


def test_vertical_scan_one_attacker_one_target_many_ports(slips_dir: Path) -> None:
    flows = conn_log(slips_dir / "port-scans/vertical/conn.log")
    found = NetworkDetectors(CyberSettings(), AssetMap()).run(flows, NOW)
    assert [d.detection_type for d in found] == ["cyber.vertical_port_scan"]
    assert found[0].summary.startswith(
        "Vertical port scan: 192.168.1.9 probed 10 tcp ports of 45.33.32.156"
    )
    a = found[0].attributes
    assert (a["attacker_ip"], a["target_ip"], a["targets_count"]) == (
        "192.168.1.9",
        "45.33.32.156",
        1,
    )
    assert (a["protocol"], a["ports_count"], a["window_s"]) == ("tcp", 10, 60.0)


def test_ssh_brute_force_in_the_pcap(slips_dir: Path) -> None:
    path = slips_dir / "test19-malicious-ssh/malicious-ssh-bruteforce.pcap"
    with path.open("rb") as stream:
        flows = list(PcapFlowReader(stream, CyberSettings()).flows())
    found = NetworkDetectors(CyberSettings(), AssetMap()).run(flows, NOW)
    assert {d.detection_type for d in found} == {"cyber.ssh_password_guessing"}
    assert [d.level for d in found] == [Level.AMBER, Level.RED]  # 10 tries, then 50
    for detection in found:
        assert detection.summary.startswith("SSH password guessing: 147.32.80.40 made ")
        assert "to 147.32.80.37 port 902/tcp" in detection.summary
        a = detection.attributes
        assert (a["attacker_ip"], a["target_ip"], a["targets_count"]) == (
            "147.32.80.40",
            "147.32.80.37",
            1,
        )
        assert (a["service"], a["protocol"], a["port"], a["window_s"]) == ("ssh", "tcp", 902, 300.0)
    assert [d.attributes["attempts_count"] for d in found] == [10, 50]


def test_attack_lands_on_the_spaces_the_target_serves(slips_dir: Path) -> None:
    assets = asset_map_from_dict({
        "segments": [{"id": "vmware-lab", "network": "147.32.80.0/24", "protected": True,
                      "spaces": ["plaza-ayuntamiento"]}],
        "devices": [{"id": "esx-3", "address": "147.32.80.37", "asset_id": "cctv-recorder"},
                    {"id": "jump-host", "address": "147.32.80.40"}],
        "assets": [{"id": "cctv-recorder", "spaces": ["plaza-ayuntamiento", "mercado-central"]}],
    })  # fmt: skip
    path = slips_dir / "test19-malicious-ssh/malicious-ssh-bruteforce.pcap"
    with path.open("rb") as stream:
        flows = list(PcapFlowReader(stream, CyberSettings()).flows())
    found = NetworkDetectors(CyberSettings(), assets).run(flows, NOW)
    assert {d.space_id for d in found} == {"plaza-ayuntamiento", "mercado-central"}
    assert "147.32.80.37 (esx-3, cctv-recorder)" in found[0].summary
    assert {d.attributes["asset_id"] for d in found} == {"cctv-recorder"}
    assert {d.attributes["device_id"] for d in found} == {"esx-3"}
    assert {d.attributes["attacker_device_id"] for d in found} == {"jump-host"}


def test_non_attack_parts_of_the_captures_raise_nothing(slips_dir: Path) -> None:
    benign = [
        f
        for name in ("horizontal", "vertical")
        for f in conn_log(slips_dir / f"port-scans/{name}/conn.log")
        if f.answered and f.conn_state == "SF"  # completed, answered exchanges only
    ]
    assert len(benign) >= 20
    false_positives = NetworkDetectors(CyberSettings(), AssetMap()).run(benign, NOW)
    assert len(false_positives) == 0, [d.summary for d in false_positives]


def generated_city_traffic(seed: int = 11) -> list[Flow]:
    """A day-like hour of an ordinary city network: cameras, counters, staff, admins."""
    rnd = random.Random(seed)
    flows: list[Flow] = []
    t0 = 1_773_576_000.0
    for cam in range(20):  # RTSP streams to the video management system, long-lived
        flows.append(flow(ts=t0 + cam, src=f"10.20.0.{cam + 10}", dst="10.20.0.2", dport=554,
                          duration_s=3600, orig_bytes=10**9, orig_pkts=800_000))  # fmt: skip
    for counter in range(50):  # people counters publish every 60 s (+/- jitter) over MQTT
        for k in range(60):
            flows.append(flow(ts=t0 + counter + 60 * k + rnd.uniform(-2, 2),
                              src=f"10.30.0.{counter + 10}", dst="10.30.0.5", dport=1883,
                              sport=rnd.randint(30_000, 60_000), duration_s=0.2))  # fmt: skip
    for desk in range(10):  # staff browsing outside sites, DNS through the city resolver
        ts = t0
        for _ in range(120):
            ts += rnd.expovariate(1 / 30)
            site = f"198.51.100.{rnd.randint(1, 60)}"
            flows.append(flow(ts=ts, src=f"10.40.0.{desk + 10}", dst="10.40.0.53", dport=53,
                              proto="udp", resp_bytes=120, conn_state="SF"))  # fmt: skip
            flows.append(flow(ts=ts + 0.05, src=f"10.40.0.{desk + 10}", dst=site,
                              sport=rnd.randint(30_000, 60_000)))  # fmt: skip
    for admin in range(3):  # admins log into gateways a few times, one mistyped password
        for k in range(3):
            flows.append(flow(ts=t0 + 600 * admin + 20 * k, src="10.40.0.99",
                              dst=f"10.30.0.{admin + 2}", dport=22, service="ssh",
                              duration_s=5.0, orig_bytes=3000, resp_bytes=3500))  # fmt: skip
    flows.append(flow(ts=t0 + 100, src="10.40.0.10", dst="198.51.100.200", dport=8443,
                      conn_state="S0", resp_bytes=0, resp_pkts=0))  # one dead site  # fmt: skip
    return sorted(flows, key=lambda f: f.ts)


def test_generated_benign_city_traffic_raises_nothing() -> None:
    assets = asset_map_from_dict({
        "segments": [
            {"id": "cctv", "network": "10.20.0.0/24", "protected": True, "spaces": ["plaza"]},
            {"id": "counters", "network": "10.30.0.0/24", "protected": False},
            {"id": "offices", "network": "10.40.0.0/24"},
        ],
        "devices": [{"id": f"camera-{i}", "address": f"10.20.0.{i}"} for i in range(2, 40)],
    })  # fmt: skip
    flows = generated_city_traffic()
    assert len(flows) > 5_000
    false_positives = NetworkDetectors(CyberSettings(), assets).run(flows, NOW)
    assert len(false_positives) == 0, [d.summary for d in false_positives]
