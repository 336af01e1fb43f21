"""Account administration: ``smartspaces users ...`` and ``smartspaces api-keys ...``.

Passwords are read from a hidden prompt or standard input (never from the command line, where
shell history and process lists would keep them); API keys are printed once and stored hashed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartspaces.bootstrap import open_store
from smartspaces.config import load_settings
from smartspaces.security.accounts import AccountService
from smartspaces.security.errors import BadAccount
from smartspaces.security.roles import PERSON_ROLES
from smartspaces.store.accounts import AccountExists

users = typer.Typer(help="People who sign in to the COP: add, list, disable, set passwords.")
api_keys = typer.Typer(help="Keys of machine clients, scoped to a role and agency.")
console = Console(stderr=True)
ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file")]
RoleOption = Annotated[str, typer.Option(help=f"One of: {', '.join(PERSON_ROLES)}")]
AgencyOption = Annotated[str, typer.Option(help="Agency, e.g. valencia-police")]
SpaceOption = Annotated[
    list[str] | None, typer.Option("--space", help="Limit to this smart space (repeat); none: all")
]


def register(app: typer.Typer) -> None:
    """Add the account commands to the ``smartspaces`` command."""
    app.add_typer(users, name="users")
    app.add_typer(api_keys, name="api-keys")


def _accounts(config: Path | None) -> AccountService:
    settings = load_settings(config)
    return AccountService(open_store(settings).accounts, settings.security)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _now() -> datetime:
    return datetime.now(UTC)


@users.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. ruiz.j")],
    role: RoleOption,
    agency: AgencyOption,
    space: SpaceOption = None,
    display_name: Annotated[str, typer.Option(help="Shown in the COP")] = "",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin")] = False,
    config: ConfigOption = None,
) -> None:
    """Create a user (the password is asked for, twice, without echo)."""
    accounts = _accounts(config)
    try:
        accounts.add_user(
            username, _password(password_stdin), role, agency, _now(), space, display_name
        )
    except (BadAccount, AccountExists) as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"user {username} added ({role}, {agency})")


@users.command("list")
def list_users(config: ConfigOption = None) -> None:
    """Every user with role, agency, spaces and state (never a password)."""
    table = Table("user", "name", "role", "agency", "spaces", "state")
    for user in _accounts(config).users():
        table.add_row(
            user.username,
            user.display_name,
            user.role,
            user.agency,
            ", ".join(user.spaces) if user.spaces is not None else "all",
            "disabled" if user.disabled else "active",
        )
    Console().print(table)


@users.command("password")
def set_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin")] = False,
    config: ConfigOption = None,
) -> None:
    """Set a new password; the user's sessions end."""
    try:
        _accounts(config).set_password(username, _password(password_stdin), _now())
    except BadAccount as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"password of {username} changed; their sessions ended")


@users.command("disable")
def disable_user(username: str, config: ConfigOption = None) -> None:
    """Refuse the user's sign-in from now on; their sessions end at once."""
    try:
        _accounts(config).set_disabled(username, True)
    except BadAccount as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"{username} disabled")


@users.command("enable")
def enable_user(username: str, config: ConfigOption = None) -> None:
    """Let a disabled user sign in again."""
    try:
        _accounts(config).set_disabled(username, False)
    except BadAccount as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"{username} enabled")


@api_keys.command("add")
def add_key(
    name: Annotated[str, typer.Argument(help="What uses it, e.g. 'fire brigade dispatch'")],
    role: RoleOption,
    agency: AgencyOption,
    space: SpaceOption = None,
    expires_days: Annotated[
        float | None, typer.Option(help="Refused after this many days; none: until revoked")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Issue a key and print it (shown once; only its hash is stored). Send it as X-API-Key."""
    now = _now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    try:
        record, key = _accounts(config).issue_key(name, role, agency, now, space, expires)
    except BadAccount as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"key {record.id} issued ({role}, {agency}); keep it, it is not shown again:")
    print(key)


@api_keys.command("list")
def list_keys(config: ConfigOption = None) -> None:
    """Every key with its scope and state (never the key itself)."""
    table = Table("id", "name", "role", "agency", "spaces", "expires", "state", "last used")
    for key in _accounts(config).keys():
        table.add_row(
            key.id,
            key.name,
            key.role,
            key.agency,
            ", ".join(key.spaces) if key.spaces is not None else "all",
            key.expires_at.isoformat(timespec="minutes") if key.expires_at else "",
            "revoked" if key.revoked_at else "active",
            key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "",
        )
    Console().print(table)


@api_keys.command("revoke")
def revoke_key(key_id: str, config: ConfigOption = None) -> None:
    """Refuse a key from now on."""
    try:
        _accounts(config).revoke_key(key_id, _now())
    except BadAccount as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"key {key_id} revoked")
