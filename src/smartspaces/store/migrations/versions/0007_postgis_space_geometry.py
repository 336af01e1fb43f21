"""PostGIS geometry of the spaces (PostgreSQL with the extension available; a no-op elsewhere)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:40:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _postgis_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    query = text("select 1 from pg_available_extensions where name = 'postgis'")
    return bind.execute(query).scalar() is not None


def upgrade() -> None:
    # Without PostGIS the store answers spatial questions with shapely: same results, slower.
    if not _postgis_available():
        return
    op.execute("create extension if not exists postgis schema public")
    op.execute("alter table spaces add column if not exists geom geometry(Geometry, 4326)")
    op.execute(
        "update spaces set geom = ST_SetSRID(ST_GeomFromGeoJSON("
        "(payload::json -> 'geometry')::text), 4326)"
    )
    op.execute("create index if not exists ix_spaces_geom on spaces using gist (geom)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("drop index if exists ix_spaces_geom")
        op.execute("alter table spaces drop column if exists geom")
