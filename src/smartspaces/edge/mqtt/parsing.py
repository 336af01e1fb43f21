"""Pure parsing of one MQTT message (topic and payload) into observations and reasoned rejects."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from smartspaces.config import ApiSettings
from smartspaces.edge.observations import validate_json_batch
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


def parse_topic(topic: str, prefix: str) -> tuple[str, str]:
    """``<prefix>/<space_id>/<device_id>`` -> ``(space_id, device_id)``; RejectedInput if not."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise RejectedInput(f"topic {topic[:200]!r} is not under {head!r}")
    levels = topic[len(head) :].split("/")
    if len(levels) != 2:
        raise RejectedInput(
            f"topic {topic[:200]!r}: expected {head}<space_id>/<device_id>, got {len(levels)} "
            "level(s) after the prefix"
        )
    space_id, device_id = levels
    if not _SPACE.fullmatch(space_id):
        raise RejectedInput(f"topic {topic[:200]!r}: {space_id[:200]!r} is not a space id")
    if not _DEVICE.fullmatch(device_id):
        raise RejectedInput(f"topic {topic[:200]!r}: {device_id[:200]!r} is not a device id")
    return space_id, device_id


def parse_message(
    topic: str,
    payload: bytes,
    *,
    prefix: str,
    spaces: Collection[str],
    now: datetime,
    limits: ApiSettings,
    max_payload_bytes: int,
) -> MessageResult:
    """Validate one message: one JSON observation or a JSON array of them, published to
    ``<prefix>/<space_id>/<device_id>``.

    Every item must name the topic's space and have the topic's device as its ``sensor_id``
    (a device publishes for itself). One bad item never costs the valid ones beside it; a
    message that is unusable as a whole (bad topic, too big, not JSON) yields one reject.
    """
    try:
        if len(payload) > max_payload_bytes:
            raise RejectedInput(
                f"payload of {len(payload)} bytes is over the {max_payload_bytes}-byte limit"
            )
        space_id, device_id = parse_topic(topic, prefix)
        # One object is the common message; as a one-item array it takes the validator's
        # one-pass fast path instead of its item-by-item fallback (same items, same checks).
        body = b"[" + payload + b"]" if payload[:1] == b"{" else payload
        batch = validate_json_batch(body, SOURCE, spaces, now, limits)
    except RejectedInput as error:
        return MessageResult((), (Reject(error.reason, _text(payload)),))
    except RecursionError:
        # json.loads gives up on deeply nested arrays; no observation nests that deep
        return MessageResult((), (Reject("payload is nested too deeply", _text(payload)),))
    rejected = [Reject(f"item {r.index}: {r.reason}", r.item) for r in batch.rejected]
    accepted: list[Observation] = []
    for observation in batch.accepted:
        reason = _mismatch(observation, space_id, device_id)
        if reason is None:
            accepted.append(observation)
        else:
            rejected.append(Reject(reason, observation.model_dump_json()))
    return MessageResult(tuple(accepted), tuple(rejected))


def _mismatch(observation: Observation, space_id: str, device_id: str) -> str | None:
    # A device publishes on its own topic: a payload naming another space or sensor is either a
    # misconfigured device or a forged one, and is believed in neither case.
    if observation.space_id != space_id:
        return f"space_id: {observation.space_id!r} differs from the topic's space {space_id!r}"
    if observation.sensor_id != device_id:
        return f"sensor_id: {observation.sensor_id!r} differs from the topic's device {device_id!r}"
    return None


def _text(payload: bytes) -> str:
    return payload[:KEPT_PAYLOAD_CHARS].decode("utf-8", "replace")
