"""Alembic environment: migrates the connection the store hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from smartspaces.store.partitions import include_object
from smartspaces.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand takes this path
    raise RuntimeError("run migrations through smartspaces.store.Store.migrate()")
# On PostgreSQL the version table lives in the schema the store writes to (the first on the
# search path): a database holding several schemas (one per site, or per test) keeps each one's
# migration state apart, even when another schema on the path has its own alembic_version.
schema = (
    connection.exec_driver_sql("select current_schema()").scalar()
    if connection.dialect.name == "postgresql"
    else None
)
context.configure(
    connection=connection,
    version_table_schema=schema,
    target_metadata=Base.metadata,
    include_object=include_object,  # a partition of observations is no table of its own
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
