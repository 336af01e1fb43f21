"""Spatial questions to the store: which smart spaces contain a point, which lie near it.

On PostgreSQL with PostGIS the spaces carry a ``geom`` column (SRID 4326, GiST-indexed) and the
database answers; elsewhere (SQLite, PostgreSQL without the extension) the same answers come from
shapely over the stored geometries. Both paths give the same results (tested), so callers never
ask which one runs. Distances are metres on the WGS84 spheroid (PostGIS geography) or on a local
equirectangular projection (shapely): they agree to well under a metre at city scale.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from shapely import transform
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, text

from smartspaces.store.errors import StoreError


@dataclass(frozen=True)
class NearSpace:
    """A space near a point and how far its boundary is (0 when the point is inside)."""

    space_id: str
    distance_m: float


class SpatialRepository:
    """Spaces by location; ``refresh`` after spaces change (the store does it)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._postgis: bool | None = None

    @property
    def postgis(self) -> bool:
        """Whether PostGIS answers (the ``geom`` column exists)."""
        if self._postgis is None:
            self._postgis = self._engine.dialect.name == "postgresql" and self._has_geom()
        return self._postgis

    def _has_geom(self) -> bool:
        query = text(
            "select 1 from information_schema.columns "
            "where table_name = 'spaces' and column_name = 'geom' "
            "and table_schema = current_schema()"
        )
        with self._engine.connect() as connection:
            return connection.scalar(query) is not None

    def refresh(self) -> None:
        """Bring every space's ``geom`` up to date with its stored GeoJSON geometry."""
        if not self.postgis:
            return
        update = text(
            "update spaces set geom = ST_SetSRID(ST_GeomFromGeoJSON("
            "(payload::json -> 'geometry')::text), 4326)"
        )
        with self._engine.begin() as connection:
            connection.execute(update)

    def spaces_at(self, lon: float, lat: float) -> list[str]:
        """Ids of the spaces that contain the point, sorted."""
        _check(lon, lat, 0.0)
        if self.postgis:
            query = text(
                "select id from spaces where ST_Contains(geom, ST_SetSRID(ST_Point(:lon, :lat), "
                "4326)) order by id"
            )
            with self._engine.connect() as connection:
                return list(connection.scalars(query, {"lon": lon, "lat": lat}))
        point = Point(lon, lat)
        return sorted(i for i, geom in self._geometries() if geom.contains(point))

    def spaces_near(self, lon: float, lat: float, radius_m: float) -> list[NearSpace]:
        """Spaces whose boundary lies within ``radius_m`` of the point, nearest first."""
        _check(lon, lat, radius_m)
        if self.postgis:
            query = text(
                "select id, ST_Distance(geom::geography, p::geography) as d from spaces, "
                "(select ST_SetSRID(ST_Point(:lon, :lat), 4326) as p) q "
                "where ST_DWithin(geom::geography, p::geography, :r) order by d, id"
            )
            with self._engine.connect() as connection:
                rows = connection.execute(query, {"lon": lon, "lat": lat, "r": radius_m})
                return [NearSpace(i, round(float(d), 1)) for i, d in rows]
        found = []
        for space_id, geom in self._geometries():
            d = _local_distance_m(geom, lon, lat)
            if d <= radius_m:
                found.append(NearSpace(space_id, round(d, 1)))
        return sorted(found, key=lambda n: (n.distance_m, n.space_id))

    def _geometries(self) -> list[tuple[str, BaseGeometry]]:
        with self._engine.connect() as connection:
            rows = connection.execute(text("select id, payload from spaces"))
            return [(i, shape(json.loads(p)["geometry"])) for i, p in rows]


def _check(lon: float, lat: float, radius_m: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):  # NaN fails both comparisons too
        raise StoreError(f"({lon}, {lat}) is not a WGS84 longitude, latitude")
    if not 0 <= radius_m <= 100_000:
        raise StoreError(f"radius {radius_m} m is outside 0..100,000 m")


def _local_distance_m(geom: BaseGeometry, lon: float, lat: float) -> float:
    # project around the point: x = east metres, y = north metres (equirectangular)
    k = 6_371_008.8 * math.pi / 180
    c = math.cos(math.radians(lat))
    local = transform(geom, lambda xy: (xy - [lon, lat]) * [k * c, k])
    return float(local.distance(Point(0.0, 0.0)))
