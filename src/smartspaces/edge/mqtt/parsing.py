"""Pure parsing of MQTT messages (topic and payload) into observations and reasoned rejects.

Topics: ``<prefix>/<space_id>/<device_id>`` for a device publishing for itself or a gateway
publishing for the devices it relays (their ids in the payload's ``sensor_id``), and
``<prefix>/<space_id>/<gateway_id>/<device_id>`` for a gateway relaying one device per topic
(``sensor_id`` may then be left out of the payload). Whether a gateway may speak for a device
is the registry's to say (``edge.devices.authorise``), not the parser's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from smartspaces.config import ApiSettings
from smartspaces.edge.observations import (
    ITEM,
    observation_builder,
    parse_batch,
    validate_json_batch,
    validate_observations,
)
from smartspaces.errors import RejectedInput
from smartspaces.events import Observation

SOURCE = "mqtt"
"""The ``source`` of every observation this adapter accepts (part of the observation's id)."""

KEPT_PAYLOAD_CHARS = 65_536
"""How much of a rejected payload is kept for the dead letter (the store cuts it again)."""

# The same patterns as events.SpaceId and events.Identifier: a topic level that would not pass
# them cannot name a space or a device, and saying so early gives a clearer reason.
_SPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:\-]{0,127}")
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
_TOPIC_CACHE = 4096  # topics seen recently (one per device or gateway): parsed once each


@dataclass(frozen=True, slots=True)
class Topic:
    """What a topic says: the space, who published, and the device a gateway relays on it."""

    space_id: str
    publisher: str
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    """Something of a message that was not accepted, why, and the text to keep for it."""

    reason: str
    payload: str


@dataclass(frozen=True, slots=True)
class MessageResult:
    """The observations one message yielded and what of it was rejected."""

    accepted: tuple[Observation, ...]
    rejected: tuple[Reject, ...]
    topic: Topic | None = None


def parse_topic(topic: str, prefix: str) -> Topic:
    """``<prefix>/<space>/<device>`` or ``<prefix>/<space>/<gateway>/<device>``; RejectedInput
    if neither."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise RejectedInput(f"topic {topic[:200]!r} is not under {head!r}")
    levels = topic[len(head) :].split("/")
    if len(levels) not in (2, 3):
        raise RejectedInput(
            f"topic {topic[:200]!r}: expected {head}<space_id>/<device_id> or "
            f"{head}<space_id>/<gateway_id>/<device_id>, got {len(levels)} level(s) after the "
            "prefix"
        )
    if not _SPACE.fullmatch(levels[0]):
        raise RejectedInput(f"topic {topic[:200]!r}: {levels[0][:200]!r} is not a space id")
    for device in levels[1:]:
        if not _DEVICE.fullmatch(device):
            raise RejectedInput(f"topic {topic[:200]!r}: {device[:200]!r} is not a device id")
    return Topic(levels[0], levels[1], levels[2] if len(levels) == 3 else None)


def parse_message(
    topic: str,
    payload: bytes,
    *,
    prefix: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
    max_payload_bytes: int,
    relayed: bool = False,
) -> MessageResult:
    """Validate one message: one JSON observation or a JSON array of them.

    Every item must name the topic's space. Its ``sensor_id`` must be the topic's device
    (a device publishes for itself; on a gateway's four-level topic, the device relayed there),
    except on a three-level topic when ``relayed`` is set: a gateway then names its devices in
    the payload and the caller checks them against the registry. One bad item never costs the
    valid ones beside it; a message unusable as a whole (bad topic, too big, not JSON) yields
    one reject.
    """
    parsed: Topic | None = None
    try:
        if len(payload) > max_payload_bytes:
            raise RejectedInput(
                f"payload of {len(payload)} bytes is over the {max_payload_bytes}-byte limit"
            )
        parsed = parse_topic(topic, prefix)
        if parsed.device is not None:
            items = _with_sensor(parse_batch(payload, limits.max_batch_items), parsed.device)
            batch = validate_observations(items, SOURCE, spaces, now, limits)
        else:
            # One object is the common message; as a one-item array it takes the validator's
            # one-pass fast path instead of its item-by-item fallback (same items, same checks).
            body = b"[" + payload + b"]" if payload[:1] == b"{" else payload
            batch = validate_json_batch(body, SOURCE, spaces, now, limits)
    except RejectedInput as error:
        return MessageResult((), (Reject(error.reason, _text(payload)),), parsed)
    except RecursionError:
        # json.loads gives up on deeply nested arrays; no observation nests that deep
        reject = Reject("payload is nested too deeply", _text(payload))
        return MessageResult((), (reject,), parsed)
    rejected = [Reject(f"item {r.index}: {r.reason}", r.item) for r in batch.rejected]
    accepted: list[Observation] = []
    for observation in batch.accepted:
        reason = mismatch(observation, parsed, relayed)
        if reason is None:
            accepted.append(observation)
        else:
            rejected.append(Reject(reason, observation.model_dump_json()))
    return MessageResult(tuple(accepted), tuple(rejected), parsed)


class MessageParser:
    """Parses a batch of messages with ``parse_message``'s rules and results, faster: topics
    are parsed once each (bounded cache), and a message holding one valid observation, the
    common case, is validated in one call without the batch machinery. Anything else, or
    anything that fails there, goes through ``parse_message`` itself, which words the reason.
    """

    def __init__(
        self,
        prefix: str,
        spaces: Collection[str],
        limits: ApiSettings,
        max_payload_bytes: int,
        relayed: bool = False,
    ) -> None:
        self.prefix, self.limits, self.relayed = prefix, limits, relayed
        self.spaces = frozenset(spaces)
        self.max_payload_bytes = max_payload_bytes
        self._topics: dict[str, Topic | None] = {}

    def parse(self, messages: Sequence[tuple[str, bytes]], now: datetime) -> list[MessageResult]:
        build = observation_builder(SOURCE, self.spaces, now, self.limits)
        results: list[MessageResult] = []
        for topic, payload in messages:
            parsed = self._topic(topic)
            observation = None
            if parsed is not None and payload[:1] == b"{":
                if len(payload) <= self.max_payload_bytes:
                    try:
                        observation = build(ITEM.validate_json(payload))
                    except ValidationError:
                        observation = None
            if observation is not None and mismatch(observation, parsed, self.relayed) is None:
                results.append(MessageResult((observation,), (), parsed))
            else:
                results.append(self.parse_one(topic, payload, now))
        return results

    def parse_one(self, topic: str, payload: bytes, now: datetime) -> MessageResult:
        return parse_message(
            topic,
            payload,
            prefix=self.prefix,
            spaces=self.spaces,
            now=now,
            limits=self.limits,
            max_payload_bytes=self.max_payload_bytes,
            relayed=self.relayed,
        )

    def _topic(self, topic: str) -> Topic | None:
        try:
            return self._topics[topic]
        except KeyError:
            pass
        try:
            parsed: Topic | None = parse_topic(topic, self.prefix)
        except RejectedInput:
            parsed = None  # parse_message will say why
        if len(self._topics) >= _TOPIC_CACHE:
            self._topics.clear()
        self._topics[topic] = parsed
        return parsed


def mismatch(observation: Observation, topic: Topic | None, relayed: bool) -> str | None:
    """Why ``observation`` cannot have come on ``topic``, or None if it can."""
    # A device publishes on its own topic: a payload naming another space or sensor is either a
    # misconfigured device or a forged one, and is believed in neither case.
    if topic is None:
        return "topic: not parsed"
    if observation.space_id != topic.space_id:
        return (
            f"space_id: {observation.space_id!r} differs from the topic's space {topic.space_id!r}"
        )
    device = topic.device if topic.device is not None else topic.publisher
    if observation.sensor_id != device and (topic.device is not None or not relayed):
        return f"sensor_id: {observation.sensor_id!r} differs from the topic's device {device!r}"
    return None


def _with_sensor(items: list[Any], device: str) -> list[Any]:
    # A gateway's per-device topic names the device already; the payload may leave it out.
    return [{"sensor_id": device, **item} if isinstance(item, dict) else item for item in items]


def _text(payload: bytes) -> str:
    return payload[:KEPT_PAYLOAD_CHARS].decode("utf-8", "replace")
