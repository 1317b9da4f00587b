"""Every CSV and Excel file pcnkit writes goes through here, so that text can never run as a
spreadsheet formula and Excel reads the £ sign.

A cell whose text begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (a practice or staff name `=HYPERLINK(...)` becomes a
live link). `cell` prefixes such text with an apostrophe (OWASP's advice for CSV injection);
numbers stay numbers, so a negative amount is still summable. CSV downloads start with a UTF-8
byte-order mark, without which Excel on Windows shows "£" as "Â£".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import IO

from pcnkit.funding.money import XLSX_MONEY_FORMAT

# Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection), including
# the full-width forms some spreadsheets also accept.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Text that is only a number ("-12.50", "+44") is a number, not a formula: it is left as is.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Control characters an xlsx file cannot hold (openpyxl refuses them).
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
BOM = "\ufeff"


def neutralise(text: str) -> str:
    """Text made safe to open in a spreadsheet: a leading apostrophe when it would start a
    formula; unchanged otherwise (and when it is just a number)."""
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def cell(value: object) -> object:
    """A value for a CSV or xlsx cell: numbers, booleans, dates and None unchanged (they cannot
    be formulas), lists joined, everything else as neutralised text."""
    if value is None or isinstance(value, bool | int | float | Decimal | dt.date):
        return value
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    return neutralise(str(value))


def _csv_value(value: object) -> object:
    value = cell(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and "\r" in value:
        # The writer's line ending is "\n", so the csv module quotes a field holding "\n" but
        # not one holding a lone carriage return: Excel would end the row there and read what
        # follows ("=2+2,...") as a new row's first cell, a live formula. Line breaks inside a
        # cell are written as "\n", which is quoted.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


class SafeWriter:
    """`csv.writer` whose every cell passes through `cell`."""

    def __init__(self, out: IO[str], **kwargs) -> None:
        kwargs.setdefault("lineterminator", "\n")
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([_csv_value(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(out: IO[str], columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """A header and one line per mapping (keys not in `columns` are left out)."""
    writer = SafeWriter(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row.get(c) for c in columns)


def csv_download(columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> bytes:
    """A CSV file to download: UTF-8 with a byte-order mark, so Excel reads £ and accents."""
    text = io.StringIO()
    text.write(BOM)
    write_csv(text, columns, rows)
    return text.getvalue().encode("utf-8")


def csv_download_text(text: str) -> bytes:
    """CSV text already written with `SafeWriter`, as a download (with the byte-order mark)."""
    return (BOM + text).encode("utf-8")


def xlsx_value(value: object) -> object:
    """A value for an openpyxl cell: `cell`, with Decimals as numbers (the exact figures are in
    the CSV and JSON) and characters an xlsx cannot hold removed."""
    if isinstance(value, str):
        value = _ILLEGAL_XLSX.sub("", value)
    value = cell(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return _ILLEGAL_XLSX.sub("", value)
    return value


MONEY_FORMAT = XLSX_MONEY_FORMAT  # negatives as the pages write them: £-12.34
TOTAL = "Total"


def write_workbook(
    target,
    sheets: Mapping[str, tuple[Sequence[Mapping[str, object]], Sequence[str]]],
    money: set[str],
    cover: Sequence[tuple[str, object]] | None = None,
    totals: set[str] | None = None,
) -> None:
    """An Excel workbook: an optional cover sheet of (label, value) rows, then one sheet per
    table. Money columns are numbers with a £ format; a sheet named in `totals` ends with a
    row adding up its money columns (a value, not a formula). `target` is a path or a binary
    stream."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    if cover is not None:
        ws = workbook.create_sheet("About")
        for label, value in cover:
            ws.append([xlsx_value(label), xlsx_value(value)])
            ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
            ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True)
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 100
    for title, (rows, columns) in sheets.items():
        ws = workbook.create_sheet(_sheet_title(title))
        ws.append([xlsx_value(c) for c in columns])
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append([xlsx_value(row.get(c)) for c in columns])
        if totals and title in totals and rows:
            sums = {
                c: sum((row[c] for row in rows if isinstance(row.get(c), Decimal)), Decimal(0))
                for c in columns
                if c in money
            }
            ws.append([xlsx_value(sums[c]) if c in sums else None for c in columns])
            ws.cell(row=ws.max_row, column=1, value=TOTAL)
            for c in ws[ws.max_row]:
                c.font = Font(bold=True)
        for index, column in enumerate(columns, start=1):
            letter = ws.cell(row=1, column=index).column_letter
            width = max([len(column)] + [len(str(row.get(column, ""))) for row in rows[:200]])
            ws.column_dimensions[letter].width = min(60, width + 2)
            if column in money:
                for (c,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    c.number_format = MONEY_FORMAT
        ws.freeze_panes = "A2"
    workbook.save(target)


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", "-", title)[:31]


__all__ = [
    "BOM",
    "SafeWriter",
    "cell",
    "csv_download",
    "csv_download_text",
    "neutralise",
    "write_csv",
    "write_workbook",
    "xlsx_value",
]
