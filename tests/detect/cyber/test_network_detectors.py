"""Each network detector on small synthetic flow streams: what it finds and what it names."""

from __future__ import annotations

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap, asset_map_from_dict
from smartspaces.detect.cyber.network import NetworkDetectors
from smartspaces.events import Level
from tests.detect.cyber.conftest import NOW, flow

SETTINGS = CyberSettings()
T0 = 1_700_000_000.0


def run(flows: list, assets: AssetMap | None = None) -> list:  # type: ignore[type-arg]
    return NetworkDetectors(SETTINGS, assets or AssetMap()).run(flows, NOW)


def test_icmp_sweep_names_the_source_and_counts_hosts() -> None:
    pings = [flow(ts=T0 + i * 0.1, src="10.9.9.9", dst=f"10.1.0.{i}", proto="icmp", sport=8,
                  dport=0, resp_pkts=i % 2, resp_bytes=0) for i in range(12)]  # fmt: skip
    (sweep,) = run(pings)
    assert sweep.detection_type == "cyber.icmp_sweep"
    assert sweep.summary.startswith("ICMP sweep: 10.9.9.9 sent echo requests to 10 hosts")


def test_syn_flood_is_red_and_names_the_busiest_sources() -> None:
    syns = [flow(ts=T0 + i * 0.001, src=f"203.0.113.{i % 3}", sport=1024 + i, dst="10.2.0.5",
                 dport=80, conn_state="S0", resp_bytes=0, resp_pkts=0, orig_pkts=10)
            for i in range(25_000)]  # fmt: skip
    found = run(syns)
    floods = [d for d in found if d.detection_type == "cyber.flood"]
    assert [d.level for d in floods] == [Level.AMBER, Level.RED]
    assert "from 3 source(s)" in floods[-1].summary


def test_beacon_to_an_outside_address_but_not_to_a_mapped_service() -> None:
    calls = [flow(ts=T0 + 300 * k + (k % 3) * 0.5, src="10.5.0.7", dst="192.0.2.66", dport=8443,
                  sport=40_000 + k) for k in range(10)]  # fmt: skip
    (beacon,) = run(calls)
    assert beacon.detection_type == "cyber.beaconing"
    assert "contacted 192.0.2.66 port 8443/tcp 8 times every 300.5 s" in beacon.summary
    mapped = asset_map_from_dict({"segments": [{"id": "cloud", "network": "192.0.2.0/24"}]})
    assert run(calls, mapped) == []


def test_jittery_human_traffic_is_not_a_beacon() -> None:
    gaps = [13, 250, 31, 7, 600, 45, 90, 12, 400, 66]
    times = [T0 + sum(gaps[:k]) for k in range(len(gaps))]
    assert run([flow(ts=t, dst="192.0.2.1", sport=41_000 + i) for i, t in enumerate(times)]) == []


def test_unknown_device_and_spoofed_mac_on_a_protected_segment() -> None:
    assets = asset_map_from_dict({
        "default_space_id": "city-network",
        "segments": [{"id": "cctv", "network": "10.20.0.0/24", "protected": True,
                      "spaces": ["plaza"]}],
        "devices": [{"id": "camera-12", "address": "10.20.0.12", "mac": "AA:BB:CC:00:00:12"}],
    })  # fmt: skip
    flows = [
        flow(ts=T0, src="10.20.0.12", src_mac="aa:bb:cc:00:00:12"),  # the real camera
        flow(ts=T0 + 1, src="10.20.0.77", src_mac="de:ad:be:ef:00:01"),
        flow(ts=T0 + 2, src="10.20.0.77"),  # reported once, not per flow
        flow(ts=T0 + 3, src="10.20.0.12", src_mac="de:ad:be:ef:00:01"),
    ]
    unknown, spoofed = run(flows, assets)
    assert unknown.detection_type == "cyber.unknown_device" and unknown.space_id == "plaza"
    assert "Unknown device 10.20.0.77 (MAC de:ad:be:ef:00:01)" in unknown.summary
    assert spoofed.detection_type == "cyber.device_address_spoofed"
    assert "lists aa:bb:cc:00:00:12" in spoofed.summary


def test_telnet_guessing_is_red_at_once_and_http_needs_more_tries() -> None:
    telnet = [flow(ts=T0 + i, src="203.0.113.5", dst="10.3.0.1", dport=23, sport=50_000 + i,
                   duration_s=2, orig_bytes=40, resp_bytes=80) for i in range(10)]  # fmt: skip
    (found,) = run(telnet)
    assert (found.detection_type, found.level) == ("cyber.telnet_password_guessing", Level.RED)
    http = [flow(ts=T0 + i, src="203.0.113.5", dst="10.3.0.1", dport=80, sport=50_000 + i,
                 service="http", duration_s=0.3) for i in range(49)]  # fmt: skip
    assert run(http) == []
    http.append(flow(ts=T0 + 60, src="203.0.113.5", dst="10.3.0.1", dport=80, service="http"))
    assert [d.detection_type for d in run(http)] == ["cyber.http_password_guessing"]


def test_same_flows_same_detection_ids_and_a_new_episode_after_the_window() -> None:
    probe = {"src": "10.0.0.66", "dport": 445, "conn_state": "S0", "resp_bytes": 0}
    scan = [flow(ts=T0 + i, dst=f"10.7.0.{i}", **probe) for i in range(6)]
    later = [flow(ts=T0 + 1000 + i, dst=f"10.7.1.{i}", **probe) for i in range(6)]
    first, second = run(scan + later), run(scan + later)
    assert [d.id for d in first] == [d.id for d in second] and len(first) == 2


def test_a_flood_from_spoofed_senders_is_counted_without_naming_them_all() -> None:
    syns = [flow(ts=T0 + i * 0.0001, src=f"198.18.{i // 250 % 250}.{i % 250}", sport=1024,
                 dst="10.2.0.5", dport=80, conn_state="S0", resp_bytes=0, resp_pkts=0)
            for i in range(5_000)]  # fmt: skip
    (flood,) = [d for d in run(syns) if d.detection_type == "cyber.flood"]
    assert "5000 connections from more than" in flood.summary


def test_every_network_detection_carries_typed_evidence_with_the_target_asset() -> None:
    assets = asset_map_from_dict({
        "segments": [{"id": "cctv", "network": "10.20.0.0/24", "protected": True,
                      "spaces": ["plaza"]}],
        "devices": [{"id": f"camera-{i}", "address": f"10.20.0.{i}", "asset_id": "cctv"}
                    for i in range(1, 40)],
        "assets": [{"id": "cctv", "spaces": ["plaza"]}],
    })  # fmt: skip
    unanswered = {"conn_state": "S0", "resp_bytes": 0, "resp_pkts": 0}
    flows = [
        *(flow(ts=T0 + i, src="203.0.113.7", dst=f"10.20.0.{i + 1}", dport=554, **unanswered)
          for i in range(6)),  # horizontal scan of the cameras' RTSP port
        *(flow(ts=T0 + 10 + i * 0.1, src="203.0.113.8", dst="10.20.0.5", dport=1000 + i,
               **unanswered) for i in range(10)),  # vertical scan of camera 5
        *(flow(ts=T0 + 20 + i * 0.1, src="203.0.113.9", dst=f"10.20.0.{i + 1}", proto="icmp",
               sport=8, dport=0, **unanswered) for i in range(10)),  # ping sweep
        *(flow(ts=T0 + 30 + i, src="203.0.113.10", dst="10.20.0.6", dport=23,
               sport=50_000 + i, duration_s=2, orig_bytes=40, resp_bytes=80)
          for i in range(10)),  # telnet guessing
        *(flow(ts=T0 + 40 + i * 0.0001, src=f"198.18.0.{i % 200}", sport=1024 + i,
               dst="10.20.0.7", dport=80, **unanswered) for i in range(5_000)),  # SYN flood
        *(flow(ts=T0 + 100 + 300 * k, src="10.20.0.8", dst="192.0.2.66", dport=8443,
               sport=40_000 + k) for k in range(8)),  # a camera beaconing out
        flow(ts=T0 + 200, src="10.20.0.99", dst="10.20.0.1", dport=80),  # unknown device
    ]  # fmt: skip
    found = run(sorted(flows, key=lambda f: f.ts), assets)
    by_type = {d.detection_type: d.attributes for d in found}
    assert set(by_type) == {
        "cyber.horizontal_port_scan", "cyber.vertical_port_scan", "cyber.icmp_sweep",
        "cyber.telnet_password_guessing", "cyber.flood", "cyber.beaconing",
        "cyber.unknown_device",
    }  # fmt: skip
    for kind, attributes in by_type.items():
        assert {"attacker_ip", "target_ip", "targets_count", "protocol"} <= set(attributes), kind
        assert all(isinstance(v, str | int | float | bool) for v in attributes.values())
    assert by_type["cyber.horizontal_port_scan"]["asset_id"] == "cctv"
    assert by_type["cyber.horizontal_port_scan"]["target_ip"] == "10.20.0.1"
    assert by_type["cyber.vertical_port_scan"]["device_id"] == "camera-5"
    assert by_type["cyber.vertical_port_scan"]["ports_count"] == 10
    assert by_type["cyber.icmp_sweep"]["targets_count"] == 10
    assert by_type["cyber.telnet_password_guessing"]["service"] == "telnet"
    flood = by_type["cyber.flood"]
    assert (flood["target_ip"], flood["flows_count"], flood["window_s"]) == (
        "10.20.0.7",
        5000,
        60.0,
    )
    # the 200 spoofed senders and the ping sweeper, all named (fewer than MAX_SOURCES a second)
    assert flood["sources_count"] == 201 and flood["sources_all_named"] is True
    beacon = by_type["cyber.beaconing"]
    assert (beacon["attacker_ip"], beacon["interval_s"], beacon["attacker_asset_id"]) == (
        "10.20.0.8", 300.0, "cctv",
    )  # fmt: skip
    unknown = by_type["cyber.unknown_device"]
    assert (unknown["attacker_ip"], unknown["segment_id"], unknown["port"]) == (
        "10.20.0.99",
        "cctv",
        80,
    )
