"""What the command-line shells share: consoles, output formats and how errors end a command."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from pcnkit.dates import parse_iso
from pcnkit.errors import BadValue, PcnkitError
from pcnkit.store import Workspace
from pcnkit.store import open_workspace as _open

# Reports are read in terminals and in CI logs alike; a fixed width keeps tables readable in both.
# markup=False: text from files, the database and the command line (a username "[/x]", a PCN
# called "[bold]...") is printed as it is, never read as Rich markup, which would restyle it or
# crash the command. Styling is explicit: `styled` escapes every value it is given.
console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def styled(template: str, *values: object) -> Text:
    """Rich markup in `template` ({} places values), each value escaped: styled text whose
    values can never be read as markup."""
    return Text.from_markup(template.format(*(escape(str(v)) for v in values)))


class Format(str, Enum):  # noqa: UP042 - Typer needs a str Enum
    table = "table"
    csv = "csv"
    json = "json"


class ExportFormat(str, Enum):  # noqa: UP042
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


def fail(exc: Exception, fields: Mapping[str, str] | None = None) -> None:
    """Print a user-facing error and exit with status 2 (nothing has been written).

    A BadValue names a library argument; here it is the option of the same name, or the one
    `fields` maps it to."""
    if isinstance(exc, BadValue):
        field = (fields or {}).get(exc.field, exc.field)
        exc = f"--{field.replace('_', '-')}: {exc.problem}. {exc.action}"
    err.print(styled("[bold red]error:[/] {}", exc), highlight=False)
    raise typer.Exit(2)


@contextmanager
def user_errors(*also: type[Exception], fields: Mapping[str, str] | None = None) -> Iterator[None]:
    """The one way a command's library errors end it: a PcnkitError (and any of `also`)
    raised in the block is printed by `fail` and the command exits with status 2."""
    try:
        yield
    except (PcnkitError, *also) as exc:
        fail(exc, fields)


_opened: list[Workspace] = []


def open_workspace(path: Path | None, url: str | None = None) -> Workspace:
    """The command's workspace. Its database connections are closed when the command ends
    (`close_workspaces`, called by the app), not left for the garbage collector."""
    ws = _open(path, url=url)
    _opened.append(ws)
    return ws


def close_workspaces() -> None:
    """Dispose of every workspace the command opened."""
    while _opened:
        _opened.pop().dispose()


# Every command that reads a workspace takes it the same way.
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help="Workspace folder (or PCNKIT_HOME).")


def date_option(value: str | None, default: dt.date | None = None) -> dt.date | None:
    """A YYYY-MM-DD command-line date (`default` when not given); a bad one is a usage error."""
    if value is None:
        return default
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def progress_bar() -> Progress:
    """The progress bar long commands show on stderr (gone when the work is done)."""
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
