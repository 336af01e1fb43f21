"""The distributed bus on NATS JetStream: a stream per event kind, durable pull consumers.

A stream per kind, not one for ``ss.>``: kinds differ by orders of magnitude in volume and in how
long they are kept, and each stream has its own limits and Raft leader, so the busiest kind sets
neither the others' retention nor a single leader for every write. Cross-kind filters pay for it:
such a durable is one consumer per stream its filters reach, merged by ``fetch``. JetStream 2.9
(Debian's server) takes one filter per consumer, so a durable naming several spaces of one kind
reads the whole kind there and skips (acks) the rest. Seqs are per kind, as ``Delivery`` allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import weakref
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscriber
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, PubAck, StorageType, StreamConfig

from smartspaces.bus.base import Delivery, subject_matches, validate_durable, validate_filter
from smartspaces.bus.errors import BusClosedError, BusError, ConsumerConflictError
from smartspaces.config import NatsSettings
from smartspaces.events import EVENT_KINDS, AnyEvent, event_from_json, subject_for

log = logging.getLogger(__name__)

# No stream leader (one is being elected), no answer in time, or the connection is being
# re-established: worth retrying, as dedup by event id makes a repeated publish harmless.
_TRANSIENT = (
    *(nats.errors.TimeoutError, nats.errors.NoRespondersError, TimeoutError),
    *(nats.errors.ConnectionReconnectingError, nats.js.errors.NoStreamResponseError),
    nats.js.errors.ServiceUnavailableError,
)
# A pull is answered at once (no_wait) or at its expiry; no answer this long after means it was
# lost with a dead node, and waiting longer would only delay the failover.
_PULL_GRACE_S = 0.5
_STREAM_EXISTS = 10058  # JetStream: stream name already in use with a different configuration
_Failure = BaseException | None


class _Consumer(NamedTuple):
    """The durable's JetStream consumer on one kind's stream."""

    kind: str
    stream: str
    filters: tuple[str, ...] | None  # set when the consumer takes more than was asked for


@dataclass(eq=False)
class _Pull:
    """One pull request with its own inbox, so its messages and its end are its own."""

    left: int
    give_up_at: float  # no answer by then: lost (a reconnect), ask again
    retry_at: float = 0.0  # ended without messages but asked to wait: ask again then
    done: asyncio.Event = field(default_factory=asyncio.Event)
    inbox: NatsSubscriber | None = None

    def wake_at(self) -> float:
        return self.retry_at if self.done.is_set() else self.give_up_at


def _space_in_kind(kind: str, subject_filter: str) -> str | None:
    """The space token (or ``*``) ``subject_filter`` selects in kind's stream, None if none."""
    tokens = subject_filter.split(".")
    for i, part in enumerate(tokens[:3]):
        if part == ">":
            return "*"
        if i < 2 and part not in ("*", ("ss", kind)[i]):
            return None
    return tokens[2] if len(tokens) == 3 else None


class NatsSubscription:
    """A handle on one durable of a ``NatsBus`` (see ``Subscription``).

    Pull requests deliver into one local queue: a cheap no-wait sweep of every consumer first,
    then, when all were empty, a one-message wait on each, so at most one message per kind is
    fetched ahead of the caller (it is handed out by the next ``fetch``).
    """

    def __init__(self, bus: NatsBus, durable: str, consumers: list[_Consumer]) -> None:
        self._bus = bus
        self._durable = durable
        self._consumers = consumers
        self._ready: deque[Delivery] = deque()
        self._unacked: dict[tuple[str, int], Msg] = {}  # (kind, seq) -> its latest delivery
        self._waits: dict[str, _Pull] = {}
        self._turn = 0  # the sweep starts with a different stream each time: no starvation
        self._wakeup = asyncio.Event()

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[Delivery]:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        bus = self._bus
        until = time.monotonic() + timeout_s
        bus._check_open()
        try:
            await self._sweep(max_messages)
            while not self._ready:
                now = time.monotonic()
                if now >= until:
                    break
                for consumer in self._consumers:
                    await self._keep_waiting(consumer, until - now, now)
                wake = min([until, *(p.wake_at() for p in self._waits.values())])
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(wake - now, 0.0)):
                        await self._wakeup.wait()
                bus._check_open()
                if self._ready:
                    await self._sweep(max_messages)
        except nats.errors.Error as exc:
            bus._check_open()
            raise BusError(f"fetch for durable {self._durable!r} failed: {exc!r}") from exc
        count = min(max_messages, len(self._ready))
        return [self._ready.popleft() for _ in range(count)]

    async def ack(self, delivery: Delivery) -> None:
        self._bus._check_open()
        msg = self._unacked.pop((delivery.event.kind, delivery.seq), None)
        if msg is not None:  # else acked already, or never ours: nothing to do
            await msg.ack()

    async def nak(self, delivery: Delivery) -> None:
        self._bus._check_open()
        msg = self._unacked.pop((delivery.event.kind, delivery.seq), None)
        if msg is not None:
            await msg.nak()

    def _wake(self) -> None:
        self._wakeup.set()

    async def _sweep(self, max_messages: int) -> None:
        """Take what is there, up to ``max_messages`` in hand, one stream after another."""
        self._turn += 1
        n = len(self._consumers)
        for i in range(n):
            if len(self._ready) >= max_messages:
                return
            pull = await self._pull(self._consumers[(self._turn + i) % n], max_messages, None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_PULL_GRACE_S):
                    await pull.done.wait()
            await self._drop(pull)  # if its answer was lost (a node died): redelivered later

    async def _keep_waiting(self, consumer: _Consumer, wait_s: float, now: float) -> None:
        pull = self._waits.get(consumer.kind)
        if pull is not None and now < (pull.retry_at if pull.done.is_set() else pull.give_up_at):
            return
        if pull is not None:
            await self._drop(pull)
        self._waits[consumer.kind] = await self._pull(consumer, 1, max(wait_s, 0.01))

    async def _pull(self, consumer: _Consumer, batch: int, wait_s: float | None) -> _Pull:
        """Ask ``consumer`` for up to ``batch`` messages, now (``wait_s=None``) or within."""
        bus = self._bus
        pull = _Pull(batch, time.monotonic() + (wait_s or 0) + _PULL_GRACE_S)

        async def on_message(msg: Msg) -> None:
            status = msg.headers.get("Status") if msg.headers else None
            if status is None:
                pull.left -= 1
                await self._accept(consumer, msg)
            if status == "503":
                # No leader for the consumer (an election after a node died): ask again soon,
                # not at once, or this would spin until the election ends.
                pull.retry_at = time.monotonic() + 0.2
            if status is not None or pull.left <= 0:
                pull.done.set()
                # Unsubscribing cancels the task running this callback: leave it to another.
                bus._spawn(self._drop(pull))
            self._wake()

        inbox = bus._nc.new_inbox()
        pull.inbox = await bus._nc.subscribe(inbox, cb=on_message)
        # no_wait answers at once; 2.9 given "expires" as well would wait instead
        request = {"batch": batch, "no_wait": True} if wait_s is None else {
            "batch": batch, "expires": int(wait_s * 1e9)}  # fmt: skip
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{consumer.stream}.{self._durable}"
        await bus._nc.publish(subject, json.dumps(request).encode(), reply=inbox)
        return pull

    async def _drop(self, pull: _Pull) -> None:
        pull.done.set()
        inbox, pull.inbox = pull.inbox, None
        if inbox is not None and not self._bus._nc.is_closed:
            # closed or reconnecting: the server forgets the inbox with the connection
            with contextlib.suppress(nats.errors.Error):
                await inbox.unsubscribe()

    async def _accept(self, consumer: _Consumer, msg: Msg) -> None:
        subject = msg.subject[self._bus._cut :]
        if consumer.filters and not any(subject_matches(f, subject) for f in consumer.filters):
            await msg.ack()  # a space of this kind the durable did not ask for
            return
        meta = msg.metadata
        try:
            event = event_from_json(msg.data)
        except ValueError:
            # Only NatsBus publishes here, after validation: this came from elsewhere. Logged,
            # and terminated so that it is not redelivered forever.
            log.error("bus: unreadable message %s seq %d terminated", subject, meta.sequence.stream)
            await msg.term()
            return
        self._unacked[(consumer.kind, meta.sequence.stream)] = msg
        self._ready.append(Delivery(meta.sequence.stream, subject, event, meta.num_delivered))


class NatsBus:
    """The distributed ``Bus``. Open it with ``await NatsBus.connect(settings)``.

    Publishes carry the event id as ``Nats-Msg-Id``, so the server drops a repeat within
    ``duplicate_window_s`` and answers with the original sequence number. A publish nobody
    answers (a node died, a leader is being elected) is retried for ``publish_retry_s``; in
    that case the retried events may land after later ones of the same batch.
    """

    def __init__(self, settings: NatsSettings, nc: Client) -> None:
        self._settings = settings
        self._nc = nc
        self._js = nc.jetstream(timeout=settings.request_timeout_s)
        self._prefix = f"{settings.subject_prefix}." if settings.subject_prefix else ""
        self._cut = len(self._prefix)
        self._subscriptions: weakref.WeakSet[NatsSubscription] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    async def connect(cls, settings: NatsSettings) -> NatsBus:
        """Connect to the cluster and create (or update) the streams; ``BusError`` if it can't."""

        async def on_error(exc: Exception) -> None:
            log.warning("bus: NATS connection: %r", exc)

        nc = Client()
        # Reconnects never stop (a dead node is no reason to give up), and nats-py applies that
        # to the first connect too: bound it to one try per server.
        try:
            async with asyncio.timeout((settings.connect_timeout_s + 0.5) * len(settings.servers)):
                # nats-py annotates these seconds as int; it takes (and sleeps) floats
                await nc.connect(
                    servers=settings.servers, max_reconnect_attempts=-1, error_cb=on_error,
                    connect_timeout=settings.connect_timeout_s,  # type: ignore[arg-type]
                    reconnect_time_wait=0.5,  # type: ignore[arg-type]
                )  # fmt: skip
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            await nc.close()
            raise BusError(f"cannot reach NATS at {', '.join(settings.servers)}: {exc!r}") from exc
        bus = cls(settings, nc)
        try:
            await asyncio.gather(*(bus._ensure_stream(kind) for kind in EVENT_KINDS))
        except nats.errors.Error as exc:
            await nc.close()
            raise BusError(f"cannot create the bus streams: {exc!r}") from exc
        return bus

    def stream_name(self, kind: str) -> str:
        return f"{self._settings.stream_prefix}_{kind.upper()}"

    async def _ensure_stream(self, kind: str) -> None:
        s = self._settings
        config = StreamConfig(
            name=self.stream_name(kind), subjects=[f"{self._prefix}ss.{kind}.*"],
            storage=StorageType.FILE, num_replicas=s.replicas,
            duplicate_window=s.duplicate_window_s, max_age=s.max_age_s,
        )  # fmt: skip
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError as exc:
            if exc.err_code != _STREAM_EXISTS:
                raise
            await self._js.update_stream(config)  # settings changed since it was made

    async def publish(self, event: AnyEvent) -> int:
        return (await self.publish_many((event,)))[0]

    async def publish_many(self, events: Sequence[AnyEvent]) -> list[int]:
        self._check_open()
        seqs: list[int] = []
        give_up_at = time.monotonic() + self._settings.publish_retry_s
        while len(seqs) < len(events):
            stored, error = await self._publish_batch(events[len(seqs) :])
            seqs += stored
            if error is None:
                break
            self._check_open()
            if not isinstance(error, _TRANSIENT) or time.monotonic() >= give_up_at:
                raise BusError(f"publish failed after {len(seqs)} of {len(events)}: {error!r}")
            await asyncio.sleep(0.2)
        return seqs

    async def _publish_batch(self, events: Sequence[AnyEvent]) -> tuple[list[int], _Failure]:
        """Send all, then await the answers together: the seqs of the stored prefix, the error."""
        futures: list[asyncio.Future[PubAck]] = []
        seqs: list[int] = []
        error: _Failure = None
        try:
            for event in events:
                payload, headers = event.model_dump_json().encode(), {"Nats-Msg-Id": event.id}
                subject = self._prefix + subject_for(event)
                futures.append(await self._js.publish_async(subject, payload, headers=headers))
            if futures:
                await asyncio.wait(futures, timeout=self._settings.request_timeout_s)
            for future in futures:
                if not future.done() or future.exception() is not None:
                    error = future.exception() if future.done() else TimeoutError()
                    break
                seqs.append(future.result().seq)
        except nats.errors.Error as exc:
            error = exc
        for future in futures:
            future.cancel()  # the unanswered: their answers would come to nobody
        return seqs, error

    async def subscribe(self, durable: str, subjects: Sequence[str]) -> NatsSubscription:
        self._check_open()
        validate_durable(durable)
        filters = tuple(sorted({validate_filter(s) for s in subjects}))
        if not filters:
            raise ValueError("subscribe needs at least one subject filter")
        label = json.dumps(filters)  # kept as the description: how a conflict is recognised
        consumers: list[_Consumer] = []
        try:
            for found in await asyncio.gather(*(self._described(k, durable) for k in EVENT_KINDS)):
                if found not in (None, label):
                    raise ConsumerConflictError(
                        f"durable {durable!r} exists with filters {found}, not {list(filters)}"
                    )
            for kind in EVENT_KINDS:
                spaces = {s for f in filters if (s := _space_in_kind(kind, f)) is not None}
                if not spaces:
                    continue
                one = next(iter(spaces)) if len(spaces) == 1 else "*"
                config = ConsumerConfig(
                    durable_name=durable, description=label, ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL, ack_wait=self._settings.ack_wait_s,
                    filter_subject=f"{self._prefix}ss.{kind}.{one}",
                )  # fmt: skip
                await self._js.add_consumer(self.stream_name(kind), config)
                skip = filters if one == "*" and "*" not in spaces else None
                consumers.append(_Consumer(kind, self.stream_name(kind), skip))
        except nats.errors.Error as exc:
            raise BusError(f"cannot open durable {durable!r}: {exc!r}") from exc
        subscription = NatsSubscription(self, durable, consumers)
        self._subscriptions.add(subscription)
        return subscription

    async def _described(self, kind: str, durable: str) -> str | None:
        """The description (filters) of ``durable`` on kind's stream, None where it is not."""
        try:
            info = await self._js.consumer_info(self.stream_name(kind), durable)
        except nats.js.errors.NotFoundError:
            return None
        return info.config.description or ""

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscription in self._subscriptions:
            subscription._wake()
        try:
            await self._nc.flush(timeout=math.ceil(self._settings.request_timeout_s))  # acks 1st
        except nats.errors.Error as exc:
            log.warning("bus: acks may not have reached NATS before close: %r", exc)
        finally:
            await self._nc.close()

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosedError("the bus is closed")

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
