"""Which offsets of one Kafka partition a durable has done, and how seqs name them (pure).

Kafka keeps one committed offset per partition and group: everything below it is done. The
bus acks one message at a time, in any order, so each assigned partition keeps what is held
(fetched, not yet acked) and what is done above the lowest held offset; the commit is that
lowest held offset (the floor). What is done above the floor is handed to the partition's next
owner in a ``Handover`` record, so a restart or a rebalance redelivers only what was not acked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

PARTITION_BITS = 16
MAX_PARTITIONS = 1 << PARTITION_BITS
_HANDOVER_MAX_DONE = 10_000  # more done above the floor than this are redelivered instead


def encode_seq(partition: int, offset: int) -> int:
    """A message's seq: its offset and partition in one int, growing with the offset."""
    if not 0 <= partition < MAX_PARTITIONS:
        raise ValueError(f"partition {partition}: the bus takes topics of at most 65536")
    return offset << PARTITION_BITS | partition


def decode_seq(seq: int) -> tuple[int, int]:
    """``(partition, offset)`` of a seq made by ``encode_seq``."""
    return seq & (MAX_PARTITIONS - 1), seq >> PARTITION_BITS


@dataclass(frozen=True, slots=True)
class Handover:
    """What a member leaves to the next owner of a partition: offsets done above its floor.

    It is only valid while the committed offset is still ``floor``: a later commit (by anyone)
    makes it stale, and the next owner recognises that by the first offset it fetches.
    """

    floor: int
    done: tuple[int, ...]

    def to_json(self) -> bytes:
        return json.dumps(
            {"floor": self.floor, "done": [o - self.floor for o in self.done]}
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Handover | None:
        """The handover in ``data``, or None if it is not one (it is then ignored)."""
        try:
            raw = json.loads(data)
            floor = int(raw["floor"])
            return cls(floor, tuple(floor + int(delta) for delta in raw["done"]))
        except (ValueError, TypeError, KeyError):
            return None


class PartitionOffsets:
    """One assigned partition of one durable: held offsets, done ones above the floor."""

    def __init__(self, handover: Handover | None = None) -> None:
        self._handover = handover
        self.held: dict[int, None] = {}  # fetched and not done, in offset order
        self.done: set[int] = set()  # done above the floor (acked out of order, or handed over)
        self.next: int | None = None  # the offset after the last one fetched
        self.committed: int | None = None  # the floor Kafka has (or resumed from)

    def admit(self, offset: int) -> bool:
        """Hold a fetched offset; False if it was done already (before a handover)."""
        if self.next is None:
            # The first record of this assignment sits at the committed offset (records below
            # are done): the handover counts only if it was written at that very floor.
            handover, self._handover = self._handover, None
            if handover is not None and handover.floor == offset:
                self.done.update(o for o in handover.done if o > offset)
            self.committed = offset
        self.next = offset + 1
        if offset in self.done:
            return False
        self.held[offset] = None
        return True

    def finish(self, offset: int) -> bool:
        """Mark a held offset done; False if it was not held (done already, or never fetched)."""
        if offset not in self.held:
            return False
        was_first = offset == next(iter(self.held))
        del self.held[offset]
        if not was_first:
            self.done.add(offset)
        elif self.done:
            floor = self.floor
            self.done = {o for o in self.done if floor is not None and o > floor}
        return True

    @property
    def floor(self) -> int | None:
        """The offset to commit: every offset below it is done. None before the first fetch."""
        return next(iter(self.held), self.next)

    def to_commit(self) -> int | None:
        """The floor if it moved since the last commit, else None."""
        floor = self.floor
        return floor if floor is not None and floor != self.committed else None

    def handover(self) -> Handover | None:
        """The done offsets above the floor, for the next owner; None if there are none."""
        floor = self.floor
        if floor is None:
            return None
        done = sorted(o for o in self.done if o > floor)[:_HANDOVER_MAX_DONE]
        return Handover(floor, tuple(done)) if done else None
