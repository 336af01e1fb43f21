"""The live state of the infrastructure assets: failures in, state changes out, in time order.

Holds the reported failures, recomputes every asset's outlook when they change (``cascade``) and
hands out each asset's state changes when their time comes: at once for what is already due,
later through ``advance`` for the delayed ones (a dependent going down when its supplier's loss
reaches it or its backup runs out). Pure: time only moves when told.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime

from smartspaces.city import CityModel
from smartspaces.respond.risk.cascade import Outlook, cascade
from smartspaces.respond.risk.scoring import STATE_RANK, AssetState


@dataclass(frozen=True)
class Failure:
    """An asset reported down: when, by which event, in which space."""

    at: datetime
    event_id: str
    space_id: str


@dataclass(frozen=True)
class AssetChange:
    """An asset's state moved at ``at``; ``why`` in plain words; ``cause``: the failure behind."""

    at: datetime
    asset_id: str
    state: AssetState
    why: str
    cause: Failure | None


class InfraState:
    """The assets of one city model: which failed, and how that has spread by now."""

    def __init__(self, model: CityModel) -> None:
        self.model = model
        self._failed: dict[str, Failure] = {}
        self._outlook: dict[str, Outlook] = {}
        self._shown: dict[str, AssetState] = {}
        self._due: list[tuple[datetime, int, str]] = []
        self._rank = {asset_id: i for i, asset_id in enumerate(model.order)}

    def state(self, asset_id: str) -> AssetState:
        """The asset's state as last handed out."""
        return self._shown.get(asset_id, "up")

    def outlook(self, asset_id: str) -> Outlook | None:
        return self._outlook.get(asset_id)

    def failure(self, asset_id: str) -> Failure | None:
        """The failure a (directly or indirectly) affected asset traces back to."""
        outlook = self._outlook.get(asset_id)
        return self._failed.get(outlook.root) if outlook else None

    def fail(self, asset_id: str, failure: Failure, clock: datetime) -> list[AssetChange]:
        """Record a failure; the changes already due at ``clock``, in time order."""
        earlier = self._failed.get(asset_id)
        if earlier is not None and earlier.at <= failure.at:
            return []  # already down since then: a repeated report changes nothing
        self._failed[asset_id] = failure
        return self._recompute(failure.at, clock)

    def restore(self, asset_id: str, at: datetime, clock: datetime) -> list[AssetChange]:
        """An asset is back: it and its dependents recover at ``at`` (what still stands stays)."""
        if self._failed.pop(asset_id, None) is None:
            return []
        return self._recompute(at, clock)

    def next_due(self) -> datetime | None:
        """When the next delayed change comes due, if any."""
        return self._due[0][0] if self._due else None

    def advance(self, until: datetime) -> list[AssetChange]:
        """The delayed changes that came due by ``until``, in time order."""
        found: list[AssetChange] = []
        while self._due and self._due[0][0] <= until:
            at, _, asset_id = heapq.heappop(self._due)
            found.extend(self._show(asset_id, at, at))
        return found

    def settle(self, clock: datetime) -> None:
        """Take the state at ``clock`` as already handed out (after a restart: it was)."""
        self._outlook = cascade(self.model, {a: f.at for a, f in self._failed.items()})
        self._shown = {
            a: o.state_at(clock) for a, o in self._outlook.items() if o.state_at(clock) != "up"
        }
        self._schedule(clock)

    def _recompute(self, at: datetime, clock: datetime) -> list[AssetChange]:
        # Full recompute: one pass over the graph; cheaper to reason about than patching.
        self._outlook = cascade(self.model, {a: f.at for a, f in self._failed.items()})
        found: list[AssetChange] = []
        for asset_id in set(self._shown) | set(self._outlook):
            found.extend(self._show(asset_id, clock, at))
        found.sort(key=lambda c: (c.at, self._rank[c.asset_id]))
        self._schedule(clock)
        return found

    def _show(self, asset_id: str, clock: datetime, lowered_at: datetime) -> list[AssetChange]:
        outlook = self._outlook.get(asset_id)
        state: AssetState = outlook.state_at(clock) if outlook else "up"
        before = self._shown.get(asset_id, "up")
        if state == before:
            return []
        if STATE_RANK[state] > STATE_RANK[before] and outlook is not None:
            # worse: it happened when the cascade said, even if we learn it only now
            when = outlook.down_at if state == "down" else outlook.degraded_at
            at = when if when is not None else clock
        else:
            at = lowered_at  # better: from the moment of the restore
        if state == "up":
            del self._shown[asset_id]
        else:
            self._shown[asset_id] = state
        why = outlook.why(state) if outlook else "back up"
        cause = self._failed.get(outlook.root) if outlook else None
        return [AssetChange(at, asset_id, state, why, cause)]

    def _schedule(self, clock: datetime) -> None:
        due = []
        for asset_id, outlook in self._outlook.items():
            for when in (outlook.degraded_at, outlook.down_at):
                if when is not None and when > clock:
                    due.append((when, self._rank[asset_id], asset_id))
        heapq.heapify(due)
        self._due = due
