"""How failures spread over the dependency graph, in time (pure).

Given the assets that failed and when, every other asset's outlook follows in one pass over the
graph in topological order (suppliers first), so a full recompute costs O(assets + dependencies):

- a feed is lost ``delay_s`` after its supplier goes down;
- a dependent loses a service when its last feed of that service is lost (feeds of one service
  are redundant), and goes down ``backup_s`` later (the larger of its own backup for the service
  and the dependency's);
- meanwhile it is degraded: from the first lost feed while others still run, or while it runs on
  backup;
- only a down asset passes the loss on: a degraded one still delivers.

Restoring an asset removes it from the failures; everything is recomputed from what remains, so
dependents come back at once (refilling a backup is not modelled: each failure finds it full).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from smartspaces.city import CityModel
from smartspaces.respond.risk.scoring import AssetState


@dataclass(frozen=True)
class Outlook:
    """When an asset is affected by the current failures, and why, in plain words."""

    asset_id: str
    root: str
    """The failed asset this traces back to."""
    degraded_at: datetime | None = None
    degraded_why: str = ""
    down_at: datetime | None = None
    down_why: str = ""

    def state_at(self, at: datetime) -> AssetState:
        if self.down_at is not None and self.down_at <= at:
            return "down"
        if self.degraded_at is not None and self.degraded_at <= at:
            return "degraded"
        return "up"

    def why(self, state: AssetState) -> str:
        return {"down": self.down_why, "degraded": self.degraded_why, "up": "back up"}[state]


def duration(seconds: float) -> str:
    """A duration as people say it: 45 s, 30 min, 8 h, 1 h 30 min."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%SZ")


def cascade(model: CityModel, failures: Mapping[str, datetime]) -> dict[str, Outlook]:
    """The outlook of every asset the failures reach (the failed ones included)."""
    # Float seconds inside the loop: datetime arithmetic would be most of the cost.
    down: dict[str, float] = {}
    root: dict[str, str] = {}
    found: dict[str, Outlook] = {}
    names = model.assets
    direct = {a: t.timestamp() for a, t in failures.items() if a in names}
    for asset_id in model.order:
        down_at = direct.get(asset_id)
        down_why = "reported down" if down_at is not None else ""
        source = asset_id  # the failed asset its own failure traces back to
        first_loss: tuple[float, str, str] | None = None  # (time, why, root)
        for feeds in model.feeds.get(asset_id, ()):
            lost = [
                (down[supplier] + delay, supplier)
                for supplier, delay in feeds.suppliers
                if supplier in down
            ]
            if not lost:
                continue
            early_at, early_by = min(lost)
            everything = len(lost) == len(feeds.suppliers)
            lost_at, lost_by = max(lost)
            # degraded from the first lost feed while others run, or on backup once all are lost
            if not everything or early_at < lost_at:
                left = len(feeds.suppliers) - 1
                why = (
                    f"lost {feeds.service} from {names[early_by].name}; "
                    f"{left} other feed(s) still up"
                )
            elif feeds.backup_s > 0:
                why = (
                    f"on backup {feeds.service} since {_when(lost_at)} (lost it from "
                    f"{names[lost_by].name}), {duration(feeds.backup_s)} of autonomy"
                )
            else:
                why = ""
            if why and (first_loss is None or early_at < first_loss[0]):
                first_loss = (early_at, why, root[early_by])
            if not everything:
                continue
            at = lost_at + feeds.backup_s
            if down_at is None or at < down_at:
                source = root[lost_by]
                down_at, down_why = at, f"lost {feeds.service} from {names[lost_by].name}"
                if feeds.backup_s > 0:
                    ran_out = f"backup {feeds.service} ran out ({duration(feeds.backup_s)})"
                    down_why = f"{ran_out} after it {down_why}"
        if down_at is None and first_loss is None:
            continue
        if down_at is not None:
            down[asset_id] = down_at
            root[asset_id] = source
        degraded = (
            first_loss if first_loss and (down_at is None or first_loss[0] < down_at) else None
        )
        found[asset_id] = Outlook(
            asset_id=asset_id,
            root=source if down_at is not None else (degraded[2] if degraded else asset_id),
            degraded_at=datetime.fromtimestamp(degraded[0], UTC) if degraded else None,
            degraded_why=degraded[1] if degraded else "",
            down_at=datetime.fromtimestamp(down_at, UTC) if down_at is not None else None,
            down_why=down_why,
        )
    return found
