"""Read routes of the situation picture: fused situations, infrastructure assets and what their
failure would do, evacuation advice for a space, responder routes around hazards."""

from __future__ import annotations

import asyncio
import functools
import math
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from shapely.geometry import Point

from smartspaces.api.deps import ServicesDep
from smartspaces.api.guards import DENIALS, Who
from smartspaces.api.views import Problem
from smartspaces.bootstrap import Services
from smartspaces.errors import SmartspacesError
from smartspaces.events import Situation, SmartSpace
from smartspaces.respond.evacuation.advice import advise
from smartspaces.respond.evacuation.egress import EvacuationExit
from smartspaces.respond.risk.what_if import UnknownAsset, what_if
from smartspaces.respond.routing.responder import NoRoute, ResponderRouter
from smartspaces.security.policy import require_space
from smartspaces.security.roles import Principal

router = APIRouter(prefix="/api/v1", tags=["situation picture"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, **DENIALS}
Lon = Annotated[float, Query(ge=-180, le=180)]
Lat = Annotated[float, Query(ge=-90, le=90)]


@router.get("/situations", responses=DENIALS)
async def list_situations(
    services: ServicesDep,
    who: Annotated[Principal, Who("situations.read")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    space_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[dict[str, Any]]:
    """The newest fused situations first (JDL level, rule, confidence, the events behind each);
    only the spaces the caller may see."""
    found = await asyncio.to_thread(services.store.recent, "situation", limit, space_id)
    return [
        s.model_dump(mode="json")
        for s in found
        if isinstance(s, Situation) and who.may_see_space(s.space_id)
    ]


@router.get("/assets", responses=DENIALS)
async def list_assets(
    services: ServicesDep, who: Annotated[Principal, Who("assets.read")]
) -> dict[str, Any]:
    """The city model's assets as GeoJSON points with their live state (up, degraded, down)."""
    city = services.runtime.city
    features: list[dict[str, Any]] = []
    if city is None:
        return {"type": "FeatureCollection", "features": features}
    for asset in city.assets.values():
        features.append(
            {
                "type": "Feature",
                "id": asset.id,
                "geometry": asset.location.model_dump(),
                "properties": {
                    "name": asset.name,
                    "kind": asset.kind,
                    "criticality": asset.criticality,
                    "serves": list(asset.serves),
                    "state": services.runtime.risk.asset_state(asset.id),
                    "suppliers": sorted(city.graph.predecessors(asset.id)),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@router.get("/assets/{asset_id}/what-if", responses=NOT_FOUND)
async def asset_what_if(
    asset_id: str, services: ServicesDep, who: Annotated[Principal, Who("assets.read")]
) -> list[dict[str, Any]]:
    """If this asset failed now: every asset and space affected, when, and why, in order."""
    city = services.runtime.city
    if city is None:
        raise HTTPException(404, "no city model is loaded")
    try:
        found = what_if(city, asset_id, services.clock.now())
    except UnknownAsset as error:
        raise HTTPException(404, error.reason) from error
    return [asdict(c) | {"at": c.at.isoformat()} for c in found]


@router.get("/spaces/{space_id}/evacuation", responses=NOT_FOUND)
async def evacuation(
    space_id: str,
    services: ServicesDep,
    who: Annotated[Principal, Who("spaces.read")],
    hazard_lon: Lon | None = None,
    hazard_lat: Lat | None = None,
    hazard_radius_m: Annotated[float, Query(ge=0, le=2000)] = 0.0,
) -> dict[str, Any]:
    """Exits ranked away from the hazard and the egress time for the current occupancy
    (a stored simulation when one fits, the Green Guide flow capacity otherwise)."""
    space = _space(services, space_id)
    require_space(who, space_id)
    exits = _exits(services, space_id)
    status = (await asyncio.to_thread(services.store.status)).get(space_id, {})
    persons = float(status.get("occupancy_persons") or 0.0)
    hazard = None
    if hazard_lon is not None and hazard_lat is not None:
        from smartspaces.scenarios.valencia.geometry import to_metric

        point = to_metric(Point(hazard_lon, hazard_lat))
        hazard = point.buffer(hazard_radius_m) if hazard_radius_m > 0 else point
    flow = services.settings.simulation.exit_flow_p_m_s
    advice = advise(space.id, persons, exits, hazard, (), flow_p_m_s=flow)
    return {
        "space_id": space.id,
        "persons": persons,
        "egress_s": _finite(advice.egress.seconds),
        "egress_all_open_s": _finite(advice.all_open.seconds),
        "method": advice.egress.method,
        "exits": [
            {
                "id": r.exit.id,
                "name": r.exit.name,
                "width_m": round(r.exit.width_m, 1),
                "usable": r.usable,
                "hazard_distance_m": _finite(r.hazard_distance_m),
                "capacity_p_s": round(r.capacity_p_s, 2),
                "reason": r.reason,
            }
            for r in advice.exits
        ],
        "advice": advice.lines(),
    }


@router.get("/spaces/{space_id}/route", responses={**NOT_FOUND, 503: {"model": Problem}})
async def responder_route(
    space_id: str,
    services: ServicesDep,
    who: Annotated[Principal, Who("routes.read")],
    from_lon: Lon,
    from_lat: Lat,
    mode: Literal["vehicle", "foot"] = "vehicle",
    avoid: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 - FastAPI's idiom
) -> dict[str, Any]:
    """The fastest route from a responder's position to the space, around the spaces named in
    ``avoid`` (a crowd at red, a closed street), over the real street graph."""
    space = _space(services, space_id)
    require_space(who, space_id)
    hazards = [_space(services, a).geometry for a in avoid if a != space_id]
    router_ = await asyncio.to_thread(_router, services, mode)
    try:
        route = router_.route((from_lon, from_lat), space.centroid.coordinates, hazards)
    except NoRoute as error:
        raise HTTPException(404, str(error)) from error
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in route.coordinates]},
        "properties": {
            "mode": mode,
            "length_m": route.length_m,
            "travel_time_s": route.travel_time_s,
            "avoided": [a for a in avoid if a != space_id],
        },
    }


def _space(services: Services, space_id: str) -> SmartSpace:
    space = next((s for s in services.spaces if s.id == space_id), None)
    if space is None:
        raise HTTPException(404, f"unknown space {space_id[:128]!r}")
    return space


def _exits(services: Services, space_id: str) -> list[EvacuationExit]:
    from smartspaces.scenarios.valencia.scenario import load_layout
    from smartspaces.simulation.space import from_layout

    layout, _ = load_layout(services.settings.scenario)
    try:
        sim_space = from_layout(layout, space_id)
    except SmartspacesError as error:
        raise HTTPException(404, f"no exits known for {space_id[:128]!r}: {error}") from error
    return [EvacuationExit(e.id, e.name, e.edge) for e in sim_space.exits]


def _router(services: Services, mode: str) -> ResponderRouter:
    from smartspaces.scenarios.valencia.scenario import default_osm_path

    path = default_osm_path(services.settings.scenario)
    if not path.is_file():
        raise HTTPException(503, f"no street map: {path.name} is not installed")
    return _build_router(str(path), "foot" if mode == "foot" else "vehicle")


@functools.lru_cache(maxsize=4)
def _build_router(path: str, mode: Literal["vehicle", "foot"]) -> ResponderRouter:
    """Built once per map file and mode (reading the export and indexing its edges takes a
    fraction of a second; every later route reuses it)."""
    from smartspaces.scenarios.valencia.osm import read_osm
    from smartspaces.scenarios.valencia.street_graph import street_graph

    return ResponderRouter(street_graph(read_osm(Path(path)), mode))


def _finite(value: float) -> float | None:
    return round(value, 1) if math.isfinite(value) else None
