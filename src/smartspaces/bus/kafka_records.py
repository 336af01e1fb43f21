"""What a record on the Kafka bus's topics holds: a subject and an event, or why it is not ours.

Our producer writes the event's JSON keyed by its ``space_id`` on its kind's topic; a foreign
producer must do the same. Anything else is refused with a reason (and dead-lettered).
"""

from __future__ import annotations

from collections.abc import Callable

from smartspaces.bus.kafka_clients import Record
from smartspaces.events import AnyEvent, event_from_json

_REASON_MAX = 500  # characters of a validation error kept in the reason


def read_event(
    record: Record, kind: str, wants: Callable[[str], bool]
) -> tuple[str, AnyEvent | str | None]:
    """The record's subject, and its event, or a str saying why it is none, or None if the
    subject is not wanted (decided from the key alone, without parsing the value)."""
    if record.key is None:
        return "", "no key: the key must be the event's space_id"
    try:
        space = record.key.decode()
    except UnicodeDecodeError:
        return "", "the key is not UTF-8: it must be the event's space_id"
    subject = f"ss.{kind}.{space}"
    if not wants(subject):
        return subject, None
    if record.value is None:
        return subject, "no value: an event is JSON"
    try:
        event = event_from_json(record.value)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        return subject, f"not a valid event: {str(exc)[:_REASON_MAX]}"
    if event.kind != kind or event.space_id != space:
        return (
            subject,
            f"{event.kind} of space {event.space_id!r} keyed {space!r} on the {kind} topic",
        )
    return subject, event
