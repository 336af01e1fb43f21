"""Offline validation against the official Smart Data Models JSON Schemas.

The schemas ``$ref`` each other by their published URLs; a ``referencing`` registry maps those
URLs to the local copies, so nothing is ever downloaded. Format assertions are on (FormatChecker):
without them the upstream Device schema's ``ipAddress`` oneOf (ipv4 | ipv6) matches both branches
and rejects valid devices.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from smartspaces.errors import RejectedInput

BASE = "https://smart-data-models.github.io/"
# entity type -> schema file under the Smart Data Models folder
SCHEMA_FILES = {
    "CrowdFlowObserved": "Transportation/CrowdFlowObserved/schema.json",
    "Device": "Device/Device/schema.json",
    "Alert": "Alert/schema.json",
}
# published URL -> local file, for every schema the above refer to
_REFERENCED = {
    f"{BASE}data-models/common-schema.json": "common/common-schema.json",
    f"{BASE}dataModel.Device/device-schema.json": "Device/device-schema.json",
    f"{BASE}dataModel.Alert/alert-schema.json": "Alert-repo-root/alert-schema.json",
}
# referenced upstream but not shipped: accept anything there (stated, not hidden)
_PERMISSIVE = (f"{BASE}dataModel.Weather/weather-schema.json",)


class SchemaViolation(RejectedInput):
    """An entity that does not conform to its official schema."""


class ModelSchemas:
    """The official schemas found in ``folder`` (``None``: the folder is absent)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder if folder is not None and folder.is_dir() else None

    def covers(self, entity_type: str) -> bool:
        return self.folder is not None and entity_type in SCHEMA_FILES

    def validate(self, entity: dict[str, Any]) -> None:
        """Raise SchemaViolation naming the first problems of a key-values entity."""
        validator = self._validators.get(str(entity.get("type")))
        if validator is None:
            return
        errors = sorted(validator.iter_errors(entity), key=lambda e: list(e.absolute_path))
        if errors:
            details = "; ".join(
                f"{'/'.join(str(p) for p in e.absolute_path) or '(entity)'}: {e.message[:200]}"
                for e in errors[:3]
            )
            raise SchemaViolation(f"not a valid {entity.get('type')} entity: {details}")

    @cached_property
    def _validators(self) -> dict[str, Draft202012Validator]:
        if self.folder is None:
            return {}
        folder = self.folder
        resources = [
            (url, Resource.from_contents(_load(folder / path), default_specification=DRAFT202012))
            for url, path in _REFERENCED.items()
        ]
        resources += [(url, DRAFT202012.create_resource({})) for url in _PERMISSIVE]
        registry: Registry[Any] = Registry().with_resources(resources)
        return {
            kind: Draft202012Validator(
                _load(folder / path), registry=registry, format_checker=FormatChecker()
            )
            for kind, path in SCHEMA_FILES.items()
        }


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
