"""What every importer shares: decoding, CSV reading, typed cells with located errors, and Batch.

An importer only parses and validates; it returns a Batch (plain data) and never touches the
database, so a bad file is rejected before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pcnkit.dates import parse_date
from pcnkit.errors import InputError
from pcnkit.registry.plausible import Plausible

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
# How national files say "this practice is in no PCN": QOF and GPAD write U / Unallocated,
# payments files write "Unknown or no PCN".
NO_PCN = {"", "U", "UNALLOCATED", "UNKNOWN OR NO PCN"}


@dataclass
class OrgRecord:
    code: str
    kind: str
    name: str | None = None
    subtype: str | None = None
    postcode: str | None = None
    open_date: dt.date | None = None
    close_date: dt.date | None = None
    row: int | None = None
    status: str | None = None


@dataclass
class FactRecord:
    """Child is in parent (whose kind names the channel), over [start, end] or as at the extract."""

    child: str
    parent: str
    dated: bool
    start: dt.date | None = None
    end: dt.date | None = None
    row: int | None = None


@dataclass
class ListRecord:
    practice: str
    measure: str
    as_of: dt.date
    value: Decimal
    row: int | None = None


@dataclass
class CoordinateRecord:
    code: str
    postcode: str | None
    latitude: float
    longitude: float
    row: int | None = None


@dataclass
class RoleRecord:
    pcn: str
    role: str
    holder: str
    payee: str | None
    start: dt.date | None
    end: dt.date | None
    row: int | None = None
    evidence: str | None = None  # why, when the file infers the role rather than records it


@dataclass
class PaymentRecord:
    """What was paid through one practice for its PCN in the batch's year, in one column."""

    practice: str
    pcn: str | None
    heading: str
    amount: Decimal
    row: int | None = None


@dataclass
class ExceptionRecord:
    org: str
    rule: str
    reason: str
    start: dt.date | None
    end: dt.date | None
    row: int | None = None


@dataclass
class MergerRecord:
    practice: str
    successor: str
    date: dt.date
    note: str
    row: int | None = None


@dataclass(frozen=True)
class ListBasis:
    """What a source's list figures are: a count of patients on a date, or an average (NHS
    Payments' "last known" list averages the final quarter, so it is often fractional)."""

    averaged: bool
    text: str


COUNT = ListBasis(False, "count of registered patients on the list date")


@dataclass
class Finding:
    """Something odd in a publication that pcnkit read by a stated rule instead of refusing the
    file (e.g. a same-day PCN handover): printed by the load and carried in its report."""

    text: str
    rows: list[int] = field(default_factory=list)
    where: str | None = None  # the file (and sheet) the rows are in, if not just the file


@dataclass
class Batch:
    """Everything one file says, validated, ready to be applied in one transaction."""

    file: str
    file_type: str
    description: str
    sha256: str
    extract_date: dt.date
    publisher: str
    rows: int = 0
    organisations: dict[str, OrgRecord] = field(default_factory=dict)
    facts: list[FactRecord] = field(default_factory=list)
    list_sizes: list[ListRecord] = field(default_factory=list)
    coordinates: list[CoordinateRecord] = field(default_factory=list)
    roles: list[RoleRecord] = field(default_factory=list)
    exceptions: list[ExceptionRecord] = field(default_factory=list)
    mergers: list[MergerRecord] = field(default_factory=list)
    payments: list[PaymentRecord] = field(default_factory=list)
    payment_year: dt.date | None = None  # the financial year's 1 April, for `payments`
    findings: list[Finding] = field(default_factory=list)
    # what the list figures are, from the importer (see importers.list_basis)
    list_basis: ListBasis | None = None

    def add_org(self, record: OrgRecord) -> None:
        """Add an organisation; a later mention fills in what an earlier one left blank."""
        known = self.organisations.get(record.code)
        if known is None:
            self.organisations[record.code] = record
            return
        if known.kind != record.kind:
            raise InputError(
                self.file,
                f"code {record.code} is used for a {record.kind} here but a {known.kind} "
                f"at row {known.row}",
                "Correct the code so each organisation has one code.",
                row=record.row,
            )
        for attr in ("name", "subtype", "postcode", "open_date", "close_date", "status"):
            if getattr(known, attr) in (None, "") and getattr(record, attr) not in (None, ""):
                setattr(known, attr, getattr(record, attr))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Control characters have no place in an NHS text file (tab, CR and LF aside): a NUL or an
# escape is damage or a binary file, and stored in a name it corrupts every page and export.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def decode(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM), then cp1252, then latin-1; NUL bytes at the start mean
    UTF-16 or binary. (`readable` then refuses control characters anywhere else.)"""
    if not raw.strip():
        raise InputError(str(path), "the file is empty", "Check that the download completed.")
    if b"\x00" in raw[:4096]:
        raise InputError(
            str(path),
            "the file holds NUL bytes, so it is UTF-16 or binary rather than a text CSV",
            "Open it in a spreadsheet and save it as 'CSV UTF-8', or re-download the original.",
        )
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - latin-1 decodes any bytes
        raise AssertionError("latin-1 decodes any bytes")
    return text


def readable(path: Path, text: str) -> str:
    """The text, if no line holds a control character; else a located error."""
    bad = CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise InputError(
            str(path),
            f"line {line} holds a control character (U+{ord(bad.group()):04X}), which no text "
            "field may contain, so the file is damaged or not a text file",
            "Re-download or re-export the file.",
            row=line,
        )
    return text


def control_character(value: str) -> str | None:
    """The first control character in a text value, shown as U+XXXX, or None."""
    bad = CONTROL.search(value)
    return f"U+{ord(bad.group()):04X}" if bad else None


def read_text(path: Path) -> str:
    return readable(path, decode(path, path.read_bytes()))


@dataclass
class Row:
    """One CSV or sheet row with its 1-based row number, giving typed cells or located errors."""

    file: str
    number: int
    cells: dict[str, str]
    # the file's own column headings, where cells are keyed by pcnkit's names (ePCN sheets)
    labels: dict[str, str] | None = None

    def error(self, column: str, problem: str, action: str) -> InputError:
        label = (self.labels or {}).get(column, column)
        return InputError(self.file, problem, action, row=self.number, column=label)

    def text(self, column: str) -> str:
        value = self.cells.get(column)
        return "" if value is None else str(value).strip()

    def required(self, column: str, what: str = "a value") -> str:
        value = self.text(column)
        if not value:
            raise self.error(column, f"is blank; expected {what}", "Fill it in or remove the row.")
        return value

    def code(self, column: str, what: str = "an ODS code") -> str:
        value = self.required(column, what).upper()
        if not re.fullmatch(r"[A-Z0-9]{2,12}", value):
            raise self.error(
                column, f"'{value}' is not {what}", "Check the column holds organisation codes."
            )
        return value

    def date(self, column: str) -> dt.date | None:
        try:
            return parse_date(self.cells.get(column))
        except ValueError as exc:
            raise self.error(column, str(exc), "Correct the date, e.g. 20191001.") from exc

    def count(self, column: str, plausible: Plausible) -> Decimal | None:
        """A list size or other figure: blank is None; anything outside its plausible range
        (negative, NaN, 1e400, a fraction where whole patients are counted) is an error."""
        value = self.text(column).replace(",", "")
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise self.error(
                column, f"'{value}' is not a number", f"Give {plausible.what} as a number."
            ) from exc
        problem = plausible.problem(number)
        if problem:
            raise self.error(column, problem, "Correct or remove the row.")
        return number


def csv_rows(
    path: Path,
    text: str,
    delimiter: str = ",",
    header: list[str] | None = None,
    expected_fields: int | None = None,
    exact: bool = False,
    empty_ok: bool = False,
) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of Rows; rows whose field count is wrong are reported as
    truncation, and a file with a header but no data rows is reported as empty. With `exact`
    (a file people write by hand), a row with a value beyond the header's columns is refused
    too: `U00367,F82002,1,000,6000` (a number written with an unquoted thousands comma) would
    otherwise shift every later value one column along and load as 1 patient. With `empty_ok`
    a header alone is a valid file with no rows (a list that may rightly be empty)."""
    # newline=None reads CRLF, LF and old Mac CR-only line endings alike
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter, strict=True)
    name = str(path)
    first_row = 1
    try:
        if header is None:
            header = [h.strip() for h in next(reader)]
            first_row = 2
    except StopIteration as exc:
        raise InputError(name, "the file is empty", "Check the download completed.") from exc
    except csv.Error as exc:
        raise InputError(
            name,
            f"cannot be read as CSV ({exc}); the file looks damaged or is not a CSV",
            "Re-download or re-export the whole file.",
            row=1,
        ) from exc
    width = expected_fields or len(header)

    def generate() -> Iterator[Row]:
        number = first_row - 1
        seen = False
        try:
            for cells in reader:
                number += 1
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) < width:
                    raise InputError(
                        name,
                        f"has {len(cells)} of the {width} fields every row needs, so the file "
                        "looks truncated or the row is broken",
                        "Re-download or re-export the whole file.",
                        row=number,
                        # the first column the row is missing
                        column=header[len(cells)] if len(cells) < len(header) else None,
                    )
                if exact and any(c.strip() for c in cells[width:]):
                    raise InputError(
                        name,
                        f"has {len(cells)} fields but the header names {width} columns, so its "
                        "values would land in the wrong columns",
                        "Write numbers without thousands commas (1000, not 1,000) and put any "
                        "value holding a comma in double quotes.",
                        row=number,
                    )
                seen = True
                yield Row(name, number, dict(zip(header, cells, strict=False)))
        except csv.Error as exc:
            raise InputError(
                name,
                f"cannot be read as CSV ({exc}); the file looks truncated or is not a CSV",
                "Re-download or re-export the whole file.",
                row=number + 1,
            ) from exc
        if not seen and not empty_ok:
            raise InputError(name, "has a header but no data rows", "Check the export.")

    return header, generate()


def duplicate(file: str, code: str, row: int, first: int, column: str) -> InputError:
    return InputError(
        file,
        f"practice {code} appears twice (rows {first} and {row})",
        "Each practice may appear once in this file: remove or merge the duplicate row.",
        row=row,
        column=column,
    )
