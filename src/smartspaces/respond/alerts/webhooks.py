"""Webhooks out: HMAC-SHA256-signed POSTs, retried with exponential backoff, every attempt kept.

Delivery is at-least-once: a receiver may see the same delivery twice (a response lost after it
was processed), so each request carries a delivery id to deduplicate on. The signature covers
the exact body bytes; receivers check it with ``verify`` (or the same three lines in any
language) before trusting the body. A delivery that exhausts its attempts comes back with
``delivered`` false: the caller dead-letters it with the attempts as the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from smartspaces.clock import Clock
from smartspaces.respond.alerts.delivery.attempts import Attempt as Attempt
from smartspaces.respond.alerts.delivery.attempts import RetryPolicy as RetryPolicy
from smartspaces.respond.alerts.delivery.attempts import until_delivered

SIGNATURE_HEADER = "X-Smartspaces-Signature"
DELIVERY_HEADER = "X-Smartspaces-Delivery"
ATTEMPT_HEADER = "X-Smartspaces-Attempt"
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""Answers that say "later": anything else outside 2xx is the receiver refusing for good."""


def sign(body: bytes, secret: bytes) -> str:
    """The signature header value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: bytes, signature: str) -> bool:
    """Whether ``signature`` is ``sign(body, secret)`` (compared in constant time)."""
    return hmac.compare_digest(sign(body, secret), signature)


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one delivery and every attempt it took."""

    url: str
    delivery_id: str
    delivered: bool
    attempts: tuple[Attempt, ...]

    @property
    def reason(self) -> str:
        """Why it failed, in words for a dead letter ("" once delivered)."""
        if self.delivered or not self.attempts:
            return ""
        last = self.attempts[-1]
        what = f"HTTP {last.status}" if last.status is not None else last.error
        return f"webhook to {self.url} failed after {len(self.attempts)} attempts: {what}"


class WebhookSender:
    """POSTs signed bodies through one shared ``httpx.AsyncClient`` (the caller owns it)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client, self._clock = client, clock
        self._policy = policy or RetryPolicy()
        self._sleep = sleep  # injected so tests and the demo need not wait for real

    async def deliver(
        self,
        url: str,
        body: bytes,
        secret: bytes,
        delivery_id: str,
        content_type: str = "application/json",
    ) -> DeliveryResult:
        """POST ``body`` to ``url`` until a 2xx, a refusal or the last attempt."""
        headers = {
            "Content-Type": content_type,
            SIGNATURE_HEADER: sign(body, secret),
            DELIVERY_HEADER: delivery_id,
        }
        delivered, attempts = await until_delivered(
            self._policy,
            self._sleep,
            lambda n: self._try(url, body, {**headers, ATTEMPT_HEADER: str(n)}, n),
            final=lambda a: a.status is not None and a.status not in _RETRY_STATUS,
        )
        return DeliveryResult(url, delivery_id, delivered, attempts)

    async def _try(self, url: str, body: bytes, headers: dict[str, str], number: int) -> Attempt:
        at = self._clock.now().isoformat()
        started = time.perf_counter()
        status: int | None = None
        error = ""
        try:
            response = await self._client.post(
                url, content=body, headers=headers, timeout=self._policy.timeout_s
            )
            status = response.status_code
        except httpx.HTTPError as failure:  # refused, reset, timed out: worth another try
            error = f"{type(failure).__name__}: {failure}"[:500]
        elapsed_ms = (time.perf_counter() - started) * 1000
        return Attempt(number, at, status, error, round(elapsed_ms, 3))
