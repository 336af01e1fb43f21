"""Errors of the fusion package: rules files that cannot be loaded."""

from __future__ import annotations

from smartspaces.errors import ConfigError, SmartspacesError


class FusionError(SmartspacesError):
    """Base class of the errors this package raises on purpose."""


class RulesError(ConfigError, FusionError):
    """A rules file or document that cannot be used; nothing of it is applied.

    The message names where: the file, the line when known, the rule id and the field, e.g.
    ``default.yaml line 12: rule 'power_loss', field 'when[0].kind': unknown event kind 'foo'``.
    """

    def __init__(
        self,
        reason: str,
        *,
        origin: str = "",
        line: int | None = None,
        rule_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.reason, self.origin, self.line = reason, origin, line
        self.rule_id, self.field = rule_id, field
        where = " ".join(p for p in (origin, f"line {line}" if line else "") if p)
        parts = [f"rule {rule_id!r}" if rule_id else "", f"field {field!r}" if field else ""]
        subject = ", ".join(p for p in parts if p)
        prefix = ": ".join(p for p in (where, subject) if p)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)
