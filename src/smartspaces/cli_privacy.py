"""Privacy and accountability commands: ``smartspaces audit ...`` and ``smartspaces retention ...``.

``privacy`` is added to the main command without a name, so its two groups are top-level.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartspaces.clock import SystemClock
from smartspaces.config import load_settings
from smartspaces.config.retention import RetentionSettings
from smartspaces.store import Store
from smartspaces.store.audit import AuditError, reanchor, records
from smartspaces.store.audit_verify import AuditReport, Witness, verify
from smartspaces.store.retention import RetentionReport, apply_retention

privacy = typer.Typer(add_completion=False)
audit = typer.Typer(
    help="The audit log: verify its hash chain, list its records.", no_args_is_help=True
)
retention = typer.Typer(help="Delete what has outlived its retention period.", no_args_is_help=True)
privacy.add_typer(audit, name="audit")
privacy.add_typer(retention, name="retention")
console = Console()
ConfigOption = Annotated[Path | None, typer.Option("--config", help="TOML settings file")]


@contextmanager
def _store(config: Path | None) -> Iterator[tuple[RetentionSettings, Store]]:
    # a plain migrated store: these commands must not seed spaces or start anything
    settings = load_settings(config)
    store = Store(settings.store.database_url())
    try:
        store.migrate()
        yield settings.retention, store
    finally:
        store.close()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:128]
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "cli:unknown"


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter("an ISO 8601 time, e.g. 2026-03-15T11:30:00Z") from error
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@audit.command("verify")
def verify_command(
    witness: Annotated[
        str | None,
        typer.Option(help="POSITION:HASH printed by an earlier verify: it must still be there"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Walk the whole chain; list every edited, deleted, reordered or missing record.

    Exits 1 if anything is wrong. Note the head it prints somewhere else (a ticket, a signed
    mail): passed back as --witness, it exposes a chain rewritten together with its anchor."""
    try:
        wanted = Witness.parse(witness) if witness is not None else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    with _store(config) as (_, store):
        report = verify(store, wanted)
    _print_verification(report)
    raise typer.Exit(0 if report.ok else 1)


def _print_verification(report: AuditReport) -> None:
    ids = f"ids {report.first_id}..{report.last_id}" if report.first_id is not None else "none"
    console.print(
        f"{report.checked} records checked ({ids}); {report.pruned} pruned by retention; "
        f"anchor: {report.appended if report.appended is not None else 'missing'} appended"
    )
    console.print(f"head: {report.head}", soft_wrap=True)  # one line, to copy whole
    console.print("(note the head elsewhere; check it later with --witness)")
    for note in report.notes:
        console.print(note)
    if report.ok:
        console.print("[green]chain intact[/green]: every record verifies")
        return
    table = Table("problem", "record", "what was found", title="audit log problems")
    for problem in report.problems:
        record = str(problem.record_id) if problem.record_id is not None else ""
        table.add_row(problem.kind, record, problem.message)
    console.print(table)
    more = f" (and {report.omitted} more not listed)" if report.omitted else ""
    console.print(f"[red]{len(report.problems)} problem(s){more}[/red]")


@audit.command("show")
def show_command(
    since: Annotated[str | None, typer.Option(help="From this time on (ISO 8601, UTC)")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action")] = None,
    target: Annotated[str | None, typer.Option(help="Only this target")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many")] = 50,
    config: ConfigOption = None,
) -> None:
    """List audit records, newest first. Reading the log is itself audited."""
    start = _time(since)
    with _store(config) as (_, store):
        found = records(store, start, actor, action, target, limit)
        filters = {"since": since, "actor": actor, "action": action, "target": target}
        details = {"filters": {k: v for k, v in filters.items() if v}, "records": len(found)}
        store.audit(_actor(), "audit.read", "audit", details, SystemClock().now())
    table = Table("id", "at (UTC)", "actor", "action", "target", "details")
    for record in found:
        table.add_row(
            str(record.id),
            record.at.isoformat(timespec="seconds"),
            record.actor,
            record.action,
            record.target,
            record.details if len(record.details) <= 120 else record.details[:117] + "...",
        )
    console.print(table)
    console.print(f"{len(found)} record(s)")


@audit.command("reanchor")
def reanchor_command(
    reason: Annotated[str, typer.Option(help="Why (kept in the record of this act)")],
    config: ConfigOption = None,
) -> None:
    """Re-create a missing anchor on the last stored record so that auditing can go on.

    Records removed from the end before now can no longer be detected: run `audit verify`
    first and keep its output. The act is itself the first record after the new anchor."""
    with _store(config) as (_, store):
        try:
            digest = reanchor(store, _actor(), reason, SystemClock().now())
        except AuditError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(1) from error
    console.print(f"anchor re-created; recorded as {digest}")


@retention.command("run")
def run_command(
    dry_run: Annotated[bool, typer.Option(help="Count what would go; delete nothing")] = False,
    config: ConfigOption = None,
) -> None:
    """Delete every record older than its kind's retention period (settings: retention.*).

    Exits 1 if audit pruning was held back by a record that does not verify."""
    with _store(config) as (settings, store):
        report = apply_retention(store, settings, SystemClock().now(), dry_run=dry_run)
    _print_retention(report)
    raise typer.Exit(1 if report.held_back else 0)


def _print_retention(report: RetentionReport) -> None:
    verb = "would be deleted" if report.dry_run else "deleted"
    table = Table("data", "kept (days)", "expired before (UTC)", verb, "")
    for kind in report.kinds:
        table.add_row(
            kind.kind,
            str(kind.days),
            kind.cutoff.isoformat(timespec="seconds"),
            f"{kind.deleted:,}",
            "more at the next run" if kind.more else "",
        )
    console.print(table)
    if report.held_back:
        console.print(f"[yellow]audit pruning held back[/yellow]: {report.held_back}")
    console.print(f"{report.deleted:,} record(s) {verb}")
