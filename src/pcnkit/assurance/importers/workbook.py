"""Reading NHS England's statistical workbooks: tables found by their title, not by position.

NHS England's publication workbooks put a "Return to Contents" link and a title row above each
table, mark headings with footnote numbers (`PCN Code [2, 3]`, `Jan-24 [7]`, `Submissions [7. 11]`),
break headings over lines (`GP Practice \\n(ODS_CODE)`) and double their spaces
(`ICB Code  [2]`), and write a month sometimes as a date (1 November 2025, or 30 September 2025
for September) and sometimes as text (`Feb-26 [10,11]`). The helpers here read those tables by
their titles and headings, so a moved row or column is found or refused by name, and every bad
cell is reported with its file, sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from pcnkit.dates import month_start
from pcnkit.errors import InputError

# A footnote marker: [7], [2, 3], [10,11], [7. 11] (a typing slip NHS England published), [4;5].
FOOTNOTE = re.compile(r"\s*\[\s*\d+(?:\s*[,.;]\s*\d+)*\s*\]")
MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MONTH_TEXT = re.compile(r"([A-Za-z]{3})[A-Za-z]*[-\s]+(\d{2}|\d{4})")
_MONTH_IN_TITLE = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+(\d{4})\b",
    re.I,
)
CONTENTS_LINK = "return to contents"


def heading(value: object) -> str:
    """A cell's text as people read it: footnote markers removed, line breaks and runs of
    spaces collapsed to one space (`'ICB Code  [2]'` -> `'ICB Code'`)."""
    if value is None:
        return ""
    return " ".join(FOOTNOTE.sub("", str(value)).split())


def key(value: object) -> str:
    """A heading folded for comparison (lower case)."""
    return heading(value).lower()


def letter(index: int) -> str:
    """The spreadsheet column letter of a 0-based column index."""
    return get_column_letter(index + 1)


def month_of(value: object) -> dt.date | None:
    """The month (its first day) a month cell names, or None when it names none.

    A date names its own month (NHS England wrote month columns as the 1st, and once as the
    last day, of the month); text is `Feb-26`, `Feb-26 [10,11]`, `Dec-24[8]` or `February 2026`."""
    if isinstance(value, dt.datetime):
        return month_start(value.date())
    if isinstance(value, dt.date):
        return month_start(value)
    if not isinstance(value, str):
        return None
    m = _MONTH_TEXT.fullmatch(heading(value))
    if not m or m[1].lower() not in MONTHS:
        return None
    year = int(m[2]) + (2000 if len(m[2]) == 2 else 0)
    return dt.date(year, MONTHS[m[1].lower()], 1)


def month_in_title(text: str) -> dt.date | None:
    """The month a table title ends with ('..., England, February 2026')."""
    found = _MONTH_IN_TITLE.findall(heading(text))
    if not found:
        return None
    name, year = found[-1]
    return dt.date(int(year), MONTHS[name[:3].lower()], 1)


def damaged(path: Path, exc: Exception) -> InputError:
    return InputError(
        str(path),
        f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc}); it looks "
        "truncated or damaged",
        "Re-download the file from NHS England.",
    )


def sheet_names(path: Path) -> list[str]:
    """Sheet names from the workbook's index, without reading the sheets (fast to sniff)."""
    try:
        with zipfile.ZipFile(path) as archive:
            index = archive.read("xl/workbook.xml").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError) as exc:
        raise damaged(path, exc) from exc
    return [html.unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"', index)]


@dataclass
class Sheet:
    """One worksheet's cell values (row 1 is `rows[0]`), named for error messages."""

    path: Path
    title: str
    rows: list[tuple]

    @property
    def where(self) -> str:
        return f"{self.path} [{self.title}]"

    def cell(self, row: int, column: int) -> object:
        """The value at a 1-based row and 0-based column (None beyond the sheet's edge)."""
        values = self.rows[row - 1] if 0 < row <= len(self.rows) else ()
        return values[column] if column < len(values) else None

    def error(self, problem: str, action: str, row: int | None = None, column=None) -> InputError:
        return InputError(self.where, problem, action, row=row, column=column)

    def find_title(self, prefix: str) -> int:
        """The 1-based row of the table title starting with `prefix` ('Table 2'); NHS England
        put it below a 'Return to Contents' link in column A."""
        wanted = key(prefix)
        for number, values in enumerate(self.rows, 1):
            first = key(values[0]) if values else ""
            if first.startswith(wanted + ":") or first == wanted:
                return number
        raise self.error(
            f"has no title row starting '{prefix}:' (below 'Return to Contents')",
            "Use the workbook as NHS England published it, with its table titles.",
        )

    def title_text(self, row: int) -> str:
        return heading(self.cell(row, 0))

    def find_row(self, after: int, first_heading: str, column: int = 0, limit: int = 10) -> int:
        """The first row below `after` whose cell in `column` reads `first_heading`."""
        wanted = key(first_heading)
        for number in range(after + 1, min(after + limit, len(self.rows)) + 1):
            if key(self.cell(number, column)) == wanted:
                return number
        raise self.error(
            f"has no heading row starting '{first_heading}' within {limit} rows of its title "
            f"(row {after})",
            "Use the workbook as NHS England published it, with its headings.",
            row=after,
        )


def open_sheets(path: Path, names: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Sheet]:
    """The named sheets' values. A sheet missing from the workbook is a located error; any
    failure inside the workbook reader (a zip cut short, worksheet XML truncated, a broken
    style) is damage to the file and becomes an error saying so, never a traceback."""
    names, optional = list(names), list(optional)
    try:
        # Opened from its bytes: openpyxl refuses a path whose extension is not .xlsx, and a
        # workbook is recognised by its content, not its name.
        book = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except Exception as exc:  # a zip cut short, or the third-party reader failing on damage
        raise damaged(path, exc) from exc
    try:
        present = {ws.title.strip().lower(): ws for ws in book.worksheets}
        out = {}
        for name in names + optional:
            ws = present.get(name.lower())
            if ws is None:
                if name in optional:
                    continue
                raise InputError(
                    str(path),
                    f"has no sheet '{name}' (its sheets are: "
                    f"{', '.join(ws.title for ws in book.worksheets)})",
                    "Use the workbook as NHS England published it, with all its tables.",
                )
            try:
                rows = list(ws.iter_rows(values_only=True))
            except Exception as exc:  # worksheet XML cut short inside a valid zip
                raise damaged(path, exc) from exc
            out[name] = Sheet(path, ws.title, rows)
        return out
    finally:
        book.close()


def count(sheet: Sheet, row: int, column: int, label: str) -> Decimal | None:
    """A count cell: a whole, non-negative number; blank is None (not published). Text, a
    fraction or a negative number is an error naming the cell."""
    value = sheet.cell(row, column)
    where = f"{label} (column {letter(column)})"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise sheet.error(
            f"holds '{str(value)[:40]}' where a count belongs",
            "Correct the cell to a whole number, or re-download the workbook.",
            row=row,
            column=where,
        )
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        raise sheet.error(
            f"holds {value}, which is not a count (a whole number, 0 or more)",
            "Correct the cell, or re-download the workbook.",
            row=row,
            column=where,
        )
    return number.quantize(Decimal(1))


def number(sheet: Sheet, row: int, column: int, label: str) -> Decimal | None:
    """A published non-negative figure (a rate) kept as published; blank is None."""
    value = sheet.cell(row, column)
    where = f"{label} (column {letter(column)})"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise sheet.error(
            f"holds '{str(value)[:40]}' where a number belongs",
            "Correct the cell, or re-download the workbook.",
            row=row,
            column=where,
        )
    figure = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not figure.is_finite() or figure < 0:
        raise sheet.error(
            f"holds {value}, which is not a valid figure (a number, 0 or more)",
            "Correct the cell, or re-download the workbook.",
            row=row,
            column=where,
        )
    return figure


def month_columns(sheet: Sheet, row: int, first: int) -> dict[int, dt.date]:
    """Column -> month for a header row of months from column `first` on (Table 1 series).
    A cell that is not a month, or a month given twice, is an error naming the cell."""
    out: dict[int, dt.date] = {}
    values = sheet.rows[row - 1]
    for column in range(first, len(values)):
        value = values[column]
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        month = month_of(value)
        if month is None:
            raise sheet.error(
                f"holds '{str(value)[:40]}' where a month belongs (e.g. 'Feb-26' or a date)",
                "Use the workbook as NHS England published it.",
                row=row,
                column=f"column {letter(column)}",
            )
        if month in out.values():
            raise sheet.error(
                f"names {month:%B %Y} twice",
                "Each month may head one column: re-download the workbook.",
                row=row,
                column=f"column {letter(column)}",
            )
        out[column] = month
    if not out:
        raise sheet.error(
            "has no month headings", "Use the workbook as NHS England published it.", row=row
        )
    return out


def blank(values: tuple | None) -> bool:
    """True for an empty row (no cell, or only blank text)."""
    if values is None:
        return True
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


Series = dict[dt.date, dict[str, tuple[Decimal, int]]]


def england_series(
    sheet: Sheet,
    known: Mapping[str, str],
    *,
    required: Iterable[str],
    publication: str,
    skip: Callable[[str], bool] = lambda label: False,
    decimals: Iterable[str] = (),
) -> Series:
    """A "Table 1" England series: month -> measure -> (value, row). Months head the columns
    from the third; each row is found by its words (`known`: label -> measure, labels as `key`
    gives them), so a row NHS England moves is still found, one it adds or repeats is refused,
    and a `required` one that is missing refuses the workbook, naming it. `decimals` are the
    measures that are rates, not counts; rows `skip` accepts (percentages pcnkit recomputes)
    are passed over."""
    title = sheet.find_title("Table 1")
    header = next(
        (
            r
            for r in range(title + 1, min(title + 6, len(sheet.rows)) + 1)
            if any(month_of(v) for v in sheet.rows[r - 1][2:])
        ),
        None,
    )
    if header is None:
        raise sheet.error(
            "has no row of month headings below its title",
            "Use the workbook as NHS England published it.",
            row=title,
        )
    months = month_columns(sheet, header, 2)
    rates = set(decimals)
    seen: dict[str, int] = {}
    series: Series = {m: {} for m in months.values()}
    for row in range(header + 1, len(sheet.rows) + 1):
        first = key(sheet.cell(row, 0))
        if first.startswith(("notes", "source")):
            break
        label = key(sheet.cell(row, 1))
        if not label or skip(label):
            continue
        measure = known.get(label)
        if measure is None:
            raise sheet.error(
                f"has a row pcnkit does not know: '{heading(sheet.cell(row, 1))}'",
                f"Check that this is NHS England's {publication}; if NHS England has added a "
                "row, pcnkit needs updating to read it.",
                row=row,
                column="column B",
            )
        if measure in seen:
            raise sheet.error(
                f"gives '{heading(sheet.cell(row, 1))}' twice (rows {seen[measure]} and {row})",
                "Re-download the workbook.",
                row=row,
                column="column B",
            )
        seen[measure] = row
        read = number if measure in rates else count
        for column, month in months.items():
            value = read(sheet, row, column, f"{month:%b-%y}")
            if value is None:
                raise sheet.error(
                    f"is blank for {month:%B %Y}; Table 1 gives every month a figure",
                    "Re-download the workbook.",
                    row=row,
                    column=f"{month:%b-%y} (column {letter(column)})",
                )
            series[month][measure] = (value, row)
    missing = [m for m in required if m not in seen]
    if missing:
        names: dict[str, str] = {}
        for label, measure in known.items():
            names.setdefault(measure, label[0].upper() + label[1:])
        raise sheet.error(
            "lacks the row"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"'{names[m]}'" for m in missing),
            "Use the workbook as NHS England published it, with all of Table 1.",
            row=header,
        )
    return series
