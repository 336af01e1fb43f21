"""Repository of devices and of the NGSI-LD entities they send (same database as the store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smartspaces.events import Device
from smartspaces.store.tables import DeviceRow, NgsiEntityRow


class DeviceRepository:
    """Devices by id and by token hash; entities by id."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def put(self, device: Device) -> None:
        """Insert or replace a device."""
        with Session(self._engine) as session, session.begin():
            session.merge(
                DeviceRow(
                    id=device.id,
                    space_id=device.space_id,
                    status=device.status,
                    token_sha256=device.token_sha256,
                    payload=device.model_dump_json(),
                )
            )

    def get(self, device_id: str) -> Device | None:
        with Session(self._engine) as session:
            row = session.get(DeviceRow, device_id)
            return Device.model_validate_json(row.payload) if row else None

    def by_token_hash(self, token_sha256: str) -> Device | None:
        with Session(self._engine) as session:
            query = select(DeviceRow.payload).where(DeviceRow.token_sha256 == token_sha256)
            payload = session.scalar(query)
            return Device.model_validate_json(payload) if payload else None

    def many(self, device_ids: set[str]) -> dict[str, Device]:
        """The registered devices among ``device_ids``, by id (one query)."""
        if not device_ids:
            return {}
        with Session(self._engine) as session:
            rows = session.scalars(select(DeviceRow.payload).where(DeviceRow.id.in_(device_ids)))
            devices = [Device.model_validate_json(p) for p in rows]
        return {d.id: d for d in devices}

    def all(self) -> list[Device]:
        with Session(self._engine) as session:
            rows = session.scalars(select(DeviceRow.payload).order_by(DeviceRow.id))
            return [Device.model_validate_json(p) for p in rows]

    def entity(self, entity_id: str) -> dict[str, Any] | None:
        """The last key-values state of an NGSI-LD entity, or None."""
        with Session(self._engine) as session:
            row = session.get(NgsiEntityRow, entity_id)
            if row is None:
                return None
            data: dict[str, Any] = json.loads(row.payload)
            return data

    def put_entity(self, entity: dict[str, Any], at: datetime) -> None:
        with Session(self._engine) as session, session.begin():
            session.merge(
                NgsiEntityRow(
                    id=str(entity["id"]),
                    type=str(entity["type"]),
                    updated_at=at.astimezone(UTC),
                    payload=json.dumps(entity, sort_keys=True),
                )
            )
