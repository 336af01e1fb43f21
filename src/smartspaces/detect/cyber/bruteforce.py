"""Password guessing: many short connections from one source to one login service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from smartspaces.config import CyberSettings
from smartspaces.detect.cyber.assets import AssetMap
from smartspaces.detect.cyber.flows import Flow
from smartspaces.detect.cyber.report import NOTHING, Reporter
from smartspaces.detect.cyber.window import WindowMap, escalates, ladder
from smartspaces.events import AttributeValue, Detection, Level

DETECTOR_ID = "cyber.password_guessing"
HTTP_FACTOR = 5
"""Web clients open many short connections legitimately: HTTP needs this many times more."""


class PasswordGuessingDetector:
    """Counts answered, short, small connections per (source, target, port, service).

    Each connection to an SSH/Telnet/FTP/RDP/VNC/HTTP service that ends quickly after a few
    kilobytes is one login attempt; nmap's ssh-brute and hydra look exactly like this.
    """

    def __init__(self, settings: CyberSettings, assets: AssetMap) -> None:
        self._settings = settings
        self._report = Reporter(DETECTOR_ID, assets)
        self._windows: WindowMap[tuple[str, str, int, str]] = WindowMap(
            settings.max_tracked_keys, settings.bruteforce_window_s
        )

    def reads(self, proto: str) -> bool:
        return proto == "tcp"

    def step(self, flow: Flow, now: datetime) -> Sequence[Detection]:
        s = self._settings
        # the cheapest tests first: most connections carry too much to be a login attempt
        if (
            flow.orig_bytes + flow.resp_bytes > s.bruteforce_max_bytes
            or flow.duration_s > s.bruteforce_max_duration_s
            or flow.proto != "tcp"
        ):
            return NOTHING
        service = flow.login_service
        if not service or not flow.answered:
            return NOTHING
        # one item per connection: the source port tells connections apart within a window
        key = (flow.src, flow.dst, flow.dport, service)
        window = self._windows.add(key, flow.ts, (flow.sport, flow.ts))
        if window is None:
            return NOTHING
        count = len(window)
        threshold = s.bruteforce_min_attempts * (HTTP_FACTOR if service == "http" else 1)
        level = ladder(count, threshold, s.red_factor)
        if level is not None and service in ("telnet", "rdp", "vnc"):
            level = Level.RED  # no legitimate client retries these in bursts
        if not escalates(window, level) or level is None:
            return NOTHING
        target = self._report.assets.locate(flow.dst).describe()
        summary = (
            f"{service.upper()} password guessing: {{attacker}} made {count} short login "
            f"connections to {target} port {flow.dport}/tcp within "
            f"{flow.ts - window.first_ts:.1f} s (window {window.window_s:.0f} s; each under "
            f"{s.bruteforce_max_duration_s:.0f} s and {s.bruteforce_max_bytes} bytes)"
        )
        evidence: dict[str, AttributeValue] = {
            "service": service, "protocol": "tcp", "port": flow.dport, "ports_count": 1,
            "attempts_count": count, "window_s": window.window_s,
            "span_s": round(flow.ts - window.first_ts, 3),
        }  # fmt: skip
        return self._report.detections(
            f"cyber.{service}_password_guessing", level, flow.ts, now, summary, flow.src,
            [flow.dst], evidence=evidence,
        )  # fmt: skip
