"""Alembic environment: migrates the connection the store hands over (no alembic.ini needed)."""

from __future__ import annotations

from alembic import context

from smartspaces.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand takes this path
    raise RuntimeError("run migrations through smartspaces.store.Store.migrate()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite can only ALTER by copying
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
