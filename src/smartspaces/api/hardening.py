"""Hardening around every request: bounded bodies, bounded JSON nesting, security headers.

Ingest routes are exempt from the body checks here: they bound and check their bodies
themselves, so that each refusal is kept as a dead letter with its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
_INNERMOST = re.compile(rb"\[\]|\{\}")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CONTENT_SECURITY_POLICY = (
    # Everything the page needs is served from here: no CDN, no tile server, no font server.
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def nests_deeper(body: bytes, limit: int) -> bool:
    """True if the JSON text ``body`` nests arrays and objects more than ``limit`` deep (or
    its brackets do not pair up). Runs at C speed (a few milliseconds a mebibyte): strings
    are cut out, then the innermost bracket pairs are removed level by level."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    if b"\\" in body:  # escaped backslashes, then escaped quotes, are string content
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, _NOT_STRUCTURE)  # brackets and the quotes around strings
    brackets = b"".join(skeleton.split(b'"')[::2])
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _INNERMOST.sub(b"", brackets)
        if len(shorter) == len(brackets):
            return True  # unpaired brackets: not JSON anybody would take
        brackets = shorter
    return bool(brackets)


def security_headers(development: bool, hsts_max_age_s: int) -> list[tuple[bytes, bytes]]:
    headers = {
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
    }
    if not development and hsts_max_age_s:
        headers["strict-transport-security"] = f"max-age={hsts_max_age_s}; includeSubDomains"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class RequestGuard:
    """ASGI middleware: refuses bodies over ``max_bytes`` (413) and JSON nested deeper than
    ``max_depth`` (400) before any route sees them, and adds the security headers."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_depth: int,
        headers: list[tuple[bytes, bytes]],
        exempt: Iterable[str] = (),
    ) -> None:
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth
        self.headers, self.exempt = headers, tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        path: str = scope["path"]
        if scope["method"] not in _WITH_BODY or path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(
                send,
                413,
                f"request body of {declared} bytes is over the {self.max_bytes}-byte limit",
            )
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await _refuse(send, 413, f"request body is over the {self.max_bytes}-byte limit")
                return
        body = b"".join(chunks)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if (kind == "application/json" or kind.endswith("+json")) and nests_deeper(
            body, self.max_depth
        ):
            await _refuse(send, 400, f"JSON body nests deeper than {self.max_depth} levels")
            return
        await self.app(scope, _replay(body, receive), send)

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return sending


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
