"""How every transport tries: attempts with backoff until one gets through, each one timed.

Webhooks, TAK and MQTT differ only in what one attempt does; the loop, the waits and the record
of each attempt are here once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smartspaces.clock import Clock

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, the first wait (doubled each time, capped) and a timeout."""

    max_attempts: int = 5
    first_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    timeout_s: float = 5.0

    def backoff_s(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_backoff_s, self.first_backoff_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Attempt:
    """One try: when, what came back (a status, or the transport error) and how long it took."""

    number: int
    at: str
    status: int | None
    error: str
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        """Delivered: a 2xx, or (transports without a status) no error."""
        return (200 <= self.status < 300) if self.status is not None else not self.error


async def until_delivered(
    policy: RetryPolicy,
    sleep: Sleep,
    attempt: Callable[[int], Awaitable[Attempt]],
    final: Callable[[Attempt], bool] = lambda _: False,
) -> tuple[bool, tuple[Attempt, ...]]:
    """Call ``attempt(number)`` until one is ``ok``, one is ``final`` (a refusal not worth
    repeating) or ``policy.max_attempts`` ran out, backing off between tries."""
    made: list[Attempt] = []
    for number in range(1, policy.max_attempts + 1):
        tried = await attempt(number)
        made.append(tried)
        if tried.ok:
            return True, tuple(made)
        if final(tried):
            break
        if number < policy.max_attempts:
            await sleep(policy.backoff_s(number))
    return False, tuple(made)


async def timed(
    number: int,
    clock: Clock,
    timeout_s: float,
    send: Callable[[], Awaitable[None]],
    failures: tuple[type[BaseException], ...],
    on_failure: Callable[[], Awaitable[None]],
) -> Attempt:
    """One attempt of a transport without a status code: ``send`` within ``timeout_s``; any of
    ``failures`` (or the timeout) is recorded as the attempt's error, then ``on_failure`` runs
    (drop the connection, so the next attempt opens a fresh one)."""
    at = clock.now().isoformat()
    started = time.perf_counter()
    error = ""
    try:
        async with asyncio.timeout(timeout_s):
            await send()
    except (*failures, TimeoutError) as failure:  # type: ignore[misc]
        error = f"{type(failure).__name__}: {failure}"[:500]
        await on_failure()
    return Attempt(number, at, None, error, round((time.perf_counter() - started) * 1000, 3))
