"""argus / NetFlow-style flow CSV (ra -c ',', nfdump -o csv, CTU binetflow) yielding Flows.

The header line names the columns, in any order and case; the names of argus, nfdump and the
common NetFlow exports are all understood, unknown columns are ignored. Argus connection
states ("S_RA", "CON", "INT" ...) are mapped to the Zeek states the detectors reason with.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from smartspaces.detect.cyber.errors import FlowInputError
from smartspaces.detect.cyber.flows import UNANSWERED_STATES, Flow
from smartspaces.detect.cyber.lines import text_lines

ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("starttime", "stime", "ts", "start", "first", "flow_start"),
    "src": ("srcaddr", "saddr", "sa", "src_ip", "srcip", "ipv4_src_addr"),
    "sport": ("sport", "sp", "src_port", "srcport", "l4_src_port"),
    "dst": ("dstaddr", "daddr", "da", "dst_ip", "dstip", "ipv4_dst_addr"),
    "dport": ("dport", "dp", "dst_port", "dstport", "l4_dst_port"),
    "proto": ("proto", "pr", "protocol"),
    "duration_s": ("dur", "td", "duration"),
    "orig_bytes": ("srcbytes", "sbytes", "ibyt", "in_bytes"),
    "resp_bytes": ("dstbytes", "dbytes", "obyt", "out_bytes"),
    "orig_pkts": ("srcpkts", "spkts", "ipkt", "in_pkts"),
    "resp_pkts": ("dstpkts", "dpkts", "opkt", "out_pkts"),
    "total_bytes": ("totbytes", "bytes"),
    "total_pkts": ("totpkts", "pkts", "packets"),
    "conn_state": ("state", "conn_state"),
}
"""Flow field <- accepted column names (lower case)."""
REQUIRED = ("ts", "src", "dst", "proto")
"""Without these a row is not a connection; ports may be absent (ARP, some ICMP exports)."""
PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmp"}  # IANA numbers (ICMPv6: 58)
_ARGUS_STATES = {"CON": "SF", "FIN": "SF", "EST": "S1", "INT": "S0", "REQ": "S0", "RST": "REJ"}
MAX_COUNT = 2**63
COUNTS = ("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "total_bytes", "total_pkts")


def read_flow_csv(stream: IO[bytes], max_line_bytes: int = 65_536) -> Iterator[Flow]:
    """Yield the flows of a flow CSV whose first non-blank line is its header."""
    lines = text_lines(stream, max_line_bytes, "flow CSV")
    columns: dict[str, int] | None = None
    for number, text in lines:
        if not text.strip():
            continue
        try:
            (row,) = csv.reader([text])
        except (csv.Error, ValueError) as error:
            raise FlowInputError(f"flow CSV line {number}: {error}") from error
        if columns is None:
            columns = _columns(number, row)
            continue
        yield _flow(number, row, columns)


def _columns(number: int, names: list[str]) -> dict[str, int]:
    index = {name.strip().lower(): i for i, name in enumerate(names)}
    columns = {
        field: next(index[a] for a in aliases if a in index)
        for field, aliases in ALIASES.items()
        if any(a in index for a in aliases)
    }
    missing = [field for field in REQUIRED if field not in columns]
    if missing:
        wanted = "; ".join(f"{f}: one of {', '.join(ALIASES[f])}" for f in missing)
        raise FlowInputError(f"flow CSV line {number}: header lacks required column(s) ({wanted})")
    return columns


def _flow(number: int, row: list[str], columns: dict[str, int]) -> Flow:
    def cell(field: str) -> str:
        i = columns.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    if len(row) <= max(columns[f] for f in REQUIRED):
        raise FlowInputError(f"flow CSV line {number}: {len(row)} columns, fewer than the header")
    try:
        proto = cell("proto").lower()
        proto = PROTOCOLS.get(proto, proto)
        if not proto or len(proto) > 16:
            raise ValueError(f"protocol {proto!r:.20} is not a protocol name or number")
        counts = {field: _count(cell(field)) for field in COUNTS}
        # only a total and the sender's share: the rest is the responder's
        for part, other, total in (("resp_bytes", "orig_bytes", "total_bytes"),
                                   ("resp_pkts", "orig_pkts", "total_pkts")):  # fmt: skip
            if not cell(part) and cell(total) and cell(other):
                counts[part] = max(counts[total] - counts[other], 0)
        state = zeek_state(cell("conn_state"), proto)
        if proto == "tcp" and state in UNANSWERED_STATES:
            # these exports count IP bytes (a RST is 40 of them); a TCP connection that never
            # completed its handshake carried no payload, and Flow counts payload
            counts["resp_bytes"] = 0
        src, dst = cell("src"), cell("dst")
        if not src or not dst or len(src) > 64 or len(dst) > 64:
            raise ValueError("source and destination addresses must be short, non-empty text")
        return Flow(
            ts=_timestamp(cell("ts")), src=src, sport=_port(cell("sport")), dst=dst,
            dport=_port(cell("dport")), proto=proto, duration_s=_duration(cell("duration_s")),
            orig_bytes=counts["orig_bytes"], resp_bytes=counts["resp_bytes"],
            orig_pkts=counts["orig_pkts"], resp_pkts=counts["resp_pkts"],
            conn_state=state,
        )  # fmt: skip
    except ValueError as error:
        raise FlowInputError(f"flow CSV line {number}: {error}") from error


def zeek_state(state: str, proto: str) -> str:
    """An argus state ("S_RA": SYN, answered by RST-ACK) in Zeek's vocabulary; Zeek's own
    states pass through. Only what the detectors need is kept: answered or not, refused."""
    if not state or state in _ZEEK_STATES:
        return state
    if "_" in state and proto == "tcp":
        sent, answer = state.split("_", 1)
        if not answer:
            return "S0" if "S" in sent else "OTH"
        if "R" in answer and "A" not in answer.replace("RA", ""):
            return "REJ" if "S" in sent else "RSTR"
        if "S" in answer and "A" in answer:
            return "SF" if "F" in sent and "F" in answer else "S1"
        return "OTH"
    return _ARGUS_STATES.get(state.upper(), "OTH")


_ZEEK_STATES = frozenset(
    "S0 S1 SF REJ S2 S3 RSTO RSTR RSTOS0 RSTRH SH SHR OTH".split()
)  # fmt: skip


def _timestamp(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        # argus writes "2011/08/10 09:46:53.047277"; ISO 8601 from nfdump and others
        try:
            moment = datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"start time {text!r:.40} is neither epoch seconds nor a date"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # exports without a zone are UTC by convention
        value = moment.timestamp()
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"start time {text!r:.40} is not a finite non-negative time")
    return value


def _port(text: str) -> int:
    if not text:
        return 0
    port = int(text, 16) if text.lower().startswith("0x") else int(text)  # argus: ICMP in hex
    if not 0 <= port <= 65_535:
        raise ValueError(f"port {port} out of range")
    return port


def _duration(text: str) -> float:
    value = float(text) if text else 0.0
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"duration {text!r:.40} is not a finite non-negative number")
    return value


def _count(text: str) -> int:
    value = int(text) if text else 0
    if not 0 <= value < MAX_COUNT:
        raise ValueError(f"count {text!r:.40} out of range")
    return value
