"""Webhooks out: signatures, retries with backoff against a real HTTP server on loopback,
refusals not retried, dead-lettering after the last attempt."""

from __future__ import annotations

import hmac
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from smartspaces.clock import SimulatedClock
from smartspaces.respond.alerts.webhooks import (
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    DeliveryResult,
    RetryPolicy,
    WebhookSender,
    sign,
    verify,
)
from tests.conftest import T0

SECRET = b"not-a-real-secret"
BODY = b'{"id":"alert-1","level":"red"}'


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    signature = sign(BODY, SECRET)
    # the value any receiver computes with openssl / hmac in its own language
    assert signature == "sha256=" + hmac.new(SECRET, BODY, "sha256").hexdigest()
    assert verify(BODY, SECRET, signature)
    assert not verify(BODY + b" ", SECRET, signature)
    assert not verify(BODY, b"other", signature)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(first_backoff_s=0.5, max_backoff_s=3)
    assert [policy.backoff_s(n) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


class Receiver:
    """A webhook receiver on 127.0.0.1 answering the scripted statuses in turn."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append((dict(self.headers), self.rfile.read(length)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    served = Receiver(list(getattr(request, "param", [])))
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


async def send(url: str, policy: RetryPolicy) -> tuple[DeliveryResult, list[float]]:
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient(trust_env=False) as client:
        sender = WebhookSender(client, SimulatedClock(T0), policy, sleep=no_wait)
        return await sender.deliver(url, BODY, SECRET, "delivery-1"), waits


@pytest.mark.parametrize("receiver", [[500, 503]], indirect=True)
async def test_delivered_after_retries_with_every_attempt_recorded(receiver: Receiver) -> None:
    result, waits = await send(receiver.url, RetryPolicy(max_attempts=5, first_backoff_s=0.25))
    assert result.delivered and result.reason == ""
    assert [a.status for a in result.attempts] == [500, 503, 200]
    assert waits == [0.25, 0.5]
    assert len(receiver.requests) == 3
    for number, (headers, body) in enumerate(receiver.requests, start=1):
        assert body == BODY and verify(body, SECRET, headers[SIGNATURE_HEADER])
        assert headers[DELIVERY_HEADER] == "delivery-1"
        assert headers[ATTEMPT_HEADER] == str(number)


@pytest.mark.parametrize("receiver", [[401]], indirect=True)
async def test_a_refusal_is_not_retried(receiver: Receiver) -> None:
    result, waits = await send(receiver.url, RetryPolicy(max_attempts=5))
    assert not result.delivered and waits == []
    assert "HTTP 401" in result.reason


async def test_an_unreachable_receiver_is_dead_lettered_after_the_last_attempt() -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    result, waits = await send(url, RetryPolicy(max_attempts=3, first_backoff_s=1))
    assert not result.delivered and len(result.attempts) == 3
    assert waits == [1, 2]
    assert "failed after 3 attempts: ConnectError" in result.reason
