"""One flow being assembled from packets: counters, TCP flags, Zeek-style state and history."""

from __future__ import annotations

from smartspaces.detect.cyber.flows import Flow

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
CLOSED_LINGER_S = 2.0
"""A closed TCP flow is kept this long for its last ACKs, so they do not start a new flow."""

_HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ")


class OpenFlow:
    """Mutable counters of one flow; ``close()`` turns them into an immutable Flow."""

    __slots__ = (
        "ts", "last", "src", "sport", "dst", "dport", "proto", "mac",
        "pkts", "nbytes", "flags", "history", "prefix", "closed",
    )  # fmt: skip

    def __init__(
        self, ts: float, src: str, sport: int, dst: str, dport: int, proto: str, mac: str
    ) -> None:
        self.ts = self.last = ts
        self.src, self.sport, self.dst, self.dport, self.proto = src, sport, dst, dport, proto
        self.mac = mac
        self.pkts = [0, 0]  # [originator, responder]
        self.nbytes = [0, 0]  # payload bytes
        self.flags = [0, 0]  # every TCP flag bit seen, per direction
        self.history: list[str] = []
        self.prefix = [b"", b""]  # first payload bytes, to recognise the service
        self.closed = False

    @property
    def key(self) -> tuple[str, int, str, int, str]:
        return (self.src, self.sport, self.dst, self.dport, self.proto)

    def add(self, ts: float, forward: bool, flags: int, size: int, payload: bytes) -> None:
        side = 0 if forward else 1
        self.last = ts
        self.pkts[side] += 1
        self.nbytes[side] += size
        if size and not self.prefix[side]:
            self.prefix[side] = payload[:8]
        if self.proto != "tcp":
            return
        seen = self.flags[side]
        self.flags[side] = seen | flags
        self._note_history(side, flags, size)
        if flags & RST or (self.flags[0] & FIN and self.flags[1] & FIN):
            self.closed = True

    def _note_history(self, side: int, flags: int, size: int) -> None:
        # Zeek's history letters: originator upper case, responder lower case, each once
        letters = []
        if flags & SYN:
            letters.append("H" if flags & ACK else "S")
        elif flags & ACK and not size and not flags & (FIN | RST):  # a pure ACK
            letters.append("A")
        if size:
            letters.append("D")
        if flags & FIN:
            letters.append("F")
        if flags & RST:
            letters.append("R")
        for letter in letters:
            mark = letter if side == 0 else letter.lower()
            if mark not in self.history:
                self.history.append(mark)

    def restarts(self, forward: bool, flags: int) -> bool:
        """Whether this packet opens a new connection on the same ports (the old one closed)."""
        return self.closed and forward and bool(flags & SYN) and not flags & ACK

    def expired(self, now: float, idle_s: float) -> bool:
        return now - self.last > (CLOSED_LINGER_S if self.closed else idle_s)

    def close(self) -> Flow:
        return Flow(
            ts=self.ts,
            src=self.src,
            sport=self.sport,
            dst=self.dst,
            dport=self.dport,
            proto=self.proto,
            duration_s=self.last - self.ts,
            orig_bytes=self.nbytes[0],
            resp_bytes=self.nbytes[1],
            orig_pkts=self.pkts[0],
            resp_pkts=self.pkts[1],
            conn_state=self._state(),
            service=self._service(),
            history="".join(self.history),
            src_mac=self.mac,
        )

    def _state(self) -> str:
        if self.proto != "tcp":
            return "SF" if self.pkts[1] else "S0"
        orig, resp = self.flags
        answered = resp & SYN and resp & ACK
        if "S" not in self.history:  # we never saw the originator's opening SYN
            return "OTH"
        if not answered:
            if resp & RST:
                return "REJ"
            if orig & RST:
                return "RSTOS0"
            return "S0" if not self.pkts[1] else "OTH"
        if orig & RST:
            return "RSTO"
        if resp & RST:
            return "RSTR"
        if orig & FIN and resp & FIN:
            return "SF"
        return "S2" if orig & FIN else "S3" if resp & FIN else "S1"

    def _service(self) -> str:
        orig, resp = self.prefix
        if orig.startswith(b"SSH-") or resp.startswith(b"SSH-"):
            return "ssh"
        if orig.startswith(_HTTP_METHODS):
            return "http"
        return ""
