"""Replay of dead letters after a fix (a device registered, a space added, a bug corrected).

Each letter goes through the same validation as when it first arrived (by adapter); the ones
that now pass are published and marked replayed, the others stay with their new reason. The
sender's token is not re-checked (an operator replays), but the registry is: the sensor must be
registered and serve the space it reports for.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from smartspaces.bootstrap import Services
from smartspaces.edge.devices import authorise
from smartspaces.edge.observations import validate_json_batch
from smartspaces.errors import RejectedInput
from smartspaces.events import Device
from smartspaces.store.tables import DeadLetterRow

OBSERVATION_ADAPTERS = ("http", "replay", "mqtt", "csv")


@dataclass
class ReplayReport:
    replayed: list[int] = field(default_factory=list)
    still_rejected: list[tuple[int, str]] = field(default_factory=list)


async def replay_dead_letters(services: Services, letters: list[DeadLetterRow]) -> ReplayReport:
    """Try every letter again, oldest first."""
    report = ReplayReport()
    for letter in sorted(letters, key=lambda row: row.id):
        if letter.replayed_at is not None:
            continue
        try:
            await _replay_one(services, letter)
        except RejectedInput as error:
            report.still_rejected.append((letter.id, error.reason))
            continue
        await asyncio.to_thread(services.store.mark_replayed, letter.id, services.clock.now())
        report.replayed.append(letter.id)
    return report


async def _replay_one(services: Services, letter: DeadLetterRow) -> None:
    if letter.payload_bytes > len(letter.payload.encode()):
        raise RejectedInput("the letter was cut when stored; ask the sender to send it again")
    if not letter.payload:
        raise RejectedInput("nothing to replay (the input was refused before it was read)")
    if letter.adapter == "ngsi-ld":
        # imported here: the API imports this module, and this one reuses the API's NGSI-LD path
        from smartspaces.api.ngsild_ingest import EntityError, take_entity

        try:
            await take_entity(services, None, json.loads(letter.payload), "upsert")
        except EntityError as error:
            raise RejectedInput(error.detail) from error
        return
    if letter.adapter not in OBSERVATION_ADAPTERS:
        raise RejectedInput(f"letters of adapter {letter.adapter!r} cannot be replayed")
    spaces = {space.id for space in services.spaces}
    now = services.clock.now()
    result = validate_json_batch(
        letter.payload.encode(), letter.adapter, spaces, now, services.settings.api
    )
    if result.rejected:
        raise RejectedInput(result.rejected[0].reason)
    registry = await asyncio.to_thread(
        services.store.devices.many, {o.sensor_id for o in result.accepted}
    )
    for observation in result.accepted:
        sensor = registry.get(observation.sensor_id)
        sender = sensor or Device(
            id=observation.sensor_id, kind="other", space_id=observation.space_id
        )
        _, refused = authorise(sender, [observation], registry)
        if refused:
            raise RejectedInput(refused[0][1])
    await services.runtime.publish(result.accepted)
