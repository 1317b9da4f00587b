"""What the command-line shells share: consoles, output formats and how errors end a command."""

from __future__ import annotations

import sys
from enum import Enum

import typer
from rich.console import Console

# Reports are read in terminals and in CI logs alike; a fixed width keeps tables readable in both.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


class Format(str, Enum):  # noqa: UP042 - Typer needs a str Enum
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(str, Enum):  # noqa: UP042
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def fail(exc: Exception) -> None:
    """Print a user-facing error and exit with status 2 (nothing has been written)."""
    err.print(f"[bold red]error:[/] {exc}", highlight=False)
    raise typer.Exit(2)
