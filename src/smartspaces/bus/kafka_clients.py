"""The aiokafka clients of the Kafka bus, made from its settings; reading up to given offsets.

aiokafka ships no type information: its objects are ``Any`` here and nowhere else, so the rest
of the Kafka bus imports them from this module and annotates what it takes out of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerStoppedError,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from smartspaces.config import KafkaSettings

log = logging.getLogger(__name__)

__all__ = [
    "EVENT_ID_HEADER",
    "ConsumerRebalanceListener",
    "ConsumerStoppedError",
    "KafkaError",
    "NewTopic",
    "Record",
    "TopicPartition",
    "admin_client",
    "consumer",
    "producer",
    "read_until",
    "record_of",
    "stop",
]

EVENT_ID_HEADER = "ss-event-id"  # lets a reader find an event's id without parsing its JSON
# Nothing fetched for this long while offsets below the end are still missing: the range has
# a gap (a transaction marker, a compacted or deleted record), and the reader stops there.
_RANGE_IDLE_S = 2.0


class Record(NamedTuple):
    """One Kafka record as the bus sees it (aiokafka's ``ConsumerRecord``, typed)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


def record_of(raw: Any) -> Record:
    """Copy aiokafka's record into a typed one."""
    headers = tuple((str(k), bytes(v)) for k, v in (raw.headers or ()))
    return Record(raw.topic, raw.partition, raw.offset, raw.key, raw.value, headers)


def _common(settings: KafkaSettings) -> dict[str, Any]:
    return {
        "bootstrap_servers": list(settings.bootstrap_servers),
        "client_id": settings.client_id,
        "request_timeout_ms": int(settings.request_timeout_s * 1000),
    }


def producer(settings: KafkaSettings) -> Any:
    """A producer that waits for ``settings.acks`` and keeps each partition's order on retry.

    Idempotent producing stays off: not every Kafka-compatible broker offers producer ids, and
    the bus drops repeated ids itself (see ``KafkaBus``).
    """
    return AIOKafkaProducer(
        **_common(settings),
        acks="all" if settings.acks == "all" else 1,
        linger_ms=int(settings.linger_s * 1000),
        max_request_size=settings.max_message_bytes,
        enable_idempotence=False,
    )


def consumer(settings: KafkaSettings, group: str | None) -> Any:
    """A consumer that commits only when told to; in ``group`` if given, else assigned by hand."""
    session_ms = int(settings.session_timeout_s * 1000)
    return AIOKafkaConsumer(
        **_common(settings),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a new durable starts at the beginning
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(session_ms // 4, 50),
        # Some brokers hold a fetch most of this time even when a record has come: the wait
        # is the latency of a delivery there.
        fetch_max_wait_ms=int(settings.fetch_wait_s * 1000),
        max_partition_fetch_bytes=max(settings.max_message_bytes, 1_048_576),
    )


def admin_client(settings: KafkaSettings) -> Any:
    return AIOKafkaAdminClient(**_common(settings))


async def read_until(client: Any, ends: Mapping[Any, int]) -> list[Record]:
    """The records of each ``TopicPartition`` from the client's position up to (not with) its end.

    ``client`` is a started consumer without a group, assigned these partitions once: changing
    the assignment of a consumer that is fetching can make aiokafka's ``stop`` wait forever.
    """
    todo = dict(ends)
    found: list[Record] = []
    quiet_since = time.monotonic()
    while True:
        for tp in list(todo):
            position: int = await client.position(tp)
            if position >= todo[tp]:
                del todo[tp]
        if not todo:
            return found
        batch: dict[Any, list[Any]] = await client.getmany(*todo, timeout_ms=200)
        for tp, raws in batch.items():
            found += [record_of(raw) for raw in raws if raw.offset < ends[tp]]
        if batch:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > _RANGE_IDLE_S:
            return found


async def stop(client: Any, timeout_s: float = 10.0) -> None:
    """Stop a client; a failure, or a stop that hangs, is logged and left behind."""
    try:
        async with asyncio.timeout(timeout_s):
            await client.stop()
    except (KafkaError, OSError, TimeoutError) as exc:
        log.warning("bus: stopping a Kafka client: %r", exc)
