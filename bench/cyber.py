"""Benchmarks of the cyber detectors; prints figure dicts like bench/run.py's.

- cyber.flows_per_s: Zeek conn.log (TSV) records parsed and run through every network detector
  in one process, fresh detectors each run; the best of ``RUNS`` runs, since a shared machine's
  other work only ever slows a run down. Target: at least 100,000 per second.
- cyber.pcap_mb_per_s: a classic pcap decoded with dpkt, assembled into flows and run through
  every network detector.
- cyber.telemetry_obs_per_s: hourly readings of paired people counters and camera zone counts
  through the telemetry integrity, sensor-consistency and per-device baseline detectors.
"""

from __future__ import annotations

import io
import json
import math
import random
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

import dpkt  # type: ignore[import-untyped]

from smartspaces.config import CyberSettings, IntegritySettings
from smartspaces.detect.cyber.assets import asset_map_from_dict
from smartspaces.detect.cyber.baseline import TelemetryBaselineDetector
from smartspaces.detect.cyber.consistency import SensorConsistencyDetector
from smartspaces.detect.cyber.integrity import TelemetryIntegrityDetector
from smartspaces.detect.cyber.network import NetworkDetectors
from smartspaces.detect.cyber.pcap import PcapFlowReader
from smartspaces.detect.cyber.zeek import read_conn_log
from smartspaces.events import Observation

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
RUNS = 3
T0 = 1_773_576_000.0
FIELDS = (
    "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes "
    "resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes "
    "resp_pkts resp_ip_bytes tunnel_parents"
).split()
ASSETS = {
    "segments": [{"id": "cctv", "network": "10.20.0.0/16", "protected": True,
                  "spaces": ["plaza"]}],
    "devices": [{"id": f"camera-{i}", "address": f"10.20.0.{i}"} for i in range(1, 250)],
}  # fmt: skip


def conn_log(records: int, seed: int = 5) -> bytes:
    """A city network's conn.log: mostly ordinary traffic with scans and guessing mixed in."""
    rnd = random.Random(seed)
    lines = ["#separator \\x09", "#path\tconn", "#fields\t" + "\t".join(FIELDS)]
    for i in range(records):
        ts = T0 + i * 0.002
        kind = rnd.random()
        src = f"10.20.0.{rnd.randint(1, 249)}"
        if kind < 0.02:  # a scanner walking ports and hosts
            row = [src, "50000", f"10.30.{i % 250}.{i % 200}", str(i % 1024), "tcp", "-", "-",
                   "-", "-", "S0", "S", "1", "0"]  # fmt: skip
        elif kind < 0.03:  # ssh guessing
            row = ["203.0.113.9", str(30000 + i % 30000), "10.20.0.5", "22", "tcp", "ssh",
                   "2.1", "1500", "2100", "SF", "ShADadFf", "12", "11"]  # fmt: skip
        else:
            row = [src, str(rnd.randint(1024, 65535)), f"198.51.100.{rnd.randint(1, 254)}",
                   rnd.choice(["443", "80", "53", "1883"]), "tcp", "-", f"{rnd.random():.3f}",
                   str(rnd.randint(100, 900)), str(rnd.randint(500, 90000)), "SF", "ShADadFf",
                   "8", "9"]  # fmt: skip
        src_, sport, dst, dport, proto, service, dur, ob, rb, state, hist, op, rp = row
        lines.append("\t".join([f"{ts:.6f}", f"C{i}", src_, sport, dst, dport, proto, service,
                                dur, ob, rb, state, "-", "-", "0", hist, op, "0", rp, "0",
                                "(empty)"]))  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def pcap(packets: int, seed: int = 6) -> bytes:
    """TCP sessions (handshake, data both ways, close) between many host pairs."""
    rnd = random.Random(seed)
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out)
    syn, ack, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN
    ts, written, session = T0, 0, 0
    while written < packets:
        session += 1
        a = socket.inet_aton(f"10.50.{session % 200}.{rnd.randint(1, 250)}")
        b = socket.inet_aton(f"198.51.100.{rnd.randint(1, 250)}")
        sport, dport = 20000 + session % 40000, rnd.choice([80, 443, 22])
        script = [(True, syn, 0), (False, syn | ack, 0), (True, ack, 0)]
        script += [(rnd.random() < 0.5, ack, rnd.randint(40, 1400)) for _ in range(12)]
        script += [(True, fin | ack, 0), (False, fin | ack, 0)]
        for forward, flags, size in script:
            src, dst = (a, b) if forward else (b, a)
            sp, dp = (sport, dport) if forward else (dport, sport)
            seg = dpkt.tcp.TCP(sport=sp, dport=dp, flags=flags, data=b"x" * size)
            ip = dpkt.ip.IP(src=src, dst=dst, p=6, data=seg)
            ip.len = len(ip)
            eth = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, data=ip)
            ts += 0.0005
            writer.writepkt(bytes(eth), ts=ts)
            written += 1
    return out.getvalue()


def telemetry(pairs: int, hours: int, seed: int = 7) -> list[Observation]:
    """Hourly counts of ``pairs`` counters and the cameras watching part of the same spaces."""
    rnd = random.Random(seed)
    out = []
    for h in range(hours):
        at = datetime.fromtimestamp(T0 + 3600 * h, UTC)
        daily = 50 + 900 * max(0.0, math.sin(math.pi * ((h % 24) - 6) / 16))
        for k in range(pairs):
            walkers = round(daily * rnd.lognormvariate(0, 0.15))
            for sensor, quantity, value in (
                (f"counter-{k}", "entries_count", walkers),
                (f"camera-{k}", "zone_count_persons", round(walkers / 4 * rnd.gauss(1, 0.1))),
            ):
                out.append(Observation(
                    source="bench", space_id=f"space-{k}", sensor_id=sensor, quantity=quantity,
                    value=max(value, 0), observed_at=at, received_at=at, interval_s=3600,
                ))  # fmt: skip
    return out


def run_telemetry(observations: list[Observation], pairs: int) -> tuple[float, int]:
    """Seconds to judge ``observations`` with every telemetry detector, and detections."""
    settings = IntegritySettings(correlated_sensors=tuple(
        (f"counter-{k}/entries_count", f"camera-{k}/zone_count_persons") for k in range(pairs)
    ))  # fmt: skip
    steps = [TelemetryIntegrityDetector(settings).step, SensorConsistencyDetector(settings).step,
             TelemetryBaselineDetector(settings).step]  # fmt: skip
    found = 0
    started = time.perf_counter()
    for obs in observations:
        for step in steps:
            found += len(step(obs, obs.observed_at))
    return time.perf_counter() - started, found


def run(quick: bool) -> list[dict[str, Any]]:
    settings = CyberSettings()
    assets = asset_map_from_dict(ASSETS)
    records = 30_000 if quick else 300_000
    data = conn_log(records)
    rates, detections = [], 0
    for _ in range(RUNS):
        started = time.perf_counter()
        found = NetworkDetectors(settings, assets).run(read_conn_log(io.BytesIO(data)), NOW)
        rates.append(records / (time.perf_counter() - started))
        detections = len(found)
    capture = pcap(20_000 if quick else 200_000)
    started = time.perf_counter()
    reader = PcapFlowReader(io.BytesIO(capture), settings)
    pcap_detections = len(NetworkDetectors(settings, assets).run(reader.flows(), NOW))
    elapsed = time.perf_counter() - started
    pairs = 20
    readings = telemetry(pairs, 24 * 7 * (2 if quick else 10))
    telemetry_s, telemetry_detections = run_telemetry(readings, pairs)
    return [
        {
            "name": "cyber.flows_per_s",
            "value": round(max(rates)),
            "unit": "flows/s",
            "target": ">= 100000",
            "runs": [round(rate) for rate in rates],
            "records": records,
            "detections": detections,
        },
        {
            "name": "cyber.pcap_mb_per_s",
            "value": round(len(capture) / 1e6 / elapsed, 2),
            "unit": "MB/s",
            "packets_per_s": round(reader.stats.packets / elapsed),
            "megabytes": round(len(capture) / 1e6, 1),
            "flows": reader.stats.flows,
            "detections": pcap_detections,
        },
        {
            "name": "cyber.telemetry_obs_per_s",
            "value": round(len(readings) / telemetry_s),
            "unit": "observations/s",
            "observations": len(readings),
            "sensors": 2 * pairs,
            "detections": telemetry_detections,
        },
    ]


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
