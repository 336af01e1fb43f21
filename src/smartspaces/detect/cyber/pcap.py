"""pcap reader: packets decoded with dpkt, assembled into Flows here (bounded flow table)."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import dpkt  # type: ignore[import-untyped]

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.tcpflow import OpenFlow

# magic -> (struct byte order, fraction divisor): microsecond and nanosecond pcap, both orders
_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e6),
    b"\xa1\xb2\xc3\xd4": (">", 1e6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e9),
    b"\xa1\xb2\x3c\x4d": (">", 1e9),
}
_PCAPNG = b"\x0a\x0d\x0d\x0a"
_LINK_ETHERNET, _LINK_NULL, _LINK_RAW, _LINK_LOOP, _LINK_SLL = 1, 0, 101, 108, 113
_LINKS = frozenset({_LINK_ETHERNET, _LINK_NULL, _LINK_RAW, _LINK_LOOP, _LINK_SLL, 12, 14})
_SWEEP_EVERY_S = 1.0  # how often (capture time) idle flows are looked for
_NETWORK = (dpkt.ip.IP, dpkt.ip6.IP6, dpkt.arp.ARP)  # what a frame may carry to be read


@dataclass
class PcapStats:
    """What a read saw: so a caller can report skipped packets instead of hiding them."""

    packets: int = 0
    bytes_read: int = 0
    skipped_packets: int = 0
    flows: int = 0


class PcapFlowReader:
    """Reads a classic pcap stream and yields its flows as they close (or when it ends).

    Memory is bounded by ``max_active_flows`` open flows and one packet of at most
    ``max_packet_bytes``; a damaged or truncated file raises FlowInputError after the flows
    read so far were yielded, so a partial capture still feeds the detectors.
    """

    def __init__(self, stream: IO[bytes], settings: CyberSettings) -> None:
        self._stream = stream
        self._settings = settings
        self.stats = PcapStats()
        self._open: dict[tuple[str, int, str, int, str], OpenFlow] = {}
        # flows closed while handling a packet, yielded at the next sweep
        self._pending: list[Flow] = []

    def flows(self) -> Iterator[Flow]:
        order, divisor, link = self._header()
        record = struct.Struct(order + "IIII")
        last_sweep = 0.0
        number = 0
        while True:
            head = self._stream.read(record.size)
            if not head:
                break
            number += 1
            if len(head) < record.size:
                yield from self._flush_all()
                raise FlowInputError(f"pcap truncated inside the header of packet {number}")
            sec, frac, caplen, _ = record.unpack(head)
            if caplen > self._settings.max_packet_bytes:
                yield from self._flush_all()
                raise FlowInputError(
                    f"pcap packet {number}: captured length {caplen} bytes exceeds the limit "
                    f"of {self._settings.max_packet_bytes} (corrupt file?)"
                )
            data = self._stream.read(caplen)
            if len(data) < caplen:
                yield from self._flush_all()
                raise FlowInputError(
                    f"pcap truncated inside packet {number} ({len(data)} of {caplen} bytes)"
                )
            self.stats.packets += 1
            self.stats.bytes_read += record.size + caplen
            ts = sec + frac / divisor
            self._packet(ts, data, link)
            if ts - last_sweep >= _SWEEP_EVERY_S:
                last_sweep = ts
                yield from self._expire(ts)
        yield from self._flush_all()

    def _header(self) -> tuple[str, float, int]:
        head = self._stream.read(24)
        magic = head[:4]
        if magic == _PCAPNG:
            raise FlowInputError("pcapng is not supported: convert with 'editcap -F pcap'")
        if magic not in _MAGICS:
            raise FlowInputError(f"not a pcap file (magic {magic.hex() or 'missing'})")
        if len(head) < 24:
            raise FlowInputError("pcap truncated inside its file header")
        order, divisor = _MAGICS[magic]
        link = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
        if link not in _LINKS:
            raise FlowInputError(f"pcap link type {link} is not supported")
        self.stats.bytes_read += 24
        return order, divisor, link

    def _packet(self, ts: float, data: bytes, link: int) -> None:
        try:
            inner, mac = _network_layer(data, link)
        except (dpkt.UnpackError, struct.error, ValueError):
            self.stats.skipped_packets += 1
            return
        if isinstance(inner, dpkt.ip.IP):  # the common case first
            src, dst = socket.inet_ntoa(inner.src), socket.inet_ntoa(inner.dst)
        elif inner is None:
            return  # not IP or ARP (LLDP, STP ...): not a flow
        elif isinstance(inner, dpkt.arp.ARP):
            self._arp(ts, inner)
            return
        else:
            src = socket.inet_ntop(socket.AF_INET6, inner.src)
            dst = socket.inet_ntop(socket.AF_INET6, inner.dst)
        l4 = inner.data
        if isinstance(l4, dpkt.tcp.TCP):
            proto, sport, dport, flags, payload = "tcp", l4.sport, l4.dport, l4.flags, l4.data
        elif isinstance(l4, dpkt.udp.UDP):
            proto, sport, dport, flags, payload = "udp", l4.sport, l4.dport, 0, l4.data
        elif isinstance(l4, dpkt.icmp.ICMP | dpkt.icmp6.ICMP6):
            # Zeek's convention: an ICMP "connection" has the type and code as its ports
            proto, sport, dport, flags, payload = "icmp", l4.type, l4.code, 0, l4.data
        else:
            return
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        self._account(ts, (src, sport, dst, dport, proto), flags, payload, mac)

    def _arp(self, ts: float, arp: Any) -> None:
        """An IPv4-over-Ethernet ARP message as part of an ``arp`` flow from its sender to
        its target address, the opcode as source port (as ICMP's type): requests and replies
        are flows of their own, so each reply's claim ("this address is at this MAC") keeps
        its sender's MAC, which is what ARP spoofing forges."""
        if (
            arp.hrd != dpkt.arp.ARP_HRD_ETH
            or arp.pro != dpkt.arp.ARP_PRO_IP
            or arp.op not in (dpkt.arp.ARP_OP_REQUEST, dpkt.arp.ARP_OP_REPLY)
        ):
            self.stats.skipped_packets += 1
            return
        src, dst = socket.inet_ntoa(arp.spa), socket.inet_ntoa(arp.tpa)
        self._account(ts, (src, arp.op, dst, 0, "arp"), 0, b"", _mac_text(arp.sha))

    def _account(
        self, ts: float, key: tuple[str, int, str, int, str], flags: int, payload: bytes,
        mac: str,
    ) -> None:  # fmt: skip
        src, sport, dst, dport, proto = key
        flow = self._open.get(key)
        forward = True
        if flow is None and proto != "icmp":
            flow = self._open.get((dst, dport, src, sport, proto))
            forward = False
        elif flow is None:
            # an echo reply answers the request the other way round (type 8 -> 0)
            flow = self._open.get((dst, 8, src, 0, proto)) if sport == 0 else None
            forward = False
        if flow is not None and (
            flow.restarts(forward, flags) or (proto == "arp" and mac != flow.mac)
        ):
            # a new connection on the same ports; or another device claiming the address
            self._emit_later(flow)
            flow = None
        if flow is None:
            if len(self._open) >= self._settings.max_active_flows:
                self._evict_oldest()
            flow = OpenFlow(ts, src, sport, dst, dport, proto, mac)
            self._open[key] = flow
            forward = True
        flow.add(ts, forward, flags, len(payload), payload)

    def _emit_later(self, flow: OpenFlow) -> None:
        del self._open[flow.key]
        self._pending.append(flow.close())

    def _evict_oldest(self) -> None:
        # dicts keep insertion order: the first key is the flow opened longest ago (O(1))
        self._emit_later(self._open[next(iter(self._open))])

    def _expire(self, now: float) -> Iterator[Flow]:
        idle = self._settings.flow_idle_timeout_s
        done = [f for f in self._open.values() if f.expired(now, idle)]
        for flow in done:
            self._emit_later(flow)
        yield from self._drain()

    def _drain(self) -> Iterator[Flow]:
        pending, self._pending = self._pending, []
        self.stats.flows += len(pending)
        yield from pending

    def _flush_all(self) -> Iterator[Flow]:
        for flow in list(self._open.values()):
            self._emit_later(flow)
        yield from self._drain()


def _network_layer(data: bytes, link: int) -> tuple[Any, str]:
    """The IP packet or ARP message inside a link-layer frame (None if neither) and the
    sender's MAC."""
    mac = ""
    if link == _LINK_ETHERNET:
        frame = dpkt.ethernet.Ethernet(data)
        mac = frame.src.hex(":")  # "02:00:5e:..." in C: a generator per packet cost 10%
        inner = frame.data
    elif link == _LINK_SLL:
        inner = dpkt.sll.SLL(data).data
    elif link in (_LINK_NULL, _LINK_LOOP):
        inner = dpkt.loopback.Loopback(data).data
    else:
        inner = dpkt.ip.IP(data) if data[:1] and data[0] >> 4 == 4 else dpkt.ip6.IP6(data)
    if isinstance(inner, _NETWORK):
        return inner, mac
    return None, mac


def _mac_text(address: bytes) -> str:
    return address.hex(":")
