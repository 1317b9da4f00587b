"""Errors a user can act on: each names the file, row and column, what was expected and what to do.

Messages never carry patient-level values; registry files hold organisation data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PcnkitError(Exception):
    """Base class for errors shown to users (the CLI prints them and exits non-zero)."""


@dataclass
class InputError(PcnkitError):
    """A problem with an input file, located precisely enough to fix it."""

    file: str
    problem: str
    action: str
    row: int | None = None
    column: str | None = None
    # the file a multi-file load should leave out under --skip-bad, when the error was found
    # while storing it (the message may name a sheet of it, or a file it depends on)
    batch_file: str | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.problem}. {self.action}"


class NotFoundError(PcnkitError):
    """An organisation code or other key that the workspace does not hold."""


@dataclass
class BadValue(PcnkitError):
    """A value the user chose (a command option, a web page's parameter) that cannot be used.
    `field` is the value's name in the library ("year"); each shell words it for its users —
    the CLI as its option (--year), the web as the label on the page ("Contract year")."""

    field: str
    problem: str
    action: str

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}. {self.action}"
