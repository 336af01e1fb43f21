"""Infrastructure assets, the dependencies between them, and the graph they form.

An asset (a substation, a metro station, a hospital, a camera) serves smart spaces; a dependency
says that a dependent needs a service (power, telecom...) from a supplier, how long the loss takes
to reach it (``delay_s``) and how long it rides through on its own (``backup_s``). Suppliers of
the same service to one dependent are redundant feeds: it loses the service only when every feed
is lost. The model is immutable once built; building it checks what needs no map (ids,
references, cycles), ``load.py`` adds the checks against the spaces.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from smartspaces.city.errors import CityModelError
from smartspaces.events import GeoPoint, Identifier, SpaceId

AssetKind = Literal[
    "substation",
    "telecom_node",
    "metro_station",
    "hospital",
    "traffic_control",
    "camera",
    "sensor",
    "water",
    "gateway",
    "data_centre",
    "emergency_service",
    "lighting",
    "other",
]
Service = Literal["power", "telecom", "data", "water", "control", "transport"]
Seconds = Annotated[float, Field(ge=0, le=30 * 86_400, allow_inf_nan=False)]
"""A duration in seconds: never negative, at most 30 days (longer is a typo, not a backup)."""


class Asset(BaseModel):
    """A piece of infrastructure at a WGS84 point and the smart spaces it serves directly."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: Identifier
    name: str = Field(min_length=1, max_length=200)
    kind: AssetKind
    location: GeoPoint
    serves: tuple[SpaceId, ...] = Field(default=(), description="Spaces it serves directly")
    criticality: int = Field(default=3, ge=1, le=5, description="1 (minor) to 5 (vital)")
    backup_s: dict[Service, Seconds] = Field(
        default_factory=dict, description="Ride-through per lost service (hospital: 8 h power)"
    )
    reach_m: float | None = Field(
        default=None,
        ge=0,
        le=50_000,
        description="How far from a space it may serve it; default: the model's reach",
    )


class Dependency(BaseModel):
    """``dependent`` needs ``service`` from ``supplier``: an edge supplier -> dependent."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    supplier: Identifier
    dependent: Identifier
    service: Service
    delay_s: Seconds = Field(default=0.0, description="Time for a loss to reach the dependent")
    backup_s: Seconds = Field(default=0.0, description="Ride-through once the service is lost")


@dataclass(frozen=True)
class ServiceFeeds:
    """Every feed of one service into one dependent; ``backup_s`` starts once all are lost."""

    service: Service
    backup_s: float
    suppliers: tuple[tuple[str, float], ...]  # (supplier id, delay_s)


@dataclass(frozen=True, eq=False)
class CityModel:
    """A validated city model; build it with ``CityModel.build`` or the loaders."""

    name: str
    assets: Mapping[str, Asset]
    dependencies: tuple[Dependency, ...]
    graph: nx.DiGraph[str]
    order: tuple[str, ...]
    """Every asset id, suppliers before their dependents (a topological order)."""
    feeds: Mapping[str, tuple[ServiceFeeds, ...]]
    main_space: Mapping[str, str]
    """The space an asset's risk is reported under: the first it serves, else the first its
    dependents serve, else the nearest known space."""
    _spaces: Mapping[str, frozenset[str]]
    _serving: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(
        cls,
        name: str,
        assets: Iterable[Asset],
        dependencies: Iterable[Dependency],
        nearest_space: Mapping[str, str] | None = None,
        source: str = "city model",
    ) -> CityModel:
        """Check ids, references and cycles (raising CityModelError), then index the model."""
        by_id: dict[str, Asset] = {}
        problems: list[str] = []
        for asset in assets:
            if asset.id in by_id:
                problems.append(f"asset '{asset.id}' is defined twice")
            by_id[asset.id] = asset
        deps = tuple(dependencies)
        seen: set[tuple[str, str, str]] = set()
        for dep in deps:
            label = f"dependency {dep.supplier} -> {dep.dependent} ({dep.service})"
            for role, ref in (("supplier", dep.supplier), ("dependent", dep.dependent)):
                if ref not in by_id:
                    problems.append(f"{label}: unknown {role} asset '{ref}'")
            key = (dep.supplier, dep.dependent, dep.service)
            if key in seen:
                problems.append(f"{label} is declared twice")
            seen.add(key)
        if problems:
            raise CityModelError(source, problems)
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(by_id)
        graph.add_edges_from((d.supplier, d.dependent) for d in deps)
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            cycle = []
        if cycle:
            path = " -> ".join([str(edge[0]) for edge in cycle] + [str(cycle[0][0])])
            raise CityModelError(source, [f"dependency cycle: {path}"])
        order = tuple(nx.lexicographical_topological_sort(graph))
        spaces = _served_spaces(by_id, graph, order)
        return cls(
            name=name,
            assets=MappingProxyType(by_id),
            dependencies=deps,
            graph=graph,
            order=order,
            feeds=MappingProxyType(_feeds(by_id, deps)),
            main_space=MappingProxyType(_main_spaces(by_id, graph, order, nearest_space or {})),
            _spaces=MappingProxyType(spaces),
            _serving=MappingProxyType(_serving(by_id)),
        )

    def asset_spaces(self) -> Mapping[str, frozenset[str]]:
        """Per asset, the spaces it serves directly or through the assets depending on it."""
        return self._spaces

    def asset_kinds(self) -> Mapping[str, AssetKind]:
        """Per asset, its kind."""
        return {asset_id: asset.kind for asset_id, asset in self.assets.items()}

    def serving(self, space_id: str) -> tuple[str, ...]:
        """The assets that serve a space directly (in model order)."""
        return self._serving.get(space_id, ())

    def dependents(self, asset_id: str) -> tuple[str, ...]:
        """The assets that need something from ``asset_id`` directly."""
        return tuple(sorted(self.graph.successors(asset_id)))


def _served_spaces(
    assets: Mapping[str, Asset], graph: nx.DiGraph[str], order: tuple[str, ...]
) -> dict[str, frozenset[str]]:
    # Dependents first, so each asset unions what its dependents already collected: one pass.
    spaces: dict[str, frozenset[str]] = {}
    for asset_id in reversed(order):
        found = set(assets[asset_id].serves)
        for dependent in graph.successors(asset_id):
            found |= spaces[dependent]
        spaces[asset_id] = frozenset(found)
    return spaces


def _feeds(
    assets: Mapping[str, Asset], deps: tuple[Dependency, ...]
) -> dict[str, tuple[ServiceFeeds, ...]]:
    grouped: dict[str, dict[Service, list[Dependency]]] = {}
    for dep in deps:
        grouped.setdefault(dep.dependent, {}).setdefault(dep.service, []).append(dep)
    feeds: dict[str, tuple[ServiceFeeds, ...]] = {}
    for dependent, per_service in grouped.items():
        own = assets[dependent].backup_s
        feeds[dependent] = tuple(
            ServiceFeeds(
                service=service,
                # the larger of the asset's own backup for the service and any feed's
                backup_s=max([own.get(service, 0.0), *(d.backup_s for d in links)]),
                suppliers=tuple((d.supplier, d.delay_s) for d in links),
            )
            for service, links in per_service.items()
        )
    return feeds


def _main_spaces(
    assets: Mapping[str, Asset],
    graph: nx.DiGraph[str],
    order: tuple[str, ...],
    nearest: Mapping[str, str],
) -> dict[str, str]:
    # Dependents first: an asset serving no space directly is reported under the space most of
    # its dependents are (a substation feeding the square's systems belongs to the square).
    main: dict[str, str] = {}
    for asset_id in reversed(order):
        asset = assets[asset_id]
        votes = Counter(main[d] for d in sorted(graph.successors(asset_id)) if d in main)
        if asset.serves:
            main[asset_id] = asset.serves[0]
        elif votes:
            main[asset_id] = votes.most_common(1)[0][0]
        elif asset_id in nearest:
            main[asset_id] = nearest[asset_id]
    return main


def _serving(assets: Mapping[str, Asset]) -> dict[str, tuple[str, ...]]:
    serving: dict[str, list[str]] = {}
    for asset_id, asset in assets.items():
        for space_id in asset.serves:
            serving.setdefault(space_id, []).append(asset_id)
    return {space_id: tuple(ids) for space_id, ids in serving.items()}
