"""Smart spaces shared out among the workers of one stage: each space on one worker at a time.

A stage whose state is per space (the crowd measures) scales by running more workers. Each
worker holds a lease per space it works on (``store.leases``) and reads that space's messages
through a durable consumer of its own (``<stage>-<space>``), so the space's position on the bus
travels with the lease: when a worker dies, its leases lapse and the others claim the spaces
and go on from the last acknowledged message.

What a worker applied but had not yet acknowledged when it died comes again. The stage writes a
checkpoint with each batch, in the transaction of the space's status: the state it left and the
bus sequence numbers it applied recently. The next owner restores that state and skips those
numbers, so each message is applied once in effect.

Shares are balanced by count: with M live workers each takes at most ceil(spaces / M), the
spaces it prefers first (rendezvous hashing: a stable, even spread with nothing to coordinate).
A worker over its share gives the extra spaces back at its next look; the others claim them.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from smartspaces.bus.base import Bus, Delivery, Subscription, validate_durable
from smartspaces.config import WorkerSettings
from smartspaces.store.leases import MEMBERS, LeaseRepository

log = structlog.get_logger(__name__)

Restore = Callable[[str, dict[str, Any] | None], None]
"""Called with a space and its checkpointed state (None: never checkpointed) when it is gained,
and again after a failed batch, so the stage never goes on from a half-applied state."""
_SAFE = re.compile(r"[^A-Za-z0-9_\-]")


def preference(space_id: str, worker_id: str) -> int:
    """How much ``worker_id`` wants ``space_id`` (rendezvous hashing: stable, evenly spread)."""
    digest = hashlib.blake2b(f"{space_id}\x00{worker_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Plan:
    """What one worker does at its next look: the spaces to renew, to claim, to give back."""

    renew: tuple[str, ...]
    claim: tuple[str, ...]
    release: tuple[str, ...]


def plan(
    spaces: Sequence[str], me: str, owned: Iterable[str], held: dict[str, str], members: int
) -> Plan:
    """Decide renewals, claims and releases from the live leases ``held`` (space -> holder).

    Pure: a worker keeps at most ``ceil(len(spaces) / members)`` spaces, the ones it prefers
    most, and claims free spaces it prefers until it has its share."""
    share = math.ceil(len(spaces) / max(members, 1))
    known = set(spaces)
    mine = sorted(
        (s for s in set(owned) if s in known and held.get(s, me) == me),
        key=lambda s: preference(s, me),
        reverse=True,
    )
    keep, release = mine[:share], mine[share:]
    free = sorted(
        (s for s in spaces if s not in held and s not in mine),
        key=lambda s: preference(s, me),
        reverse=True,
    )
    return Plan(tuple(keep), tuple(free[: max(share - len(keep), 0)]), tuple(release))


def durable_for(stage: str, space_id: str) -> str:
    """The durable consumer of ``stage`` for one space (a valid name on every engine)."""
    name = f"{stage}-{_SAFE.sub('_', space_id)}"
    if len(name) > 64 or name != f"{stage}-{space_id}":  # cut or changed: keep it unique
        digest = hashlib.blake2b(space_id.encode(), digest_size=6).hexdigest()
        name = f"{name[:51]}-{digest}"
    return validate_durable(name)


class _Recent:
    """The last ``size`` seqs applied to a space, with a set for constant-time lookups."""

    def __init__(self, size: int, seqs: Iterable[int] = ()) -> None:
        self._order: deque[int] = deque()
        self._seen: set[int] = set()
        self._size = size
        for seq in seqs:
            self.append(seq)

    def append(self, seq: int) -> None:
        if seq in self._seen:
            return
        if len(self._order) >= self._size:
            self._seen.discard(self._order.popleft())
        self._order.append(seq)
        self._seen.add(seq)

    def __contains__(self, seq: object) -> bool:
        return seq in self._seen

    def __iter__(self) -> Iterator[int]:
        return iter(self._order)


@dataclass
class _Shard:
    subscription: Subscription
    recent: _Recent
    in_hand: list[int] = field(default_factory=list)
    dirty: bool = True  # restore from the checkpoint before the next fetch


class ShardedSubscription:
    """A ``Subscription`` over the spaces this worker holds, for one stage.

    ``fetch`` renews the leases when due, then hands out a batch of one space at a time (round
    robin), without the messages the space's checkpoint says were applied already.
    """

    def __init__(
        self,
        bus: Bus,
        leases: LeaseRepository,
        stage: str,
        worker_id: str,
        space_ids: Sequence[str],
        subjects_for: Callable[[str], list[str]],
        restore: Restore,
        settings: WorkerSettings,
    ) -> None:
        self._bus, self._leases, self._stage, self._me = bus, leases, stage, worker_id
        self._spaces = tuple(space_ids)
        self._subjects_for, self._restore, self._settings = subjects_for, restore, settings
        self._shards: dict[str, _Shard] = {}
        self._turn = 0
        self._next_look = 0.0
        self._held_until = 0.0  # monotonic: the leases we renewed last lapse then

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[Delivery]:
        until = time.monotonic() + timeout_s
        while True:
            if time.monotonic() >= self._next_look:
                await self._look()
            spaces = list(self._shards)
            for i in range(len(spaces)):
                space_id = spaces[(self._turn + i) % len(spaces)]
                batch = await self._fetch_space(space_id, max_messages)
                if batch:
                    self._turn += i + 1
                    return batch
            left = until - time.monotonic()
            if left <= 0:
                return []
            await asyncio.sleep(min(left, 0.05))

    async def _fetch_space(self, space_id: str, max_messages: int) -> list[Delivery]:
        shard = self._shards[space_id]
        if shard.dirty and not await self._restore_space(space_id, shard):
            return []
        batch = await shard.subscription.fetch(max_messages, timeout_s=0)
        fresh = []
        for delivery in batch:
            if delivery.seq in shard.recent:  # applied before a death or a failed ack
                await shard.subscription.ack(delivery)
            else:
                fresh.append(delivery)
        shard.in_hand = [d.seq for d in fresh]
        return fresh

    def checkpoint(self, space_id: str) -> tuple[int, list[int]]:
        """The last seq and the recent seqs to save with the batch in hand for ``space_id``."""
        shard = self._shards[space_id]
        recent = [*shard.recent, *shard.in_hand][-self._settings.recent_seqs :]
        return max(recent, default=0), recent

    async def ack(self, delivery: Delivery) -> None:
        shard = self._shards.get(delivery.event.space_id)
        if shard is None:
            return  # given up meanwhile: the next owner skips it by the checkpoint
        shard.recent.append(delivery.seq)
        await shard.subscription.ack(delivery)

    async def nak(self, delivery: Delivery) -> None:
        shard = self._shards.get(delivery.event.space_id)
        if shard is None:
            return
        shard.dirty = True  # the stage may hold a half-applied batch: back to the checkpoint
        await shard.subscription.nak(delivery)

    async def _restore_space(self, space_id: str, shard: _Shard) -> bool:
        try:
            found = await asyncio.to_thread(self._leases.checkpoints, self._stage, [space_id])
        except Exception:  # the database is away: try at the next round, process nothing
            log.warning("checkpoint_unreadable", stage=self._stage, space=space_id)
            return False
        state = found[space_id][1] if space_id in found else None
        self._restore(space_id, state)
        shard.recent = _Recent(self._settings.recent_seqs, (state or {}).get("recent", ()))
        shard.dirty = False
        return True

    async def _look(self) -> None:
        """Renew what we hold, give back what is over our share, claim free spaces."""
        settings = self._settings
        self._next_look = time.monotonic() + settings.renew_s
        started = time.monotonic()
        try:
            kept, claimed, released = await asyncio.to_thread(self._lease_round)
        except Exception:
            log.warning("leases_unreachable", stage=self._stage, worker=self._me)
            if time.monotonic() >= self._held_until and self._shards:
                # others may hold our spaces by now: stop before two workers apply one space
                log.warning("leases_lapsed", stage=self._stage, spaces=len(self._shards))
                self._shards.clear()
            return
        self._held_until = started + settings.lease_s
        for space_id in set(self._shards) - kept:
            del self._shards[space_id]
        if released or claimed:
            log.info("spaces_rebalanced", stage=self._stage, worker=self._me,
                     claimed=sorted(claimed), released=sorted(released))  # fmt: skip
        for space_id in sorted(claimed):
            subscription = await self._bus.subscribe(
                durable_for(self._stage, space_id), self._subjects_for(space_id)
            )
            self._shards[space_id] = _Shard(subscription, _Recent(settings.recent_seqs))

    def _lease_round(self) -> tuple[set[str], set[str], set[str]]:
        now = datetime.now(UTC)
        leases, stage, me, ttl = self._leases, self._stage, self._me, self._settings.lease_s
        leases.hold(stage, [f"{MEMBERS}.{me}"], me, now, ttl)
        live = leases.holders(stage, now)
        members = sum(1 for k in live if k.startswith(f"{MEMBERS}."))
        held = {k: h for k, h in live.items() if not k.startswith(f"{MEMBERS}.")}
        step = plan(self._spaces, me, self._shards, held, members)
        kept = leases.hold(stage, step.renew, me, now, ttl)
        leases.release(stage, step.release, me)
        claimed = leases.hold(stage, step.claim, me, now, ttl)
        return kept | claimed, claimed, set(step.release)

    async def close(self) -> None:
        """Give every space back at once, so the others need not wait for the leases to lapse."""
        spaces = [*self._shards, f"{MEMBERS}.{self._me}"]
        self._shards.clear()
        try:
            await asyncio.to_thread(self._leases.release, self._stage, spaces, self._me)
        except Exception:  # they lapse on their own
            log.warning("leases_not_released", stage=self._stage, worker=self._me)
