"""NHS England, "Cloud Based Telephony data in General Practice" (monthly, from October 2024).

Each workbook gives one month per practice in three tables (Table 3 call outcomes, Table 4
answered calls by wait and duration, Table 5 missed calls by wait), each with a national Total
row above the practices, and England's monthly series in Table 1. Only counts are read: the
published percentages and rates are derived from them (an indicator recomputes them, summing
numerators and denominators up the hierarchy).

Traps handled: a group heading row above the headings and a Count/% row below them (so "Less
than 1 minute" is found under "Answered Calls - Wait time" or "- Duration"); headings with line
breaks and double spaces (`GP Practice \\n(ODS_CODE)`, `ICB Code  [2]`); a blank row between the
headings and Table 3's Total row; Table 1 months written as the 1st or the last day of the month;
"Unassigned" rows (telephony accounts NHS England could not split between practices) that count
in the national total but belong to no practice; and, in the October and November 2025 Table 3,
one practice row whose Month cell NHS England overwrote with its copyright line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.importers import workbook
from pcnkit.assurance.importers.workbook import Sheet, count, heading, key
from pcnkit.assurance.observations import ENGLAND, ObservationBatch, ObservationRecord
from pcnkit.dates import Period, month_end
from pcnkit.errors import InputError

file_type = "cloud-telephony"
dataset = "cloud-telephony"
publisher = "NHS England"
TITLE = "Cloud Based Telephony data in General Practice"
description = f"NHS England, {TITLE}"

BANDS = {
    "lt1": "less than 1 minute",
    "1to2": "1 - 2 minutes",
    "2to5": "2 - 5 minutes",
    "gt5": "longer than 5 minutes",
}
_BAND_WORDS = {
    "lt1": "under 1 minute",
    "1to2": "1 to 2 minutes",
    "2to5": "2 to 5 minutes",
    "gt5": "over 5 minutes",
}
MEASURES: dict[str, str] = {
    "inbound": "inbound calls to the practice",
    "answered": "inbound calls answered",
    "ended_ivr": "calls ended during the IVR (automated message) stage, before the queue",
    "callback_requested": "calls resulting in a call-back request",
    "missed": "calls missed (ended in the queue to speak to staff, voicemails included)",
    "callback_made": "call-backs made",
    **{f"answered_wait_{b}": f"answered calls that waited {w}" for b, w in _BAND_WORDS.items()},
    **{
        f"answered_duration_{b}": f"answered calls lasting {w}".replace("under", "up to")
        for b, w in _BAND_WORDS.items()
    },
    **{
        f"missed_wait_{b}": f"missed calls that waited {w} before ending"
        for b, w in _BAND_WORDS.items()
    },
    "open_practices": "open active practices in England",
    "practices_included": "practices included in the publication (taking part, with data)",
    "patients_open_practices": "registered patients at open active practices",
    "patients_included": "registered patients at practices included in the publication",
    "working_days": "working weekdays in the month",
}

# Table 1's rows by their words (footnotes removed, lower case).
TABLE1_ROWS: dict[str, str] = {
    "open active practices": "open_practices",
    "count of practices included": "practices_included",
    "registered patients at open active practices": "patients_open_practices",
    "registered patients at included practices": "patients_included",
    "number of working weekdays": "working_days",
    "total inbound calls": "inbound",
    "calls answered": "answered",
    "calls ended during the ivr (interactive voice response) stage of the call before joining "
    "the queue, in response to an automated message or diversion": "ended_ivr",
    "calls resulting in a call back request": "callback_requested",
    "call backs made": "callback_made",
    "missed calls": "missed",
    "calls answered within 1 minute": "answered_wait_lt1",
    "calls answered within 1 to 2 minutes": "answered_wait_1to2",
    "calls answered within 2 to 5 minutes": "answered_wait_2to5",
    "calls answered after waiting over 5 minutes": "answered_wait_gt5",
    "duration of 1 minute or less": "answered_duration_lt1",
    "duration of 1 to 2 minutes": "answered_duration_1to2",
    "duration of 2 to 5 minutes": "answered_duration_2to5",
    "duration of over 5 minutes": "answered_duration_gt5",
}
# Rows Table 1 derives from the counts (shares and rates): not read.
TABLE1_DERIVED = (
    "practice coverage",
    "patient coverage",
    "rate of inbound calls per 1,000 patients registered at practices included",
)

# The practice tables' count columns: measure -> (group heading or None for any, heading, the
# Count/% row's word). `check` columns repeat a Table 3 figure and are compared with it.
TABLES = {
    "Table 3": {
        "inbound": (None, "count of inbound calls", "total"),
        "answered": (None, "answered", "total"),
        "ended_ivr": (None, "ended during the ivr stage", "total"),
        "callback_requested": (None, "call back requested", "total"),
        "missed": (None, "missed", "total"),
        "callback_made": (None, "call back made", "total"),
    },
    "Table 4": {
        "check:inbound": (None, "total inbound calls", "count"),
        "check:answered": (None, "answered", "count"),
        **{
            f"answered_wait_{b}": ("answered calls - wait time", h, "count")
            for b, h in BANDS.items()
        },
        **{
            f"answered_duration_{b}": ("answered calls - duration", h, "count")
            for b, h in BANDS.items()
        },
    },
    "Table 5": {
        "check:inbound": (None, "total inbound calls", "count"),
        "check:missed": (None, "missed", "count"),
        **{f"missed_wait_{b}": ("missed calls - wait time", h, "count") for b, h in BANDS.items()},
    },
}
CODE_HEADING = "gp practice (ods_code)"
UNASSIGNED = "unassigned"
PRACTICE_CODE = re.compile(r"[A-Z0-9]{3,8}")


def sniff_sheets(sheet_names: list[str], path: Path) -> bool:
    """A telephony workbook by its content: Tables 1, 3, 4 and 5, and Table 1's title about
    cloud based telephony calls (not the file name)."""
    if not {"table 1", *(t.lower() for t in TABLES)} <= {n.strip().lower() for n in sheet_names}:
        return False
    try:
        sheet = workbook.open_sheets(path, ["Table 1"])["Table 1"]
        title = sheet.title_text(sheet.find_title("Table 1")).lower()
    except InputError:
        return False
    return "cloud based telephony" in title


def _period(month: dt.date) -> Period:
    return Period(month, month_end(month))


class _Practices:
    """Figures per practice across Tables 3-5, with the national rows and the Unassigned
    accounts, kept with their rows and sheets."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, tuple[Decimal, int, str]]] = defaultdict(dict)
        self.national: dict[str, tuple[Decimal, int, str]] = {}
        self.unassigned: dict[str, Decimal] = defaultdict(Decimal)
        self.unassigned_rows = 0
        self.blank_cells: list[str] = []
        self.overwritten: list[str] = []
        self.disagree: dict[str, list[str]] = defaultdict(list)


def parse(path: Path, sha: str) -> ObservationBatch:
    sheets = workbook.open_sheets(path, ["Table 1", *TABLES])
    practices = _Practices()
    month = None
    for name in TABLES:
        table_month = _practice_table(sheets[name], TABLES[name], practices)
        if month is not None and table_month != month:
            raise sheets[name].error(
                f"is for {table_month:%B %Y} but Table 3 is for {month:%B %Y}",
                "Use the workbook as NHS England published it (every table for one month).",
            )
        month = table_month
    assert month is not None
    series = _table1(sheets["Table 1"])
    if max(series) != month:
        raise InputError(
            str(path),
            f"Table 1's newest month is {max(series):%B %Y} but Tables 3-5 are for {month:%B %Y}",
            "Use the workbook as NHS England published it.",
        )
    batch = ObservationBatch(
        file=str(path),
        file_type=file_type,
        dataset=dataset,
        description=f"{description}, {month:%B %Y}",
        sha256=sha,
        extract_date=month,
        publisher=publisher,
    )
    t1 = sheets["Table 1"].title
    for when, figures in sorted(series.items()):
        for measure, (value, row) in figures.items():
            if when == month and measure in practices.national:
                continue  # the Total row gives it, with its own row (compared below)
            batch.add(ObservationRecord(ENGLAND, "nation", measure, _period(when), value, row, t1))
    for measure, (value, row, sheet) in practices.national.items():
        batch.add(
            ObservationRecord(
                ENGLAND, "nation", measure, _period(month), value, row=row, sheet=sheet
            )
        )
    for code, figures in practices.figures.items():
        for measure, (value, row, sheet) in figures.items():
            batch.add(
                ObservationRecord(
                    code, "practice", measure, _period(month), value, row=row, sheet=sheet
                )
            )
    batch.rows = len({(o.sheet, o.row) for o in batch.observations})  # rows giving figures
    batch.findings.extend(_findings(month, series[month], practices))
    return batch


def _findings(month: dt.date, table1: dict, practices: _Practices) -> list[str]:
    out = []
    if practices.unassigned_rows:
        shown = ", ".join(
            f"{practices.unassigned[m]:,} {MEASURES[m].split(' (')[0]}"
            for m in ("inbound", "answered", "missed")
        )
        out.append(
            f"{practices.unassigned_rows} rows are 'Unassigned' (telephony accounts shared by "
            "several practices that NHS England could not split between them): their calls "
            f"({shown}) are in England's total but in no practice's figures for {month:%B %Y}."
        )
    if practices.overwritten:
        out.append(
            "The Month cell of "
            + "; ".join(practices.overwritten)
            + " holds other text (NHS England's copyright line was written over it); the row "
            f"is read as the table's month, {month:%B %Y}, like every other practice row."
        )
    if practices.blank_cells:
        cells = practices.blank_cells
        out.append(
            f"{len(cells)} practice cells are blank (not published): "
            + "; ".join(cells[:5])
            + ("; ..." if len(cells) > 5 else "")
            + ". No figure is recorded for them, which is not the same as zero."
        )
    for what, codes in practices.disagree.items():
        out.append(
            f"{what} for {len(codes)} practices (e.g. {', '.join(codes[:3])}); Table 3's figure "
            "is kept."
        )
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for figures in practices.figures.values():
        for measure, (value, _row, _sheet) in figures.items():
            totals[measure] += value
    for measure, (value, row, sheet) in practices.national.items():
        summed = totals[measure] + practices.unassigned[measure]
        if summed != value:
            out.append(
                f"{sheet}'s Total row (row {row}) gives {value:,} {MEASURES[measure]}, but its "
                f"practice and Unassigned rows add up to {summed:,} (difference "
                f"{summed - value:+,})."
            )
        published = table1.get(measure, (None,))[0]
        if published is not None and published != value:
            out.append(
                f"Table 1 gives {published:,} {MEASURES[measure]} for {month:%B %Y}, but "
                f"{sheet}'s Total row gives {value:,}; the Total row's figure is kept."
            )
    return out


def _columns(sheet: Sheet, header: int, spec: dict) -> tuple[dict[str, int], int]:
    """measure -> column for a practice table, read from its group, heading and Count/% rows;
    and the practice code's column."""

    def filled(row: int) -> list[str]:
        out, last = [], ""
        for value in sheet.rows[row - 1] if 0 < row <= len(sheet.rows) else ():
            last = key(value) or last
            out.append(last)
        return out

    groups, headings = filled(header - 1), filled(header)
    subs = [key(v) for v in sheet.rows[header]] if header < len(sheet.rows) else []
    width = max(len(groups), len(headings), len(subs))
    groups += [""] * (width - len(groups))
    headings += [""] * (width - len(headings))
    subs += [""] * (width - len(subs))
    found = {}
    for measure, (group, title, sub) in spec.items():
        matches = [
            i
            for i in range(width)
            if headings[i] == title and subs[i] == sub and (group is None or groups[i] == group)
        ]
        if len(matches) != 1:
            where = f"under '{group}' " if group else ""
            raise sheet.error(
                f"has {'no' if not matches else 'more than one'} '{title}' column {where}"
                f"with '{sub}' below it",
                "Use the workbook as NHS England published it, with its headings.",
                row=header,
            )
        found[measure] = matches[0]
    codes = [i for i, h in enumerate(sheet.rows[header - 1]) if key(h) == CODE_HEADING]
    if len(codes) != 1:
        raise sheet.error(
            "has no 'GP Practice (ODS_CODE)' column",
            "Use the workbook as NHS England published it, with its headings.",
            row=header,
        )
    return found, codes[0]


def _practice_table(sheet: Sheet, spec: dict, practices: _Practices) -> dt.date:
    """Read one practice table into `practices`; return its month (from its title)."""
    title = sheet.find_title(sheet.title)
    month = workbook.month_in_title(sheet.title_text(title))
    if month is None:
        raise sheet.error(
            f"has a title that names no month: '{sheet.title_text(title)[:80]}'",
            "Use the workbook as NHS England published it.",
            row=title,
        )
    header = sheet.find_row(title, "Month")
    columns, code_column = _columns(sheet, header, spec)
    labels = [heading(v) for v in sheet.rows[header - 1]]
    row = header + 2
    while row <= len(sheet.rows) and workbook.blank(sheet.rows[row - 1]):
        row += 1
    if key(sheet.cell(row, 0)) != "total":
        raise sheet.error(
            "has no Total row above its practices",
            "Use the workbook as NHS England published it.",
            row=row,
        )
    for measure, column in columns.items():
        value = count(sheet, row, column, labels[column] or measure)
        if value is not None and not measure.startswith("check:"):
            practices.national[measure] = (value, row, sheet.title)
    seen: dict[str, int] = {}
    end = len(sheet.rows) + 1
    first = row + 1  # the practices start after the blank row(s) below the Total row
    while first <= len(sheet.rows) and workbook.blank(sheet.rows[first - 1]):
        first += 1
    for row in range(first, len(sheet.rows) + 1):
        values = sheet.rows[row - 1]
        if workbook.blank(values):
            end = row
            break
        _practice_row(sheet, row, month, columns, code_column, labels, practices, seen)
    for later in range(end + 1, len(sheet.rows) + 1):
        if isinstance(sheet.cell(later, 0), dt.date):
            raise sheet.error(
                f"has a practice row after the blank row {end}, so the table has a gap",
                "Re-download the workbook; pcnkit reads the table down to its first blank row.",
                row=later,
            )
    if not seen:
        raise sheet.error("has no practice rows", "Re-download the workbook.", row=header)
    return month


def _practice_row(sheet, row, month, columns, code_column, labels, practices, seen) -> None:
    code_label = f"GP Practice (ODS_CODE) (column {workbook.letter(code_column)})"
    code = " ".join(str(sheet.cell(row, code_column) or "").split()).upper()
    when = sheet.cell(row, 0)
    unassigned = code.lower() == UNASSIGNED
    if not unassigned and not PRACTICE_CODE.fullmatch(code):
        raise sheet.error(
            f"holds '{code[:40]}' where a practice code (or 'Unassigned') belongs",
            "Correct the code, or re-download the workbook.",
            row=row,
            column=code_label,
        )
    if isinstance(when, dt.date):
        if workbook.month_of(when) != month:
            raise sheet.error(
                f"is for {when:%B %Y} but the table is for {month:%B %Y}",
                "Re-download the workbook.",
                row=row,
                column=f"Month (column {workbook.letter(0)})",
            )
    elif when is None or workbook.month_of(when) is not None:
        raise sheet.error(
            f"holds '{when}' where the month {month:%B %Y} (a date) belongs",
            "Re-download the workbook.",
            row=row,
            column=f"Month (column {workbook.letter(0)})",
        )
    else:  # NHS England's copyright line written over a practice row's month (2025-10, -11)
        practices.overwritten.append(f"{sheet.title} row {row} ({code})")
    if not unassigned:
        if code in seen:
            raise sheet.error(
                f"lists practice {code} twice (rows {seen[code]} and {row})",
                "Each practice appears once per table: re-download the workbook.",
                row=row,
                column=code_label,
            )
        seen[code] = row
    else:
        practices.unassigned_rows += sheet.title == "Table 3"
        seen.setdefault(code, row)
    figures = practices.figures[code] if not unassigned else None
    for measure, column in columns.items():
        value = count(sheet, row, column, labels[column] or measure)
        if value is None:
            practices.blank_cells.append(
                f"{sheet.title} row {row} column {workbook.letter(column)} ({code})"
            )
            continue
        if measure.startswith("check:"):
            kept = measure.split(":", 1)[1]
            if figures is not None and kept in figures and figures[kept][0] != value:
                practices.disagree[f"{sheet.title}'s {kept} differs from Table 3's {kept}"].append(
                    code
                )
            continue
        if unassigned:
            practices.unassigned[measure] += value
        else:
            figures[measure] = (value, row, sheet.title)


def _table1(sheet: Sheet) -> dict[dt.date, dict[str, tuple[Decimal, int]]]:
    """England's series: month -> measure -> (value, row); rows found by their words."""
    return workbook.england_series(
        sheet,
        TABLE1_ROWS,
        required=dict.fromkeys(TABLE1_ROWS.values()),
        publication="cloud based telephony workbook",
        skip=lambda label: label.startswith("percentage of") or label in TABLE1_DERIVED,
    )
