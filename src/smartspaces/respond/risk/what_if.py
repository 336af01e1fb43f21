"""What if this asset failed now? The timeline of what it would take down with it (pure).

For planning and for the operator's "what does this outage mean for the square" question: the
same cascade the live risk runs, on one hypothetical failure, listed in time order. Spaces appear
once for each asset serving them that the failure reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from smartspaces.city import CityModel
from smartspaces.errors import RejectedInput
from smartspaces.respond.risk.cascade import cascade, duration
from smartspaces.respond.risk.scoring import AssetState


class UnknownAsset(RejectedInput):
    """The asset is not in the city model."""


@dataclass(frozen=True)
class Consequence:
    """One thing affected, when and why: an asset changing state, or a space losing one."""

    at: datetime
    after_s: float
    kind: Literal["asset", "space"]
    id: str
    state: AssetState
    asset_id: str
    """The asset whose state this is (the subject itself for an asset)."""
    why: str


def what_if(model: CityModel, asset_id: str, at: datetime) -> list[Consequence]:
    """Everything the failure of ``asset_id`` at ``at`` would affect, in time order."""
    if asset_id not in model.assets:
        raise UnknownAsset(f"unknown asset '{asset_id}'")
    rank = {a: i for i, a in enumerate(model.order)}
    found: list[Consequence] = []
    for affected, outlook in cascade(model, {asset_id: at}).items():
        asset = model.assets[affected]
        states: list[tuple[datetime | None, AssetState, str]] = [
            (outlook.degraded_at, "degraded", outlook.degraded_why),
            (outlook.down_at, "down", outlook.down_why),
        ]
        for when, state, why in states:
            if when is None:
                continue
            after = (when - at).total_seconds()
            found.append(Consequence(when, after, "asset", affected, state, affected, why))
            for space_id in asset.serves:
                delay = f"after {duration(after)}" if after > 0 else "at once"
                said = f"{asset.name}, which serves it, is {state} {delay}: {why}"
                found.append(Consequence(when, after, "space", space_id, state, affected, said))
    # time first; at one instant assets before spaces, suppliers before dependents
    found.sort(key=lambda c: (c.at, c.kind != "asset", rank[c.asset_id], c.id))
    return found
