"""The Kafka bus's own records: each durable's filters, and handovers of partitions.

They live on one compacted topic, ``<prefix>.consumers``, keyed by what they describe (the last
record of a key wins): ``durable:<group>`` holds the durable's subject filters (how a second
``subscribe`` with other filters is refused), ``handover:<group>:<topic>:<partition>`` the
offsets done above the committed one when a member let the partition go (see
``kafka_offsets``). Kafka's commit metadata could carry the latter, but not every
Kafka-compatible broker keeps it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from smartspaces.bus.kafka_clients import TopicPartition, read_until
from smartspaces.bus.kafka_offsets import Handover


class ConsumerRecords:
    """Reads ``<prefix>.consumers`` into memory and writes to it; ``refresh`` reads what is new."""

    def __init__(self, topic: str, reader: Any, producer: Any) -> None:
        self._tp = TopicPartition(topic, 0)
        self._reader = reader  # a started consumer without a group, used only here
        self._producer = producer
        self._values: dict[str, bytes] = {}
        self._lock = asyncio.Lock()
        reader.assign([self._tp])  # from the beginning: the reader has no group to resume

    async def refresh(self) -> None:
        """Read up to the end of the topic as it is now: everything written before is seen."""
        async with self._lock:
            end: int = (await self._reader.end_offsets([self._tp]))[self._tp]
            for record in await read_until(self._reader, {self._tp: end}):
                if record.key is not None:
                    key = record.key.decode(errors="replace")
                    if record.value is None:
                        self._values.pop(key, None)
                    else:
                        self._values[key] = record.value

    def filters(self, group: str) -> tuple[str, ...] | None:
        """The filters ``group`` was made with, as of the last refresh; None if it is new."""
        value = self._values.get(f"durable:{group}")
        if value is None:
            return None
        try:
            return tuple(json.loads(value)["filters"])
        except (ValueError, TypeError, KeyError):
            return ()  # unreadable: differs from any filters given, so it is refused loudly

    async def register(self, group: str, filters: tuple[str, ...]) -> None:
        await self._put(f"durable:{group}", json.dumps({"filters": list(filters)}).encode())

    def handover(self, group: str, tp: Any) -> Handover | None:
        value = self._values.get(f"handover:{group}:{tp.topic}:{tp.partition}")
        return None if value is None else Handover.from_json(value)

    async def put_handover(self, group: str, tp: Any, handover: Handover | None) -> None:
        """Record ``handover`` for the partition's next owner (None: forget the old one)."""
        key = f"handover:{group}:{tp.topic}:{tp.partition}"
        if handover is None and key not in self._values:
            return
        await self._put(key, None if handover is None else handover.to_json())

    async def _put(self, key: str, value: bytes | None) -> None:
        await self._producer.send_and_wait(self._tp.topic, value, key=key.encode(), partition=0)
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = value
