"""The flow record every parser yields and every network detector reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

UNANSWERED_STATES = frozenset({"S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"})
"""Zeek connection states in which the responder never completed a handshake."""

LOGIN_PORTS: dict[int, str] = {
    21: "ftp",
    22: "ssh",
    23: "telnet",
    2222: "ssh",
    2323: "telnet",
    3389: "rdp",
    5900: "vnc",
    80: "http",
    8080: "http",
}
"""Well-known ports of interactive login services, used when no service was identified."""


LOGIN_SERVICES = frozenset({"ssh", "telnet", "ftp", "rdp", "vnc", "http"})


class Flow(NamedTuple):
    """One connection (or connection-like exchange for UDP/ICMP), originator to responder.

    ``ts`` is the start in epoch seconds (cheap to compare in hot loops); byte counts are
    application payload bytes as Zeek reports them; ``conn_state`` uses Zeek's vocabulary.
    ICMP follows Zeek (type and code as ports); ARP (from pcap and argus) has proto "arp",
    the sender's and the asked address as ``src``/``dst``, the sender's hardware address as
    ``src_mac`` and, from pcap, the opcode as ``sport`` (1 request, 2 reply).

    A named tuple rather than a frozen dataclass: just as immutable, but built ten times
    faster (a frozen dataclass pays ``object.__setattr__`` per field), and the parsers build
    one per log line.
    """

    ts: float
    src: str
    sport: int
    dst: str
    dport: int
    proto: str
    duration_s: float = 0.0
    orig_bytes: int = 0
    resp_bytes: int = 0
    orig_pkts: int = 0
    resp_pkts: int = 0
    conn_state: str = ""
    service: str = ""
    history: str = ""
    src_mac: str = ""
    uid: str = ""

    @property
    def answered(self) -> bool:
        """Whether the responder took part: a handshake completed or it sent payload back."""
        if self.resp_bytes > 0:
            return True
        if self.proto == "tcp":
            return self.conn_state not in UNANSWERED_STATES and self.conn_state != ""
        return self.resp_pkts > 0

    @property
    def login_service(self) -> str:
        """The interactive login service this flow reached ('' if none)."""
        service = self.service
        if service:
            if service in LOGIN_SERVICES:
                return service
            for name in service.split(","):
                if name in LOGIN_SERVICES:
                    return name
        return LOGIN_PORTS.get(self.dport, "") if self.proto == "tcp" else ""

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)
