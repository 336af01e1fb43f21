"""The bus interface every engine implements: publish, durable pull subscriptions, acks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from smartspaces.bus.errors import InvalidSubjectError
from smartspaces.events import AnyEvent

_DURABLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}")
_TOKEN = re.compile(r"[A-Za-z0-9_:\-]+")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of one stored message to one durable consumer.

    ``seq`` is the message's stream sequence number: unique within one event kind (an engine
    may keep one stream per kind), so use ``event.id`` to tell events apart across kinds.
    ``num_delivered`` counts deliveries of this message to this consumer, 1 on the first; an
    engine may restart the count after a restart of the process (the embedded one does).
    """

    seq: int
    subject: str
    event: AnyEvent
    num_delivered: int


class Subscription(Protocol):
    """A durable pull consumer: fetch batches, then ack (or nak) each delivery.

    Guarantees: at-least-once. A delivery not acked within the bus's ``ack_wait_s`` is delivered
    again with ``num_delivered`` incremented. First deliveries come in stream order, so the order
    of the messages on one subject is preserved; redeliveries may come out of that order.
    Several ``Subscription`` objects with the same durable name share its work: each message is
    handed to one of them at a time.
    """

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[Delivery]:
        """Return up to ``max_messages`` deliveries as soon as at least one is available.

        Waits (without polling) for a publish, a nak or an ack deadline, and returns ``[]`` once
        ``timeout_s`` has passed with nothing to deliver. Raises ``BusClosedError`` when the bus
        is closed, also while waiting.
        """
        ...

    async def ack(self, delivery: Delivery) -> None:
        """Mark a delivery processed, so it is never delivered again to this durable.

        Idempotent: acking twice, or acking a message already acked, does nothing. An ack is not
        durable the instant this returns; if the process dies before the engine records it, the
        message is delivered again (at-least-once), never lost. Raises ``BusClosedError`` once
        the bus is closed.
        """
        ...

    async def nak(self, delivery: Delivery) -> None:
        """Give a delivery back to be delivered again soon (before new messages).

        Does nothing if the delivery was already acked; raises ``BusClosedError`` once the bus
        is closed.
        """
        ...


class Bus(Protocol):
    """The event bus: durable, at-least-once, subjects ``ss.<kind>.<space_id>``.

    Example::

        seq = await bus.publish(observation)
        sub = await bus.subscribe("crowd", ["ss.observation.>"])
        for delivery in await sub.fetch(timeout_s=5):
            handle(delivery.event)
            await sub.ack(delivery)
    """

    async def publish(self, event: AnyEvent) -> int:
        """Store ``event`` on ``subject_for(event)`` and return its stream sequence number.

        The event is stored durably (journalled, or acknowledged by the server) before this
        returns. If an event with the same ``id`` was published within the dedup window,
        nothing new is stored and the original sequence number is returned, so retries and
        replays are idempotent.
        """
        ...

    async def publish_many(self, events: Sequence[AnyEvent]) -> list[int]:
        """Publish ``events`` in order, in one write where the engine can; their seqs in order.

        Duplicates (within the batch or the dedup window) get their original sequence number.
        If this raises, part of the batch may be stored (the embedded bus stores none of it);
        publishing the same batch again is safe, as duplicates are dropped by id.
        """
        ...

    async def subscribe(self, durable: str, subjects: Sequence[str]) -> Subscription:
        """Open (or create) the durable consumer ``durable`` over the subject filters.

        Filters are NATS-style: ``*`` matches one token, a final ``>`` the rest (at least one
        token), e.g. ``ss.observation.>`` or ``ss.*.plaza``. A new durable starts at the
        beginning of the stream; an existing one resumes after what it acknowledged, also
        after a restart, where what it had fetched but not acked comes again (at the latest
        after ``ack_wait_s``; the embedded bus redelivers it at once). Raises
        ``InvalidSubjectError`` for a bad filter or name and ``ConsumerConflictError`` if the
        durable exists with other filters.
        """
        ...

    async def close(self) -> None:
        """Record pending acks, release the journal, and wake every waiting fetch."""
        ...


def validate_durable(name: str) -> str:
    """Return ``name`` if it can name a durable consumer on every engine, else raise."""
    if not _DURABLE.fullmatch(name):
        raise InvalidSubjectError(
            f"durable name {name!r}: use 1-64 letters, digits, '_' or '-', starting alphanumeric"
        )
    return name


def validate_filter(subject_filter: str) -> str:
    """Return ``subject_filter`` if it is a valid NATS-style filter, else raise."""
    tokens = subject_filter.split(".")
    for i, part in enumerate(tokens):
        if part == ">" and i == len(tokens) - 1:
            continue
        if part != "*" and not _TOKEN.fullmatch(part):
            raise InvalidSubjectError(
                f"subject filter {subject_filter!r}: token {part!r} is not allowed "
                "(tokens are non-empty; '*' is a whole token; '>' only as the last one)"
            )
    return subject_filter


def subject_matches(subject_filter: str, subject: str) -> bool:
    """Whether ``subject`` falls under ``subject_filter`` (``*`` one token, ``>`` the rest)."""
    wanted = subject_filter.split(".")
    tokens = subject.split(".")
    for i, part in enumerate(wanted):
        if part == ">":
            return len(tokens) > i
        if i >= len(tokens) or (part != "*" and part != tokens[i]):
            return False
    return len(tokens) == len(wanted)
