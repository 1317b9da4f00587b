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


def decode(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM), then cp1252, then latin-1; NUL bytes mean UTF-16 or binary."""
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
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def read_text(path: Path) -> str:
    return decode(path, path.read_bytes())


@dataclass
class Row:
    """One CSV or sheet row with its 1-based row number, giving typed cells or located errors."""

    file: str
    number: int
    cells: dict[str, str]

    def error(self, column: str, problem: str, action: str) -> InputError:
        return InputError(self.file, problem, action, row=self.number, column=column)

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

    def count(self, column: str) -> Decimal | None:
        """A list size: blank is None; negative or non-numeric is an error. Fractions are kept
        because payments files hold quarter averages such as 11429.5."""
        value = self.text(column).replace(",", "")
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise self.error(
                column, f"'{value}' is not a number", "List sizes must be numbers of patients."
            ) from exc
        if not number.is_finite() or number < 0:
            raise self.error(
                column, f"{value} is not a valid number of patients", "Correct or remove the row."
            )
        return number


def csv_rows(
    path: Path,
    text: str,
    delimiter: str = ",",
    header: list[str] | None = None,
    expected_fields: int | None = None,
) -> tuple[list[str], Iterator[Row]]:
    """The header and an iterator of Rows; rows whose field count is wrong are reported as
    truncation, and a file with a header but no data rows is reported as empty."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    name = str(path)
    first_row = 1
    try:
        if header is None:
            header = [h.strip() for h in next(reader)]
            first_row = 2
    except StopIteration as exc:
        raise InputError(name, "the file is empty", "Check the download completed.") from exc
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
                seen = True
                yield Row(name, number, dict(zip(header, cells, strict=False)))
        except csv.Error as exc:
            raise InputError(
                name,
                f"cannot be read as CSV ({exc}); the file looks truncated or is not a CSV",
                "Re-download or re-export the whole file.",
                row=number + 1,
            ) from exc
        if not seen:
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
