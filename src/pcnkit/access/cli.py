"""`pcnkit users ...`: who may sign in to the web application, and the audit log."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.access import audit, users
from pcnkit.errors import InputError, PcnkitError
from pcnkit.shell import console, fail
from pcnkit.store import open_workspace

users_app = typer.Typer(help="Web application users and the audit log.", no_args_is_help=True)
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace folder (or PCNKIT_HOME).")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="One word, e.g. a.smith"),
    role: str = typer.Option(..., "--role", help="commissioner | pcn | practice"),
    scope: str = typer.Option(..., "--scope", help="ICB/place/... code, PCN code or practice code"),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the password from this environment variable."
    ),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Add a user (the password is asked for twice unless --password-env names a variable)."""
    if password_env:
        if password_env not in os.environ:
            fail(InputError("--password-env", f"{password_env} is not set", "Export it first."))
        password = os.environ[password_env]
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with open_workspace(workspace).transaction() as session:
            user = users.add_user(session, username, password, role, scope, dt.datetime.now())
    except PcnkitError as exc:
        fail(exc)
    console.print(f"Added {user.username}: {user.role} for {user.scope_code}")


@users_app.command("list")
def users_list(workspace: Path | None = WorkspaceOpt) -> None:
    """Every user, with role, scope, last sign-in and whether the account is locked."""
    with open_workspace(workspace).sessions() as session:
        found = users.list_users(session)
    table = Table(title="pcnkit users")
    for c in ("username", "role", "scope", "last sign-in", "locked until"):
        table.add_column(c)
    for u in found:
        table.add_row(
            u.username,
            u.role,
            u.scope_code,
            f"{u.last_login:%Y-%m-%d %H:%M}" if u.last_login else "never",
            f"{u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "",
        )
    console.print(table)


@users_app.command("remove")
def users_remove(username: str, workspace: Path | None = WorkspaceOpt) -> None:
    """Remove a user (their audit history stays: the audit log is append-only)."""
    try:
        with open_workspace(workspace).transaction() as session:
            users.remove_user(session, username)
    except PcnkitError as exc:
        fail(exc)
    console.print(f"Removed {username}")


@users_app.command("audit")
def users_audit(
    username: str | None = typer.Option(None, "--user"),
    limit: int = typer.Option(200, "--limit"),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """The audit log, newest first: who viewed or downloaded which patient list, and sign-ins."""
    with open_workspace(workspace).sessions() as session:
        found = audit.events(session, limit, username)
    table = Table(title="pcnkit audit log")
    for c in ("when", "who", "what", "subject", "detail"):
        table.add_column(c, overflow="fold")
    for e in found:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.username, e.action, e.subject, e.detail)
    console.print(table)
