"""`pcnkit serve`: serve a workspace's web application."""

from __future__ import annotations

from pathlib import Path

import typer

from pcnkit.cli.shell import WorkspaceOpt, console, date_option, styled, user_errors
from pcnkit.store import open_workspace


def serve_command(
    workspace: Path | None = WorkspaceOpt,
    as_of: str | None = typer.Option(
        None, "--as-of", help="The date pages open at (default: today)."
    ),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int | None = typer.Option(None, "--workers", help="Processes (default: CPUs)."),
    external_url: str | None = typer.Option(
        None,
        "--external-url",
        envvar="PCNKIT_EXTERNAL_URL",
        help="The address users open behind a reverse proxy, e.g. https://pcnkit.example.nhs.uk "
        "(https makes the session cookie Secure; form origins are checked against it).",
    ),
    forwarded_allow_ips: str | None = typer.Option(
        None,
        "--forwarded-allow-ips",
        help="Proxies (IPs, comma-separated) whose X-Forwarded-Proto/-For headers are trusted "
        "(default 127.0.0.1).",
    ),
) -> None:
    """Serve a workspace's web application (users: `pcnkit users add`)."""
    from pcnkit.access.users import list_users
    from pcnkit.web.server import serve

    with user_errors():
        ws = open_workspace(workspace)
        with ws.sessions() as session:
            if not list_users(session):
                console.print(
                    styled("[yellow]{} has no users yet: nobody can sign in.[/]", ws.path)
                    + " Add one with `pcnkit users add NAME --role ... --scope ...`."
                )
        console.print(f"pcnkit is running on http://{host}:{port}/ (Ctrl+C stops it)")
        serve(
            ws,
            date_option(as_of),
            host=host,
            port=port,
            workers=workers,
            external_url=external_url,
            forwarded_allow_ips=forwarded_allow_ips,
        )
