"""Loading fusion rules: YAML with line numbers, JSON schema, then the cross-field checks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from smartspaces.detect.fusion.errors import RulesError
from smartspaces.detect.fusion.ruleset import RuleSet, build_rules, rule_and_field

MAX_RULES_BYTES = 1_048_576
"""A rules file is a page or two; anything this large is a mistake or an attack."""

_PACKAGE = "smartspaces.detect.fusion"
_NAMES = {"kind": "event kind", "scope": "scope", "holds": "holds", "device_kind": "device kind"}


def shipped_rules_path() -> Path:
    """Where the shipped rules file lies (rules/default.yaml in this package)."""
    return Path(str(resources.files(_PACKAGE).joinpath("rules/default.yaml")))


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and check a rules file (None: the shipped one); raises ``RulesError``."""
    path = path or shipped_rules_path()
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_RULES_BYTES + 1)
    except OSError as exc:
        raise RulesError(
            f"cannot read the rules file: {exc.strerror or exc}", origin=str(path)
        ) from exc
    if len(raw) > MAX_RULES_BYTES:
        raise RulesError(f"larger than {MAX_RULES_BYTES} bytes", origin=path.name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(f"not UTF-8 text ({exc.reason})", origin=path.name) from exc
    return parse_rules(text, origin=path.name)


def parse_rules(text: str, origin: str = "<rules>") -> RuleSet:
    """Check a YAML (or JSON) rules document given as text; raises ``RulesError``."""
    if len(text) > MAX_RULES_BYTES:
        raise RulesError(f"larger than {MAX_RULES_BYTES} characters", origin=origin)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = f"YAML syntax error: {exc.problem or exc.context or 'unreadable'}"
        raise RulesError(reason, origin=origin, line=line) from exc
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        # PyYAML raises ValueError for values that look like timestamps but are no dates
        raise RulesError(f"YAML syntax error: {exc}", origin=origin) from exc
    return rules_from_data(data, origin, lambda path: _line_of(node, path))


def rules_from_data(data: object, origin: str = "<rules>", locate: Any = None) -> RuleSet:
    """Check a rules document already parsed into Python values; raises ``RulesError``."""
    where = locate or (lambda path: None)
    if data is None:
        raise RulesError("the document is empty", origin=origin)
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.path])
    if errors:
        error = errors[0]
        types = [e.schema["type"] for e in error.context or () if e.validator == "type"]
        if error.validator == "oneOf" and len(types) == len(error.context or ()):
            # a string or a list of them: neither fits
            reason = f"must be of type {' or '.join(types)} (got {type(error.instance).__name__})"
        else:
            if error.validator == "oneOf" and error.context:
                # the deepest complaint is the useful one: an item of a list, not "not a string"
                error = max(error.context, key=lambda e: len(e.relative_path))
            reason = _reason(error, list(error.absolute_path))
        path = list(error.absolute_path)
        rule_id, field = rule_and_field(path, data)
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        reason += more
        raise RulesError(reason, origin=origin, line=where(path), rule_id=rule_id, field=field)
    if not isinstance(data, Mapping):  # the schema already said so; this tells the type checker
        raise RulesError("the document must be a mapping", origin=origin)
    return build_rules(data, origin, where)


class _Loader(yaml.SafeLoader):
    """Safe YAML without aliases (no billion laughs) and without silently repeated keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed in rules files",
                problem_mark=event.start_mark,
            )
        node = super().compose_node(parent, index)
        if isinstance(node, yaml.MappingNode):
            keys: set[object] = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        raise yaml.MarkedYAMLError(
                            problem=f"key {key.value!r} appears twice", problem_mark=key.start_mark
                        )
                    keys.add(key.value)
        return node


def _line_of(node: yaml.Node | None, path: Sequence[object]) -> int | None:
    """The line of the value at ``path`` (or of the deepest part of it that exists)."""
    if node is None:
        return None
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _reason(error: ValidationError, path: Sequence[object]) -> str:
    """Schema errors in words for whoever edits the file."""
    value = error.instance
    name = next((str(p) for p in reversed(path) if not isinstance(p, int)), "document")
    schema: Any = error.schema
    match error.validator:
        case "enum":
            known = ", ".join(str(v) for v in schema["enum"])
            return f"unknown {_NAMES.get(name, name)} {value!r} (known: {known})"
        case "required" | "additionalProperties" | "const":
            return error.message.replace("Additional properties", "unknown fields")
        case "minimum" | "exclusiveMinimum" | "maximum" | "exclusiveMaximum":
            bound = schema[str(error.validator)]
            sign = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<="}.get(
                str(error.validator), "<"
            )
            return f"must be {sign} {bound:g} (got {value!r})"
        case "pattern":
            return f"{value!r} is not a valid {name.replace('_', ' ')}"
        case "type":
            return f"must be of type {schema['type']} (got {type(value).__name__} {value!r:.60})"
    return error.message[:300]


@cache
def _validator() -> Draft202012Validator:
    text = resources.files(_PACKAGE).joinpath("rules/schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
