"""Alert delivery against real listeners on loopback: a TAK server (TCP and UDP), webhook
receivers, the real Mosquitto; every attempt recorded in the store, failures dead-lettered."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiomqtt
import pytest
from lxml import etree

from smartspaces.alert_delivery import build_alert_delivery
from smartspaces.clock import SimulatedClock
from smartspaces.config import Settings
from smartspaces.events import Alert, Level, RiskLevel
from smartspaces.respond.alerts.cap_xml import CapSchemas
from smartspaces.respond.alerts.cot import UNIT_TYPE, cot_uid, unit_uid
from smartspaces.respond.alerts.policy import AlertPolicy
from smartspaces.respond.alerts.webhooks import SIGNATURE_HEADER, verify
from smartspaces.store import Store
from tests.conftest import T0, square
from tests.edge.conftest import free_port, mosquitto  # noqa: F401 - fixture

HOST = "127.0.0.1"
SECRET = "a-shared-secret-for-tests"  # noqa: S105 - a test key
SPACE = square("plaza", 1000.0)


def alerts(levels: list[Level]) -> list[Alert]:
    """What the policy issues as the plaza goes through ``levels``, a minute apart."""
    policy = AlertPolicy({SPACE.id: SPACE})
    issued = []
    for minute, level in enumerate(levels):
        at = T0 + timedelta(minutes=minute)
        risk = RiskLevel(
            source="risk",
            space_id=SPACE.id,
            observed_at=at,
            received_at=at,
            level=level,
            score=0.5,
            reasons=("density",),
        )
        alert = policy.step(risk, at + timedelta(seconds=1))
        if alert is not None:
            issued.append(alert)
    return issued


class TakServer:
    """A TAK server's plain CoT input on loopback: splits the TCP stream into events."""

    def __init__(self) -> None:
        self.events: list[etree._Element] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> TakServer:
        self._server = await asyncio.start_server(self._client, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffer = b""
        while chunk := await reader.read(65536):
            buffer += chunk
            while b"</event>" in buffer:
                event, _, buffer = buffer.partition(b"</event>")
                self.events.append(etree.fromstring(event.strip() + b"</event>"))
        writer.close()

    async def wait_for(self, count: int) -> list[etree._Element]:
        async with asyncio.timeout(5):
            while len(self.events) < count:
                await asyncio.sleep(0.01)
        return self.events


def settings_with(tmp_path: Any, **delivery: Any) -> Settings:
    return Settings(
        store={"data_dir": tmp_path},
        mqtt={"enabled": False, "port": 1883},
        delivery={"first_backoff_s": 0.01, "max_attempts": 3, "timeout_s": 2, **delivery},
    )  # type: ignore[arg-type]


@pytest.fixture
def store(make_store: Callable[[str], Store]) -> Store:
    return make_store("sqlite")


async def no_wait(_: float) -> None:
    return None


async def test_tak_server_receives_markers_for_an_alert_chain_and_units(
    tmp_path: Any, store: Store
) -> None:
    chain = alerts([Level.AMBER, Level.RED, Level.NORMAL])
    async with TakServer() as tak:
        settings = settings_with(tmp_path, tak=[{"name": "tak-cp", "host": HOST, "port": tak.port}])
        delivery = build_alert_delivery(settings, store, {SPACE.id: SPACE}, SimulatedClock(T0))
        try:
            for alert in chain:
                outcomes = await delivery.deliver(alert, chain[:1])
                assert [o.delivered for o in outcomes] == [True]
            await delivery.deliver_unit("patrol-7", "inc-1", SPACE.id, T0, released=False)
            events = await tak.wait_for(4)
        finally:
            await delivery.close()
    marker_uid = cot_uid(chain[0])
    assert [e.get("uid") for e in events[:3]] == [marker_uid, marker_uid, f"{marker_uid}.delete"]
    assert events[0].get("type") == "b-m-p-s-m" and events[2].get("type") == "t-x-d-d"
    lon, lat = SPACE.centroid.coordinates
    point = events[0].find("point")
    assert point is not None and float(point.get("lat", "0")) == pytest.approx(lat, abs=1e-6)
    assert float(point.get("lon", "0")) == pytest.approx(lon, abs=1e-6)
    unit = events[3]
    assert unit.get("uid") == unit_uid("patrol-7") and unit.get("type") == UNIT_TYPE
    contact = unit.find("detail/contact")
    assert contact is not None and contact.get("callsign") == "patrol-7"
    # every attempt is on record, one per event here
    recorded = store.deliveries.for_subject(chain[0].id)
    assert [(r.channel, r.target, r.attempt, r.delivered) for r in recorded] == [
        ("tak", "tak-cp", 1, True)
    ]


async def test_udp_tak_target_gets_one_event_per_datagram(tmp_path: Any, store: Store) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind((HOST, 0))
        listener.settimeout(5)
        port = listener.getsockname()[1]
        settings = settings_with(
            tmp_path, tak=[{"name": "atak", "host": HOST, "port": port, "protocol": "udp"}]
        )
        delivery = build_alert_delivery(settings, store, {SPACE.id: SPACE}, SimulatedClock(T0))
        try:
            [alert] = alerts([Level.RED])
            [outcome] = await delivery.deliver(alert)
            data, _ = await asyncio.to_thread(listener.recvfrom, 65536)
        finally:
            await delivery.close()
    assert outcome.delivered
    assert etree.fromstring(data).get("uid") == cot_uid(alert)


async def test_an_unreachable_tak_server_is_retried_recorded_and_dead_lettered(
    tmp_path: Any, store: Store
) -> None:
    port = free_port()  # nobody listens there
    settings = settings_with(tmp_path, tak=[{"name": "tak-down", "host": HOST, "port": port}])
    delivery = build_alert_delivery(settings, store, {SPACE.id: SPACE}, SimulatedClock(T0))
    try:
        [alert] = alerts([Level.RED])
        [outcome] = await delivery.deliver(alert)
    finally:
        await delivery.close()
    assert not outcome.delivered and len(outcome.attempts) == 3
    assert "ConnectionRefusedError" in outcome.attempts[-1].error
    recorded = store.deliveries.for_subject(alert.id)
    assert [r.attempt for r in recorded] == [1, 2, 3] and not any(r.delivered for r in recorded)
    [letter] = store.dead_letters()
    assert letter.adapter == "delivery.tak" and "tak-down" in letter.reason
    assert json.loads(letter.payload)["id"] == alert.id  # the alert itself, to resend


class Receiver:
    """A webhook receiver on loopback that keeps what it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", "0"))
                receiver.requests.append((dict(self.headers), self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    yield r
    r.server.shutdown()


@pytest.mark.realdata
async def test_webhooks_get_signed_valid_cap_and_only_from_their_level_up(
    tmp_path: Any, store: Store, receiver: Receiver, cap_schemas: CapSchemas
) -> None:
    hooks = [
        {"name": "bomberos", "url": receiver.url, "secret": SECRET, "min_level": "red"},
        {"name": "ngsi", "url": receiver.url, "secret": SECRET, "format": "ngsi-ld"},
    ]
    settings = settings_with(tmp_path, webhooks=hooks)
    chain = alerts([Level.AMBER, Level.RED, Level.NORMAL])
    delivery = build_alert_delivery(settings, store, {SPACE.id: SPACE}, SimulatedClock(T0))
    try:
        sent = [len(await delivery.deliver(a, chain[:1])) for a in chain]
    finally:
        await delivery.close()
    # amber reaches only the NGSI-LD hook; the red update and the all-clear reach both
    assert sent == [1, 2, 2]
    caps = [body for headers, body in receiver.requests if "cap+xml" in headers["Content-Type"]]
    assert len(caps) == 2
    for headers, body in receiver.requests:
        assert verify(body, SECRET.encode(), headers[SIGNATURE_HEADER])
    for body in caps:
        assert cap_schemas.errors(etree.fromstring(body), "1.2") == []


async def test_mqtt_subscribers_get_each_alert_on_the_space_topic(
    tmp_path: Any,
    store: Store,
    mosquitto: int,  # noqa: F811 - fixture
) -> None:
    topic = f"test-alerts-{free_port()}"
    settings = settings_with(tmp_path, mqtt_topic=topic)
    [alert] = alerts([Level.RED])
    delivery = build_alert_delivery(settings, store, {SPACE.id: SPACE}, SimulatedClock(T0))
    try:
        [outcome] = await delivery.deliver(alert)
        assert outcome.delivered
        # retained: a control room that subscribes afterwards still gets the space's alert
        async with aiomqtt.Client(HOST, mosquitto) as client:
            await client.subscribe(f"{topic}/#", qos=1)
            async with asyncio.timeout(5):
                message = await anext(aiter(client.messages))
            await client.publish(f"{topic}/{SPACE.id}", b"", retain=True)  # clean up
    finally:
        await delivery.close()
    assert str(message.topic) == f"{topic}/{SPACE.id}"
    assert isinstance(message.payload, bytes)
    assert Alert.model_validate_json(message.payload) == alert


@pytest.mark.parametrize(
    "target",
    [
        {"name": "Bad Name", "host": HOST, "port": 8087},
        {"name": "tak", "host": HOST, "port": 0},
        {"name": "tak", "host": "", "port": 8087},
        {"name": "tak", "host": HOST, "port": 8087, "protocol": "sctp"},
    ],
)
def test_bad_targets_are_refused_at_start(tmp_path: Any, target: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="delivery"):
        settings_with(tmp_path, tak=[target])


@pytest.mark.parametrize(
    "hook",
    [
        {"name": "x", "url": "ftp://example.org/", "secret": SECRET},
        {"name": "x", "url": "http://example.org/", "secret": "short"},
        {"name": "x", "url": "http://example.org/", "secret": SECRET, "format": "xml"},
    ],
)
def test_bad_webhooks_are_refused_at_start(tmp_path: Any, hook: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="delivery"):
        settings_with(tmp_path, webhooks=[hook])


def test_the_secret_never_shows_in_the_settings_text(tmp_path: Any) -> None:
    hook = {"name": "x", "url": "http://example.org/", "secret": SECRET}
    settings = settings_with(tmp_path, webhooks=[hook])
    assert SECRET not in repr(settings) and SECRET not in settings.model_dump_json()
