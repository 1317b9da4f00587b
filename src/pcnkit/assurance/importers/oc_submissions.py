"""NHS England, "Submissions via Online Consultation Systems in General Practice" (monthly).

Each workbook gives one month per practice (Table 2) and England's monthly series back to
April 2023 (Table 1), which every later workbook re-publishes and revises (March 2025: 4,724,314
submissions in its own workbook, 5,196,526 in later ones). Each publication's figures are kept
as it gives them; the batch's `extract_date` (the publication's own month) lets the newest win.

Traps handled: table titles and a "Return to Contents" link above each table; footnote markers
in headings and month labels; Table 1 months written as dates or text; Table 1 rows renamed and
added over the series (read by their words, not their position); April and May 2024 list only
practices that received submissions, later months every open practice with zeros; the
participation flag was suppressed ('*') from November 2024 to January 2025.

The practice rows are checked against the publication's own England figures for its month
(submissions by type, practices and patients at practices receiving submissions): all 23
workbooks published April 2024 to February 2026 agree exactly; a disagreement is a finding.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.importers import workbook
from pcnkit.assurance.importers.workbook import Sheet, count, heading
from pcnkit.assurance.observations import ENGLAND, ObservationBatch, ObservationRecord
from pcnkit.dates import Period, month_end
from pcnkit.errors import InputError

file_type = "oc-submissions"
dataset = "oc-submissions"
publisher = "NHS England"
TITLE = "Submissions via Online Consultation Systems in General Practice"
description = f"NHS England, {TITLE}"

MEASURES: dict[str, str] = {
    "submissions": "online consultation submissions received (all types)",
    "clinical": "clinical online consultation submissions",
    "administrative": "administrative online consultation submissions",
    "other": "online consultation submissions of other or unknown type",
    "registered_patients": "registered patients at the practice that month (NHS England's count)",
    "participating": "1 if the practice takes part in the collection, 0 if not (Table 2)",
    "open_practices": "open active practices in England",
    "practices_with_system": "practices known to have an online consultation system",
    "practices_participating": "practices included in the data publication (taking part)",
    "practices_receiving": "practices receiving submissions via an online consultation system",
    "patients_open_practices": "registered patients at open active practices",
    "patients_practices_with_system": (
        "registered patients at practices known to have an online consultation system"
    ),
    "patients_practices_receiving": (
        "registered patients at practices that received submissions via an online consultation "
        "system"
    ),
    "rate_per_1000": (
        "submissions per 1,000 patients registered at practices receiving submissions, as published"
    ),
}

# Table 1's rows by their words (footnotes removed, lower case). NHS England renamed some over
# the series; every spelling seen in the 23 workbooks is listed.
TABLE1_ROWS: dict[str, str] = {
    "open active practices": "open_practices",
    "count of practices known to have an online consultation system": "practices_with_system",
    "count of practices included in data publication": "practices_participating",
    "count of practices participating in the collection": "practices_participating",
    "count of practices receiving submissions via online consultation systems": (
        "practices_receiving"
    ),
    "registered patients at open active practices": "patients_open_practices",
    "registered patients at practices known to have an online consultation system": (
        "patients_practices_with_system"
    ),
    "registered patients at practices that received submissions via an online consultation "
    "system": "patients_practices_receiving",
    "total submissions received by practices, of which:": "submissions",
    "clinical submissions": "clinical",
    "administrative submissions": "administrative",
    "other/unknown type submissions": "other",
    # The rate is submissions per 1,000 patients at practices RECEIVING submissions in every
    # workbook (checked against its rows), though most label it "known to have a system".
    "rate per 1,000 patients registered at practices known to have an online consultation "
    "system": "rate_per_1000",
    "rate per 1,000 patients registered at practices that have received at least one "
    "submission via an online consultation system": "rate_per_1000",
}
TABLE1_REQUIRED = (
    "open_practices",
    "practices_receiving",
    "patients_open_practices",
    "patients_practices_receiving",
    "submissions",
    "clinical",
    "administrative",
    "other",
    "rate_per_1000",
)
# Table 2's columns: pcnkit's name -> the heading (footnotes removed).
TABLE2_COLUMNS = {
    "month": "Month",
    "code": "GP Code",
    "submissions": "Submissions",
    "clinical": "Clinical Submissions",
    "administrative": "Administrative Submissions",
    "other": "Other/Unknown Type Submissions",
    "registered_patients": "Registered Patient Count",
}
TYPES = ("submissions", "clinical", "administrative", "other")
# A supplier whose practices almost all show no submissions in a month did not send its data
# (NHS England's notes: no eConsult data for December 2024, eConsult incomplete for August 2024;
# in Table 2 every eConsult-only practice shows 0 those months). Its zeros are not figures.
SILENT_SHARE = Decimal("0.01")  # at most 1% of its practices with any submission ...
SILENT_MIN_PRACTICES = 10  # ... among at least this many practices using it alone
NO_DATA = ("no data",)  # NHS England's own word for a practice whose supplier did not report
PRACTICE_CODE = re.compile(r"[A-Z0-9]{3,8}")


def sniff_sheets(sheet_names: list[str], path: Path) -> bool:
    """An OC workbook by its content: Tables 1 and 2, and Table 1's title about online
    consultation systems (not the file name, which users rename)."""
    if not {"table 1", "table 2"} <= {n.strip().lower() for n in sheet_names}:
        return False
    try:
        sheet = workbook.open_sheets(path, ["Table 1"])["Table 1"]
        title = sheet.title_text(sheet.find_title("Table 1")).lower()
    except InputError:
        return False
    return "online consultation" in title and "usage" in title


def _silent(
    practices: dict[str, tuple[int, dict[str, Decimal]]], suppliers: dict[str, str]
) -> set[str]:
    """Practices whose zero submissions are a supplier not reporting, not a month without any:
    those of a supplier (used alone) with at most SILENT_SHARE of its practices receiving any,
    and those NHS England marks "No Data"."""
    using: dict[str, list[str]] = {}
    for code, supplier in suppliers.items():
        if "," not in supplier:
            using.setdefault(supplier, []).append(code)
    silent: set[str] = set()
    for supplier, codes in using.items():
        if supplier.lower().startswith("none"):
            continue  # no known system: a true zero (no online consultation access)
        receiving = sum(1 for c in codes if practices[c][1]["submissions"] > 0)
        quiet = supplier.lower() in NO_DATA or (
            len(codes) >= SILENT_MIN_PRACTICES and receiving <= SILENT_SHARE * len(codes)
        )
        if quiet:
            silent |= {c for c in codes if practices[c][1]["submissions"] == 0}
    return silent


def _silent_words(month: dt.date, silent: set[str], suppliers: dict[str, str]) -> list[str]:
    counted: dict[str, int] = {}
    for code in silent:
        counted[suppliers[code]] = counted.get(suppliers[code], 0) + 1
    return [
        f"{supplier}: {n} practices show no submissions in {month:%B %Y}, as do almost all "
        "practices using it, so the supplier did not send its data that month or does not take "
        "part in the collection (NHS England's notes say so); their submissions are recorded "
        "as not known, not as zero"
        for supplier, n in sorted(counted.items())
    ]


def _month_period(month: dt.date) -> Period:
    return Period(month, month_end(month))


def parse(path: Path, sha: str) -> ObservationBatch:
    sheets = workbook.open_sheets(path, ["Table 1", "Table 2"])
    series = _table1(sheets["Table 1"])
    month, practices, listing, suppliers = _table2(sheets["Table 2"])
    newest = max(series)
    if newest != month:
        raise InputError(
            str(path),
            f"Table 1's newest month is {newest:%B %Y} but Table 2 is for {month:%B %Y}",
            "Use the workbook as NHS England published it (both tables for the same month).",
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
    t1, t2 = sheets["Table 1"].title, sheets["Table 2"].title
    for when, figures in sorted(series.items()):
        for measure, (value, row) in figures.items():
            batch.add(
                ObservationRecord(
                    ENGLAND, "nation", measure, _month_period(when), value, row=row, sheet=t1
                )
            )
    batch.findings.extend(_reconcile(month, series[month], practices))
    silent = _silent(practices, suppliers)
    for code, (row, figures) in practices.items():
        for measure, value in figures.items():
            if code in silent and measure in TYPES:
                continue  # a supplier that did not report: no figure, not a zero
            batch.add(
                ObservationRecord(
                    code, "practice", measure, _month_period(month), value, row=row, sheet=t2
                )
            )
    batch.rows = len({(o.sheet, o.row) for o in batch.observations})  # rows giving figures
    batch.findings.append(listing)
    batch.findings.extend(_silent_words(month, silent, suppliers))
    earlier = sorted(m for m in series if m != month)
    if earlier:
        batch.findings.append(
            f"Table 1 re-publishes England's figures for {earlier[0]:%B %Y} to "
            f"{earlier[-1]:%B %Y}; NHS England revises earlier months as suppliers send late "
            "data, so this publication's figures for them may differ from the month's own "
            "workbook (each is kept with its source)."
        )
    return batch


def _table1(sheet: Sheet) -> dict[dt.date, dict[str, tuple[Decimal, int]]]:
    """England's series: month -> measure -> (value, row). Rows are found by their words; a
    required row that is missing refuses the workbook, naming it."""
    return workbook.england_series(
        sheet,
        TABLE1_ROWS,
        required=TABLE1_REQUIRED,
        publication="online consultation workbook",
        decimals=("rate_per_1000",),
    )


def _table2(
    sheet: Sheet,
) -> tuple[dt.date, dict[str, tuple[int, dict[str, Decimal]]], str, dict[str, str]]:
    """The month, practice -> (row, measure -> value), the finding on who is listed, and each
    practice's supplier as written."""
    title = sheet.find_title("Table 2")
    month = workbook.month_in_title(sheet.title_text(title))
    if month is None:
        raise sheet.error(
            f"has a title that names no month: '{sheet.title_text(title)[:80]}'",
            "Use the workbook as NHS England published it.",
            row=title,
        )
    header = sheet.find_row(title, "Month")
    labels = [heading(v) for v in sheet.rows[header - 1]]
    columns: dict[str, int] = {}
    for name, wanted in TABLE2_COLUMNS.items():
        found = [i for i, h in enumerate(labels) if h.lower() == wanted.lower()]
        if len(found) != 1:
            raise sheet.error(
                f"has {'no' if not found else 'more than one'} '{wanted}' column",
                "Use the workbook as NHS England published it, with its columns.",
                row=header,
            )
        columns[name] = found[0]
    participation = next((i for i, h in enumerate(labels) if h.lower() == "participation"), None)
    supplier_column = next((i for i, h in enumerate(labels) if h.lower() == "supplier"), None)
    suppliers: dict[str, str] = {}
    practices: dict[str, tuple[int, dict[str, Decimal]]] = {}
    suppressed = zeros = 0
    end = len(sheet.rows)
    for row in range(header + 1, len(sheet.rows) + 1):
        if workbook.blank(sheet.rows[row - 1]):
            end = row
            break
        when = sheet.cell(row, columns["month"])
        if workbook.month_of(when) != month or isinstance(when, str):
            raise sheet.error(
                f"holds '{str(when)[:40]}' where the month {month:%B %Y} (a date) belongs",
                "Every practice row is for the table's month: re-download the workbook.",
                row=row,
                column=f"{labels[columns['month']]} (column {workbook.letter(columns['month'])})",
            )
        code_label = f"GP Code (column {workbook.letter(columns['code'])})"
        code = str(sheet.cell(row, columns["code"]) or "").strip().upper()
        if not PRACTICE_CODE.fullmatch(code):
            raise sheet.error(
                f"holds '{code[:40]}' where a practice code belongs",
                "Correct the code, or re-download the workbook.",
                row=row,
                column=code_label,
            )
        if code in practices:
            raise sheet.error(
                f"lists practice {code} twice (rows {practices[code][0]} and {row})",
                "Each practice appears once per month: re-download the workbook.",
                row=row,
                column=code_label,
            )
        figures: dict[str, Decimal] = {}
        for name in (*TYPES, "registered_patients"):
            value = count(sheet, row, columns[name], labels[columns[name]])
            if value is None:
                raise sheet.error(
                    "is blank; every listed practice has a figure (0 if none)",
                    "Re-download the workbook.",
                    row=row,
                    column=f"{labels[columns[name]]} (column {workbook.letter(columns[name])})",
                )
            figures[name] = value
        if figures["submissions"] == 0:
            zeros += 1
        if participation is not None:
            flag = sheet.cell(row, participation)
            if flag in (0, 1) and not isinstance(flag, bool):
                figures["participating"] = Decimal(flag)
            elif str(flag).strip() == "*":
                suppressed += 1
            else:
                raise sheet.error(
                    f"holds '{str(flag)[:40]}' where 1, 0 or '*' (suppressed) belongs",
                    "Re-download the workbook.",
                    row=row,
                    column=f"Participation (column {workbook.letter(participation)})",
                )
        practices[code] = (row, figures)
        if supplier_column is not None:
            suppliers[code] = str(sheet.cell(row, supplier_column) or "").strip()
    if not practices:
        raise sheet.error("has no practice rows", "Re-download the workbook.", row=header)
    for row in range(end + 1, len(sheet.rows) + 1):
        if isinstance(sheet.cell(row, columns["month"]), dt.date):
            raise sheet.error(
                f"has a practice row after the blank row {end}, so the table has a gap",
                "Re-download the workbook; pcnkit reads the table down to its first blank row.",
                row=row,
            )
    if zeros:
        listing = (
            f"Table 2 lists every open practice for {month:%B %Y}, zeros included "
            f"({zeros} of {len(practices)} received no submissions)."
        )
    else:
        listing = (
            f"Table 2 lists only practices that received submissions in {month:%B %Y}: "
            "practices not listed had no system, did not take part or received no submissions "
            "(they are not zeros)."
        )
    if suppressed:
        listing += (
            f" NHS England suppressed the participation flag ('*') for {suppressed} practices "
            "because of data quality issues, so no 'participating' figure is recorded for them."
        )
    return month, practices, listing, suppliers


def _reconcile(month: dt.date, england: dict, practices: dict) -> list[str]:
    """Findings where the practice rows disagree with the publication's own England figures
    for the month (none in any workbook published April 2024 to February 2026)."""
    totals = dict.fromkeys((*TYPES, "practices_receiving", "patients_practices_receiving"), 0)
    for _row, figures in practices.values():
        for name in TYPES:
            totals[name] += figures[name]
        if figures["submissions"] > 0:
            totals["practices_receiving"] += 1
            totals["patients_practices_receiving"] += figures["registered_patients"]
    out = []
    unequal = [
        code
        for code, (_row, f) in practices.items()
        if f["clinical"] + f["administrative"] + f["other"] != f["submissions"]
    ]
    if unequal:
        out.append(
            f"For {len(unequal)} practices (e.g. {', '.join(unequal[:3])}) the clinical, "
            "administrative and other submissions do not add up to the total submissions; "
            "each figure is kept as published."
        )
    for measure, total in totals.items():
        published = england.get(measure, (None,))[0]
        if published is not None and published != total:
            out.append(
                f"Table 2's practices give {total:,} for {MEASURES[measure]} in {month:%B %Y}, "
                f"but Table 1 gives {published:,} (difference {total - published:+,})."
            )
    return out
