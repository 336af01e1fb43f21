"""The store: SQLAlchemy 2 tables, Alembic migrations and the repository over them."""

from smartspaces.store.database import Store
from smartspaces.store.errors import StoreError

__all__ = ["Store", "StoreError"]
