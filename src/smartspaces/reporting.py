"""How alerts are shown on a terminal: a rich line for people, a JSON object for programs."""

from __future__ import annotations

import json
from datetime import UTC, tzinfo
from typing import Any

from rich.text import Text

from smartspaces.events import Alert, AnyEvent, Level

_STYLE = {
    Level.NORMAL: "green",
    Level.AMBER: "yellow",
    Level.RED: "bold red",
    Level.CRITICAL: "bold white on red",
}


def alert_line(alert: Alert, zone: tzinfo = UTC) -> Text:
    """``14:02:10  RED  Update  RED crowd density in ...`` coloured by level, in ``zone``'s time."""
    line = Text()
    line.append(alert.observed_at.astimezone(zone).strftime("%H:%M:%S "), style="dim")
    line.append(f"{alert.level.value.upper():8}", style=_STYLE[alert.level])
    line.append(f" {alert.msg_type:6} {alert.headline}")
    if alert.description:
        line.append(f"\n          {alert.description}", style="dim")
    return line


def alert_json(alert: Alert, provenance: list[AnyEvent]) -> str:
    """The alert as JSON plus ``provenance``: every event behind it, back to the observations."""
    data: dict[str, Any] = alert.model_dump(mode="json")
    data["provenance"] = [_brief(e) for e in provenance if e.id != alert.id]
    return json.dumps(data, ensure_ascii=False)


def _brief(event: AnyEvent) -> dict[str, Any]:
    brief: dict[str, Any] = {
        "id": event.id,
        "kind": event.kind,
        "source": event.source,
        "observed_at": event.observed_at.isoformat(),
        "derived_from": list(event.derived_from),
    }
    for name in ("sensor_id", "quantity", "value", "level"):
        if hasattr(event, name):
            brief[name] = getattr(event, name)
    return brief
