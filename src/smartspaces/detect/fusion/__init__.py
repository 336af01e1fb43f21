"""Fusion (JDL situation assessment): correlates detections across space, time, cyber and physical.

Rules are data (``rules/default.yaml``, checked against ``rules/schema.json``); the engine is pure:

    >>> from datetime import UTC, datetime
    >>> from smartspaces.detect.fusion import FusionEngine, load_rules
    >>> engine = FusionEngine(load_rules(), spaces=[])
    >>> engine.tick(datetime(2026, 3, 15, tzinfo=UTC))
    []
"""

from smartspaces.detect.fusion.engine import FusionEngine
from smartspaces.detect.fusion.errors import FusionError, RulesError
from smartspaces.detect.fusion.loading import (
    load_rules,
    parse_rules,
    rules_from_data,
    shipped_rules_path,
)
from smartspaces.detect.fusion.ruleset import Condition, Rule, RuleSet

__all__ = [
    "Condition",
    "FusionEngine",
    "FusionError",
    "Rule",
    "RuleSet",
    "RulesError",
    "load_rules",
    "parse_rules",
    "rules_from_data",
    "shipped_rules_path",
]
