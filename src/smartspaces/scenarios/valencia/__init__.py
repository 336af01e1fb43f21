"""València's Plaza del Ayuntamiento on a Fallas mascletà day: real OSM spaces, scripted crowd."""

from smartspaces.scenarios.valencia.layout import Camera, Counter, Layout
from smartspaces.scenarios.valencia.scenario import ScenarioStep, ValenciaScenario

__all__ = ["Camera", "Counter", "Layout", "ScenarioStep", "ValenciaScenario"]
