"""`pcnkit users ...`: who may sign in to the web application, and the audit log."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.table import Table

from pcnkit.access import audit, users
from pcnkit.cli.shell import WorkspaceOpt, console, fail, open_workspace, user_errors
from pcnkit.errors import InputError

users_app = typer.Typer(help="Web application users and the audit log.", no_args_is_help=True)

RoleOpt = typer.Option(..., "--role", help="commissioner | pcn | practice")
ScopeOpt = typer.Option(..., "--scope", help="ICB/place/... code, PCN code or practice code")
PasswordEnvOpt = typer.Option(
    None, "--password-env", help="Read the password from this environment variable."
)


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="One word, e.g. a.smith"),
    role: str = RoleOpt,
    scope: str = ScopeOpt,
    password_env: str | None = PasswordEnvOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Add a user (the password is asked for twice unless --password-env names a variable)."""
    password = _password(password_env)
    with user_errors(), open_workspace(workspace).transaction() as session:
        user = users.add_user(session, username, password, role, scope, dt.datetime.now())
    console.print(f"Added {user.username}: {user.role} for {user.scope_code}")


def _password(password_env: str | None) -> str:
    """From the named environment variable, else asked for twice."""
    if password_env:
        if password_env not in os.environ:
            fail(InputError("--password-env", f"{password_env} is not set", "Export it first."))
        return os.environ[password_env]
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("set-role")
def users_set_role(
    username: str = typer.Argument(..., help="An existing user"),
    role: str = RoleOpt,
    scope: str = ScopeOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Change a user's role and scope; they are signed out everywhere (their audit history
    keeps their name)."""
    with user_errors(), open_workspace(workspace).transaction() as session:
        user = users.set_role(session, username, role, scope)
    console.print(f"{user.username} is now {user.role} for {user.scope_code}; signed out")


@users_app.command("set-password")
def users_set_password(
    username: str = typer.Argument(..., help="An existing user"),
    password_env: str | None = PasswordEnvOpt,
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Give a user a new password (and lift a lock-out); they are signed out everywhere."""
    password = _password(password_env)
    with user_errors(), open_workspace(workspace).transaction() as session:
        user = users.set_password(session, username, password)
    console.print(f"New password set for {user.username}; signed out")


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
    """Remove a user and end their sessions (their audit history stays: the audit log is
    append-only)."""
    with user_errors(), open_workspace(workspace).transaction() as session:
        users.remove_user(session, username)
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
