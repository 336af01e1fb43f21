"""MQTT gateways and registry checks, burst reading, and pacing by the buffer's rate factor."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiomqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartspaces.clock import SimulatedClock
from smartspaces.config import ApiSettings
from smartspaces.edge.buffer.policy import Priority
from smartspaces.edge.mqtt.adapter import MqttAdapter
from smartspaces.edge.mqtt.parsing import MessageParser, parse_message
from smartspaces.errors import ConfigError
from tests.conftest import T0
from tests.edge.conftest import (
    HOST,
    REGISTRY,
    PrivateMosquitto,
    Recorder,
    Registry,
    counter,
    mqtt_settings,
    publish,
    running,
    until,
)


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sensor_id": "g1a",
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 3,
        "observed_at": T0.isoformat(),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


def at(seconds: int) -> str:
    return (T0 - timedelta(seconds=seconds)).isoformat()


async def test_a_gateway_reports_for_its_devices_and_for_no_other(
    broker: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    config = mqtt_settings(broker)
    prefix = config.topic_prefix()
    valid = [
        # one topic for the gateway, device ids in the payload (one reading or an array)
        (f"{prefix}/plaza/gw1", body(item())),
        (f"{prefix}/plaza/gw1", body([item(sensor_id="g1b", observed_at=at(s)) for s in (1, 2)])),
        # one topic per relayed device: the payload may leave sensor_id out
        (f"{prefix}/plaza/gw1/g1a", body(item(sensor_id=..., observed_at=at(5)))),
        (f"{prefix}/plaza/gw1/g1b", body(item(sensor_id="g1b", observed_at=at(6)))),
    ]
    hostile = [
        ("not its device", "plaza/gw1", item(sensor_id="c2"), "'gw1' may not report for 'c2'"),
        ("disabled device", "plaza/gw1", item(sensor_id="off"), "'off' is disabled"),
        ("unknown device", "plaza/gw1", item(sensor_id="ghost"), "unknown device 'ghost'"),
        ("unknown gateway", "plaza/gw9", item(), "publisher 'gw9' is unknown"),
        ("other quantity", "plaza/gw1", item(sensor_id="g1b", quantity="exits_count"), "measure"),
        ("topic device", "plaza/gw1/g1a", item(sensor_id="g1b"), "differs from the topic's"),
        ("relay not its", "plaza/gw1/c2", item(sensor_id=...), "'gw1' may not report for 'c2'"),
        ("wrong space", "harbour/gw1", item(space_id="harbour"), "serves 'plaza'"),
        ("out of range", "plaza/gw1", item(value=-4), "outside"),
        ("NaN", "plaza/gw1/g1a", item(value=float("nan")), "finite"),
        ("far past", "plaza/gw1", item(observed_at=(T0 - timedelta(days=30)).isoformat()), "old"),
    ]
    raw = [
        ("malformed", "plaza/gw1/g1a", b'{"value": ', "not valid JSON"),
        ("oversized", "plaza/gw1/g1a", b"[" + b" " * 262_144 + b"]", "over the 262144-byte"),
        ("deep", "plaza/gw1", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ]
    messages = valid + [(f"{prefix}/{t}", body(p)) for _, t, p, _ in hostile]
    messages += [(f"{prefix}/{t}", p) for _, t, p, _ in raw]
    async with running(config, recorder, recorder, clock) as adapter:
        await publish(broker, messages)
        expected = len(hostile) + len(raw)
        await until(lambda: len(recorder.dead) >= expected, what="every dead letter")
        await until(lambda: len(recorder.observations) >= 5, what="5 relayed readings")
    assert sorted(o.sensor_id for o in recorder.observations) == ["g1a", "g1a", "g1b", "g1b", "g1b"]
    reasons = [reason for _, reason, _ in recorder.dead]
    assert len(reasons) == len(hostile) + len(raw)
    for (case, _, _, expected_text), reason in zip(hostile + raw, reasons, strict=True):
        assert expected_text in reason, f"{case}: {reason}"
        assert reason.startswith("topic "), reason
    assert adapter.counters.rejected == len(hostile) + len(raw)
    assert adapter.counters.accepted == 5


def test_the_adapter_refuses_to_start_without_the_registry_it_must_check() -> None:
    async def sink(*_: Any) -> None: ...

    with pytest.raises(ConfigError, match="registry"):
        MqttAdapter(mqtt_settings(1883), ApiSettings(), {"plaza"}, sink, sink, SimulatedClock(T0))


async def test_registrations_are_looked_up_once_per_cache_period(
    mosquitto: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    registry = Registry(counter("c1"), counter("c2", status="disabled"))
    config = mqtt_settings(mosquitto, registry_cache_s=60)
    topic = f"{config.topic_prefix()}/plaza/c1"
    first = [(topic, body(item(sensor_id="c1", observed_at=at(s)))) for s in range(200)]
    async with running(config, recorder, recorder, clock, devices=registry):
        await publish(mosquitto, first)
        await until(lambda: len(recorder.observations) == 200, what="200 readings")
        assert registry.lookups <= 2  # the first batch, and at most one with another device
        # disabled in the registry: believed until the cached registration expires
        registry.devices["c1"] = counter("c1", status="disabled")
        clock.advance(61)
        late = [(topic, body(item(sensor_id="c1", observed_at=at(-30))))]
        await publish(mosquitto, late)
        await until(lambda: len(recorder.dead) == 1, what="the refusal")
    assert "publisher 'c1' is disabled" in recorder.dead[0][1]


async def test_a_backlog_is_read_in_bursts_and_handed_on_in_batches(
    private_mosquitto: PrivateMosquitto, recorder: Recorder, clock: SimulatedClock
) -> None:
    port = private_mosquitto.port
    config = mqtt_settings(port)
    topic = f"{config.topic_prefix()}/plaza/c1"
    async with running(config, recorder, recorder, clock, forget_session=False):
        pass
    # nobody is subscribed now: the broker keeps these for the adapter's session
    await publish(
        port, [(topic, body(item(sensor_id="c1", observed_at=at(s)))) for s in range(3000)]
    )
    calls = 0

    async def counting(observations: Any) -> None:
        nonlocal calls
        calls += 1
        await recorder(observations)

    async with running(config, counting, recorder, clock) as adapter:
        await until(lambda: len(recorder.observations) == 3000, what="all 3000")
    assert recorder.dead == []
    assert len(set(recorder.ids())) == 3000
    # what waited came in batches, not one message per turn of the event loop
    assert adapter.counters.messages / calls > 20


async def test_the_rate_factor_is_advised_to_devices_and_thins_slow_streams(
    mosquitto: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    factors = {Priority.LOW: 1.0, Priority.NORMAL: 1.0, Priority.ALARM: 1.0}
    config = mqtt_settings(mosquitto)
    advice_topic = config.topic.replace("/observations/#", "/control/rate")
    # thinning is opt-in (pace); advice is always published
    config = config.model_copy(update={"advice_topic": advice_topic, "pace": True})
    topic = f"{config.topic_prefix()}/plaza/c1"

    def battery(s: int) -> tuple[str, bytes]:
        reading = item(sensor_id="c1", quantity="battery_ratio", value=0.5, interval_s=1)
        return topic, body({**reading, "observed_at": at(100 - s)})

    def count(s: int) -> tuple[str, bytes]:
        return topic, body(item(sensor_id="c1", interval_s=1, observed_at=at(100 - s)))

    advice: dict[str, dict[str, Any]] = {}
    async with (
        aiomqtt.Client(HOST, mosquitto) as listener,
        running(config, recorder, recorder, clock, pace=factors.__getitem__) as adapter,
    ):
        await listener.subscribe(f"{advice_topic}/#", qos=1)
        await publish(mosquitto, [battery(s) for s in range(8)] + [count(s) for s in range(8)])
        await until(lambda: len(recorder.observations) == 16, what="everything at full rate")
        factors[Priority.LOW] = 0.25  # the backlog grows: low-priority streams to a quarter
        await publish(
            mosquitto, [battery(s) for s in range(8, 16)] + [count(s) for s in range(8, 16)]
        )
        await until(lambda: adapter.counters.messages == 32, what="the second 16")
        async with asyncio.timeout(5):
            async for message in listener.messages:
                assert isinstance(message.payload, bytes)
                text = json.loads(message.payload)
                advice[text["priority"]] = text
                if advice.get("low", {}).get("rate_factor") == 0.25:
                    break
        for level in ("low", "normal"):  # leave no retained advice on the shared broker
            await listener.publish(f"{advice_topic}/{level}", b"", qos=1, retain=True)
    kept = [o for o in recorder.observations if o.quantity == "battery_ratio"]
    counts = [o for o in recorder.observations if o.quantity == "entries_count"]
    assert len(counts) == 16  # normal priority: untouched
    assert len(kept) == 8 + 2  # one battery reading in four once slowed down
    assert adapter.counters.thinned == 6
    assert recorder.dead == []  # thinned readings are valid: counted, not dead-lettered
    assert advice["low"] == {"priority": "low", "rate_factor": 0.25, "interval_factor": 4.0}
    assert advice["normal"]["rate_factor"] == 1.0


LIMITS = ApiSettings()
PREFIX = "ss/observations"
fields = st.fixed_dictionaries(
    {},
    optional={
        "sensor_id": st.sampled_from(["g1a", "c1", "gw1", "", "x y"]),
        "space_id": st.sampled_from(["plaza", "harbour", "atlantis", 3]),
        "quantity": st.sampled_from(["entries_count", "battery_ratio", "nope"]),
        "value": st.one_of(st.floats(), st.integers(-5, 10**7), st.text(max_size=3)),
        "observed_at": st.integers(-200_000, 7200).map(
            lambda s: (T0 - timedelta(seconds=s)).isoformat()
        )
        | st.text(max_size=5),
        "unit": st.sampled_from(["count", "km/h", "%", "persons"]),
        "interval_s": st.sampled_from([1, 0, -1, None, 10**6]),
    },
)
payloads = (
    fields.map(lambda v: json.dumps(v).encode())
    | st.lists(fields, max_size=3).map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=60)
)
topics = st.sampled_from(
    ["plaza/c1", "plaza/gw1", "plaza/gw1/g1a", "harbour/c1", "plaza", "plaza/a/b/c", "pl aza/c1"]
).map(lambda t: f"{PREFIX}/{t}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    messages=st.lists(st.tuples(topics, payloads), min_size=1, max_size=6), relayed=st.booleans()
)
def test_the_batch_parser_agrees_with_the_message_parser(
    messages: list[tuple[str, bytes]], relayed: bool
) -> None:
    parser = MessageParser(PREFIX, {"plaza", "harbour"}, LIMITS, 262_144, relayed=relayed)
    fast = parser.parse(messages, T0)
    for (topic, payload), got in zip(messages, fast, strict=True):
        one = parse_message(
            topic,
            payload,
            prefix=PREFIX,
            spaces={"plaza", "harbour"},
            now=T0,
            limits=LIMITS,
            max_payload_bytes=262_144,
            relayed=relayed,
        )
        assert got.accepted == one.accepted
        assert [r.reason for r in got.rejected] == [r.reason for r in one.rejected]
        assert got.accepted or got.rejected
        for observation in got.accepted:
            assert observation.space_id == topic.split("/")[2]
            if not relayed or topic.count("/") == 4:
                assert observation.sensor_id == topic.rsplit("/", 1)[1]


def test_the_registry_is_known_to_the_tests() -> None:
    # the gateway fixtures above rely on these registrations
    assert REGISTRY.devices["g1a"].gateway_id == "gw1"
    assert REGISTRY.devices["off"].status == "disabled"


async def test_without_pace_a_slowed_stream_is_advised_but_nothing_is_dropped(
    mosquitto: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    factors = {Priority.LOW: 0.25, Priority.NORMAL: 0.25, Priority.ALARM: 1.0}
    config = mqtt_settings(mosquitto)
    assert config.pace is False  # the default: nothing valid is lost
    topic = f"{config.topic_prefix()}/plaza/c1"
    readings = [
        (topic, body(item(sensor_id="c1", interval_s=1, observed_at=at(100 - s))))
        for s in range(16)
    ]
    async with running(config, recorder, recorder, clock, pace=factors.__getitem__):
        await publish(mosquitto, readings)
        await until(lambda: len(recorder.observations) == 16, what="all 16, none thinned")
    assert recorder.dead == []
