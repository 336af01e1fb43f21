"""Accounts: users, API keys and sign-in sessions, plus who owns and who shares what.

Secrets are never stored in clear: passwords as argon2 hashes, API keys and session ids as keyed
or plain SHA-256 digests (they are long random strings, nothing to brute-force). The store knows
no role or policy; it keeps the strings the security package gives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Engine, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartspaces.store.errors import StoreError
from smartspaces.store.tables import Base, UtcDateTime


class UserRow(Base):
    """A person who signs in to the COP with a password."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255), doc="argon2id, encoded")
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    spaces: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, doc="None: all")
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiKeyRow(Base):
    """A machine client's key; ``id`` is public (it names the key), the secret only hashed."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    spaces: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, doc="None: all")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class SessionRow(Base):
    """A signed-in COP session; the cookie's id is kept only as its keyed hash."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IncidentOwnerRow(Base):
    """The agency that owns the incident opened from an alert (keyed by that opening alert, so
    the owner is known before the incident's id is)."""

    __tablename__ = "incident_owners"

    alert_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class ShareRow(Base):
    """An alert or incident shared with another agency, to read or to act on."""

    __tablename__ = "shares"

    subject_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    access: Mapped[str] = mapped_column(String(8))
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccountExists(StoreError):
    """A user or key with that name or id is there already."""


@dataclass(frozen=True)
class UserRecord:
    username: str
    display_name: str
    password_hash: str = field(repr=False)
    role: str
    agency: str
    spaces: tuple[str, ...] | None
    disabled: bool
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    name: str
    secret_sha256: str = field(repr=False)
    role: str
    agency: str
    spaces: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class SessionRecord:
    id_hash: str = field(repr=False)
    username: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


class AccountRepository:
    """Users, API keys and sessions (same database as the store)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- users --------------------------------------------------------------------------------
    def add_user(self, user: UserRecord) -> None:
        """Insert a user; raises ``AccountExists`` if the name is taken."""
        values = _values(user)
        values["spaces"] = list(user.spaces) if user.spaces is not None else None
        _insert(self._engine, UserRow(**values), f"user {user.username!r} exists already")

    def user(self, username: str) -> UserRecord | None:
        with Session(self._engine) as session:
            row = session.get(UserRow, username)
            return _user(row) if row else None

    def users(self) -> list[UserRecord]:
        with Session(self._engine) as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def update_user(self, username: str, **changes: Any) -> bool:
        """Change columns of a user (``password_hash``, ``disabled``...); False if unknown."""
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(UserRow).where(UserRow.username == username).values(**changes)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- API keys -----------------------------------------------------------------------------
    def add_key(self, key: ApiKeyRecord) -> None:
        values = _values(key)
        values["spaces"] = list(key.spaces) if key.spaces is not None else None
        _insert(self._engine, ApiKeyRow(**values), f"API key {key.id!r} exists already")

    def key_by_hash(self, secret_sha256: str) -> ApiKeyRecord | None:
        with Session(self._engine) as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.secret_sha256 == secret_sha256))
            return _key(row) if row else None

    def keys(self) -> list[ApiKeyRecord]:
        with Session(self._engine) as session:
            return [_key(r) for r in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]

    def update_key(self, key_id: str, **changes: Any) -> bool:
        """Change columns of a key (``revoked_at``, ``last_used_at``); False if unknown."""
        with Session(self._engine) as session, session.begin():
            result = session.execute(
                update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(**changes)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- sessions -----------------------------------------------------------------------------
    def add_session(self, record: SessionRecord) -> None:
        _insert(self._engine, SessionRow(**_values(record)), "session exists already")

    def session(self, id_hash: str) -> SessionRecord | None:
        with Session(self._engine) as session:
            row = session.get(SessionRow, id_hash)
            return _session(row) if row else None

    def touch_session(self, id_hash: str, at: datetime) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(SessionRow).where(SessionRow.id_hash == id_hash).values(last_seen_at=at)
            )

    def end_sessions(self, id_hash: str | None = None, username: str | None = None) -> int:
        """Delete one session, or every session of a user; returns how many ended."""
        query = delete(SessionRow)
        if id_hash is not None:
            query = query.where(SessionRow.id_hash == id_hash)
        elif username is not None:
            query = query.where(SessionRow.username == username)
        else:
            raise StoreError("end_sessions needs a session or a user")
        with Session(self._engine) as session, session.begin():
            return int(session.execute(query).rowcount)  # type: ignore[attr-defined]

    def end_expired_sessions(self, now: datetime) -> int:
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            return int(result.rowcount)  # type: ignore[attr-defined]


def _insert(engine: Engine, row: Base, taken: str) -> None:
    try:
        with Session(engine) as session, session.begin():
            session.add(row)
    except IntegrityError as error:
        raise AccountExists(taken) from error


def _values(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _spaces(value: list[str] | None) -> tuple[str, ...] | None:
    return tuple(value) if value is not None else None


def _user(row: UserRow) -> UserRecord:
    return UserRecord(
        username=row.username,
        display_name=row.display_name,
        password_hash=row.password_hash,
        role=row.role,
        agency=row.agency,
        spaces=_spaces(row.spaces),
        disabled=row.disabled,
        created_at=aware(row.created_at),
        password_changed_at=aware(row.password_changed_at),
    )


def _key(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        name=row.name,
        secret_sha256=row.secret_sha256,
        role=row.role,
        agency=row.agency,
        spaces=_spaces(row.spaces),
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at) if row.expires_at else None,
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
        last_used_at=aware(row.last_used_at) if row.last_used_at else None,
    )


def _session(row: SessionRow) -> SessionRecord:
    return SessionRecord(
        id_hash=row.id_hash,
        username=row.username,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        last_seen_at=aware(row.last_seen_at),
    )


def aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone=True columns; they were stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
