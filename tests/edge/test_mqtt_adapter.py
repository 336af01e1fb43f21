"""The MQTT adapter against real brokers: valid data arrives, hostile data is dead-lettered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartspaces.clock import SimulatedClock
from smartspaces.config import ApiSettings
from smartspaces.edge.buffer import BufferSettings, StoreAndForward
from smartspaces.edge.mqtt.adapter import reconnect_delay_s
from smartspaces.edge.mqtt.parsing import Topic, parse_message, parse_topic
from smartspaces.edge.mqtt.settings import MqttSettings
from smartspaces.errors import RejectedInput
from tests.conftest import T0
from tests.edge.conftest import PrivateMosquitto, Recorder, mqtt_settings, publish, running, until


def item(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sensor_id": "c1",
        "space_id": "plaza",
        "quantity": "entries_count",
        "value": 12,
        "observed_at": T0.isoformat(),
        "interval_s": 10,
    }
    base.update(changes)
    return base


def body(data: Any) -> bytes:
    return json.dumps(data).encode()


async def test_valid_messages_become_observations(
    broker: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    config = mqtt_settings(broker)
    prefix = config.topic_prefix()
    batch = [
        item(sensor_id="c2", observed_at=(T0 - timedelta(seconds=s)).isoformat()) for s in (10, 20)
    ]
    async with running(config, recorder, recorder, clock) as adapter:
        await publish(
            broker, [(f"{prefix}/plaza/c1", body(item())), (f"{prefix}/plaza/c2", body(batch))]
        )
        await until(lambda: len(recorder.observations) == 3, what="3 observations")
    assert recorder.dead == []
    assert {o.sensor_id for o in recorder.observations} == {"c1", "c2"}
    assert all(o.source == "mqtt" and o.space_id == "plaza" for o in recorder.observations)
    assert len(set(recorder.ids())) == 3
    assert adapter.counters.accepted == 3


HOSTILE: list[tuple[str, str, bytes, str]] = [
    # (case, topic under the prefix, payload, a part of the reason)
    ("malformed JSON", "plaza/c1", b'{"sensor_id": "c1", ', "not valid JSON"),
    ("not UTF-8", "plaza/c1", b"\xff\xfe\x00", "not UTF-8"),
    ("wrong type", "plaza/c1", body(item(value="many")), "value"),
    ("not an object", "plaza/c1", b"42", "must be a JSON object"),
    ("unknown space", "atlantis/c1", body(item(space_id="atlantis")), "unknown space"),
    ("NaN", "plaza/c1", body(item(value=float("nan"))), "finite"),
    ("infinity", "plaza/c1", body(item(value=float("inf"))), "finite"),
    ("oversized", "plaza/c1", b"[" + b" " * 262_144 + b"]", "over the 262144-byte limit"),
    ("space mismatch", "plaza/c1", body(item(space_id="harbour")), "differs from the topic"),
    ("device mismatch", "plaza/c9", body(item()), "device 'c9' may not report for 'c1'"),
    ("future", "plaza/c1", body(item(observed_at=(T0 + timedelta(hours=2)).isoformat())), "future"),
    ("bad topic", "plaza/gw1/c1/extra", body(item()), "expected"),
    ("empty array", "plaza/c1", b"[]", "empty batch"),
]


async def test_hostile_messages_are_dead_lettered_with_reasons(
    broker: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    config = mqtt_settings(broker)
    prefix = config.topic_prefix()
    mixed = [item(observed_at=(T0 - timedelta(seconds=30)).isoformat()), item(value=-1)]
    messages = [(f"{prefix}/{topic}", payload) for _, topic, payload, _ in HOSTILE]
    messages.append((f"{prefix}/plaza/c1", body(mixed)))
    async with running(config, recorder, recorder, clock) as adapter:
        await publish(broker, messages)
        await until(lambda: len(recorder.dead) == len(HOSTILE) + 1, what="every dead letter")
    assert len(recorder.observations) == 1  # the valid item of the mixed array is kept
    assert recorder.observations[0].observed_at == T0 - timedelta(seconds=30)
    for (case, _, _, expected), (adapter_name, reason, _) in zip(
        HOSTILE, recorder.dead, strict=False
    ):
        assert adapter_name == "mqtt"
        assert expected in reason, f"{case}: {reason}"
    assert "item 1: value" in recorder.dead[-1][1]
    assert adapter.counters.rejected == len(HOSTILE) + 1


async def test_a_failing_sink_leaves_messages_unacknowledged_until_it_recovers(
    mosquitto: int, recorder: Recorder, clock: SimulatedClock
) -> None:
    config = mqtt_settings(mosquitto)
    prefix = config.topic_prefix()
    messages = [
        (f"{prefix}/plaza/c1", body(item(observed_at=(T0 - timedelta(seconds=s)).isoformat())))
        for s in range(50)
    ]
    recorder.down = True
    async with running(config, recorder, recorder, clock) as adapter:
        await publish(mosquitto, messages)
        await until(lambda: recorder.refused >= 3, what="refusals")
        recorder.down = False  # the broker sends again what was never acknowledged
        await until(lambda: len(set(recorder.ids())) == 50, what="all 50 after recovery")
    assert adapter.counters.failures >= 3
    assert adapter.counters.connects >= 2


async def test_the_adapter_reconnects_after_the_broker_restarts(
    private_mosquitto: PrivateMosquitto,
    recorder: Recorder,
    clock: SimulatedClock,
    tmp_path: Path,
) -> None:
    port = private_mosquitto.port
    config = mqtt_settings(port)
    prefix = config.topic_prefix()
    # What the broker never heard acknowledged comes again after its restart (at-least-once);
    # the store-and-forward sink in front of the recorder passes each id on once.
    buffer = StoreAndForward(recorder, tmp_path / "buffer.sqlite3", BufferSettings())

    def at(s: int) -> tuple[str, bytes]:
        return (
            f"{prefix}/plaza/c1",
            body(item(observed_at=(T0 - timedelta(seconds=s)).isoformat())),
        )

    async with running(config, buffer, recorder, clock) as adapter:
        await publish(port, [at(s) for s in range(100, 90, -1)])
        await until(lambda: len(recorder.observations) == 10, what="first 10")
        private_mosquitto.stop()
        await until(lambda: not adapter.ready.is_set(), what="the adapter to notice")
        private_mosquitto.start()
        await until(adapter.ready.is_set, what="reconnection")
        await publish(port, [at(s) for s in range(90, 80, -1)])
        await until(lambda: len(recorder.observations) == 20, what="10 more")
    times = [o.observed_at for o in recorder.observations]
    assert times == sorted(times) and len(set(times)) == 20
    assert adapter.counters.connects == 2
    buffer.close()


async def test_what_arrives_while_the_adapter_is_away_waits_in_its_session(
    private_mosquitto: PrivateMosquitto, recorder: Recorder, clock: SimulatedClock
) -> None:
    port = private_mosquitto.port
    config = mqtt_settings(port)
    topic = f"{config.topic_prefix()}/plaza/c1"
    async with running(config, recorder, recorder, clock, forget_session=False):
        pass
    early = [
        (topic, body(item(observed_at=(T0 - timedelta(seconds=s)).isoformat()))) for s in (3, 2)
    ]
    await publish(port, early)  # nobody is subscribed now: the broker keeps them for our session
    private_mosquitto.stop()  # and keeps them across its own restart
    private_mosquitto.start()
    async with running(config, recorder, recorder, clock):
        await until(lambda: len(recorder.observations) == 2, what="the 2 kept messages")


def test_reconnect_waits_double_up_to_a_cap() -> None:
    assert [reconnect_delay_s(a, 0.2, 1.0) for a in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert reconnect_delay_s(10_000, 0.2, 30.0) == 30.0


def test_topics_name_a_space_and_a_device_or_a_gateway_and_its_device() -> None:
    prefix = "ss/observations"
    assert parse_topic("ss/observations/plaza/c-1.a", prefix) == Topic("plaza", "c-1.a")
    assert parse_topic("ss/observations/plaza/gw1/c1", prefix) == Topic("plaza", "gw1", "c1")
    for topic in (
        "ss/observations/plaza",
        "other/plaza/c1",
        "ss/observations/pla.za/c1",
        "ss/observations//c1",
        "ss/observations/plaza/gw1/c1/x",
        "ss/observations/plaza/gw 1/c1",
        "ss/observations/plaza/gw1/",
    ):
        with pytest.raises(RejectedInput):
            parse_topic(topic, prefix)


LIMITS = ApiSettings()
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
items = st.fixed_dictionaries(
    {},
    optional={
        "sensor_id": st.sampled_from(["c1", "c2", "", "c 1"]) | st.text(max_size=8),
        "space_id": st.sampled_from(["plaza", "harbour"]) | json_values,
        "quantity": st.sampled_from(["entries_count", "density_p_m2", "speed_m_s"]) | json_values,
        "value": st.floats() | st.integers() | json_values,
        "observed_at": st.datetimes(timezones=st.just(T0.tzinfo)).map(lambda d: d.isoformat())
        | json_values,
        "unit": st.sampled_from(["km/h", "degF", "parsec", "m/s**9"]) | st.text(max_size=8),
        "interval_s": json_values,
    },
)
payloads = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.lists(items, max_size=5).map(lambda v: json.dumps(v).encode())
    | items.map(lambda v: json.dumps(v).encode())
)
topics = st.text(max_size=40) | st.tuples(st.text(max_size=10), st.text(max_size=10)).map(
    lambda p: f"ss/observations/{p[0]}/{p[1]}"
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topic=topics, payload=payloads)
def test_fuzzed_messages_never_crash_the_parser(topic: str, payload: bytes) -> None:
    result = parse_message(
        topic,
        payload,
        prefix="ss/observations",
        spaces={"plaza"},
        now=T0,
        limits=LIMITS,
        max_payload_bytes=MqttSettings().max_payload_bytes,
    )
    assert all(reject.reason for reject in result.rejected)
    for observation in result.accepted:
        assert topic == f"ss/observations/{observation.space_id}/{observation.sensor_id}"
    assert result.accepted or result.rejected
