"""Reading the broker's socket in bursts: the one place that reaches into paho's reader.

aiomqtt's reader callback has paho read one packet per wake-up of the event loop, so under load
every message costs a trip round the loop and the adapter sees them a few at a time. Reading
until the socket is empty (bounded, so that the loop still turns) hands the adapter the whole
burst at once: one sink call, one durable write and one write of acknowledgements per burst.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiomqtt
from paho.mqtt.enums import MQTTErrorCode

PACKETS_PER_WAKE = 2000
"""Most packets read in one turn of the event loop (then it serves the others)."""


_CHUNK = 262_144


class _BufferedSocket:
    """paho's socket with reads served from a buffer: paho asks for a packet's fixed header,
    its length and its body in separate reads, three system calls per message; this reads
    what the kernel holds in one call and hands it out. Everything else goes to the socket."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._data = b""
        self._at = 0

    def recv(self, size: int) -> bytes:
        if self._at >= len(self._data):
            self._data, self._at = self._sock.recv(max(size, _CHUNK)), 0
            if not self._data:
                return b""  # the broker closed the connection
        chunk = self._data[self._at : self._at + size]
        self._at += len(chunk)
        return chunk

    def buffered(self) -> bool:
        return self._at < len(self._data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _NoFilteredCallbacks:
    """Stands in for paho's tree of per-topic message callbacks, which aiomqtt never fills:
    paho walks it for every message, a tenth of the adapter's time under load."""

    def iter_match(self, topic: str) -> tuple[()]:
        return ()


def read_in_bursts(client: aiomqtt.Client, most: int = PACKETS_PER_WAKE) -> bool:
    """Replace the connected ``client``'s socket reader by one that reads up to ``most``
    packets per wake-up (and skip paho's empty per-topic callback lookup). Errors end the
    connection as aiomqtt's own reader does. Returns False
    (and changes nothing) for a TLS socket, whose buffered bytes select() cannot see."""
    paho = client._client
    sock = paho.socket()
    if sock is None or isinstance(sock, ssl.SSLSocket):
        return False
    disconnected = client._disconnected
    buffered = _BufferedSocket(sock)
    paho._sock = buffered
    loop = asyncio.get_running_loop()
    if not paho._on_message_filtered._root._children:  # nothing registered: nothing to walk
        paho._on_message_filtered = _NoFilteredCallbacks()  # type: ignore[assignment]

    def read() -> None:
        try:
            for _ in range(most):
                if paho._sock is not buffered:
                    return  # closed (or reconnected: that socket has its own reader)
                rc = paho._packet_read()
                if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                    return
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    paho._loop_rc_handle(rc)
                    return
            if buffered.buffered():
                loop.call_soon(read)  # select() cannot see what waits in our buffer
        except Exception as error:  # noqa: BLE001 - what aiomqtt's reader does: end the session
            if not disconnected.done():
                disconnected.set_exception(error)

    loop.add_reader(sock.fileno(), read)
    return True
