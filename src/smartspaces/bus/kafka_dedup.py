"""Recent event ids of the Kafka bus, so that publishing an event again stores nothing new.

Kafka drops no repeated message by itself (its idempotent producer only covers one producer's
retries, and not every compatible broker has it). The bus keeps, per kind, the ids and seqs of
the last ``window`` messages: those it published, plus those it read back from the end of each
partition before its first publish (the ``ss-event-id`` header names them), so a restarted
publisher still knows what it stored just before.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any

from smartspaces.bus.kafka_clients import EVENT_ID_HEADER, TopicPartition, read_until
from smartspaces.bus.kafka_offsets import encode_seq


class RecentIds:
    """Per kind: event id -> seq of its last ``window`` messages (0: remember nothing)."""

    def __init__(self, window: int) -> None:
        self._window = window
        self._seqs: dict[str, dict[str, int]] = {}
        self._order: dict[str, deque[str]] = {}

    def get(self, kind: str, event_id: str) -> int | None:
        return self._seqs.get(kind, {}).get(event_id)

    def remember(self, kind: str, event_id: str, seq: int) -> None:
        if not self._window:
            return
        seqs = self._seqs.setdefault(kind, {})
        order = self._order.setdefault(kind, deque())
        if event_id not in seqs:
            order.append(event_id)
        seqs[event_id] = seq
        while len(order) > self._window:
            seqs.pop(order.popleft(), None)

    def remember_all(self, kind: str, found: Iterable[tuple[str, int]]) -> None:
        for event_id, seq in found:
            self.remember(kind, event_id, seq)


async def read_back(
    reader: Any, topics: list[str], window: int
) -> dict[str, list[tuple[str, int]]]:
    """Per topic, ``(event id, seq)`` of its last ``window`` messages, spread over partitions.

    ``reader`` is a started consumer without a group and without partitions; it gets all of
    the topics' partitions at once (see ``read_until``). Oldest first in each partition.
    """
    tps = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(reader.partitions_for_topic(topic) or ())
    ]
    found: dict[str, list[tuple[str, int]]] = {topic: [] for topic in topics}
    if not window or not tps:
        return found
    starts: dict[Any, int] = await reader.beginning_offsets(tps)
    ends: dict[Any, int] = await reader.end_offsets(tps)
    reader.assign(tps)
    for tp in tps:
        each = math.ceil(window / len(reader.partitions_for_topic(tp.topic)))
        reader.seek(tp, max(starts[tp], ends[tp] - each))
    for record in await read_until(reader, ends):
        event_id = record.header(EVENT_ID_HEADER)
        if event_id is not None:
            seq = encode_seq(record.partition, record.offset)
            found[record.topic].append((event_id.decode(errors="replace"), seq))
    return found
