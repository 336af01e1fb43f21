"""Risk per smart space and per infrastructure asset, cascading over the city's dependencies.

``RiskAssessor`` is the live risk (pure ``step``/``tick``/``restore``); ``what_if`` plays one
hypothetical failure forward; ``scoring`` holds the arithmetic.
"""

from smartspaces.respond.risk.assessor import ASSET_DOWN, ASSET_UP, RiskAssessor
from smartspaces.respond.risk.space_risk import SpaceRiskAssessor
from smartspaces.respond.risk.what_if import Consequence, UnknownAsset, what_if

__all__ = [
    "ASSET_DOWN",
    "ASSET_UP",
    "Consequence",
    "RiskAssessor",
    "SpaceRiskAssessor",
    "UnknownAsset",
    "what_if",
]
