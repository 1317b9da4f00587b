"""ODS ePCN workbook (the 2019 and 2022 layouts): PCNs and their core partner practices.

The partner sheet's PCN Name is an Excel formula, so rows join on PCN Code. Relationships are
dated (ODS back-dates them all to 2019-10-01); the 2022 layout keeps ended ones with end dates.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from collections import defaultdict
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from pcnkit.dates import Period, date_in_name, day_before
from pcnkit.errors import InputError
from pcnkit.registry import kinds, timeline
from pcnkit.registry.importers.base import (
    Batch,
    FactRecord,
    Finding,
    OrgRecord,
    Row,
    control_character,
)

file_type = "epcn"
description = "ODS ePCN workbook (PCNs and core partner practices)"
publisher = "NHS Digital (ODS)"

# Each column: pcnkit's name, the heading NHS Digital published (2019), and a pattern the
# heading must match (whitespace collapsed, lower case). The 2022 layout breaks headings over
# lines; the ICB-era layouts say "Sub ICB" where the 2019 one says "CCG".
_ORG = r".*(ccg|clinical commissioning group|icb|sub icb|commissioner)"
DETAILS = [
    ("pcn code", "PCN Code", r"pcn code"),
    ("pcn name", "PCN Name", r"pcn name"),
    ("ccg code", "Current Clinical Commissioning Group Code", _ORG + r".*code"),
    ("ccg name", "Clinical Commissioning Group Name", _ORG + r".*name"),
    ("open date", "Open Date", r"open date.*"),
    ("close date", "Close Date", r"close date.*"),
    *[(f"address line {n}", f"Address Line {n}", f"address line {n}") for n in range(1, 6)],
    ("postcode", "Postcode", r"post ?code"),
]
PARTNERS = [
    ("partner code", "Partner Organisation Code", r"partner.*code"),
    ("partner name", "Partner Name", r"partner.*name"),
    ("practice ccg code", "Practice Parent CCG Code", r"practice.*" + _ORG + r".*code"),
    ("practice ccg name", "Practice Parent CCG Name", r"practice.*" + _ORG + r".*name"),
    ("pcn code", "PCN Code", r"pcn code"),
    ("pcn name", "PCN Name", r"pcn name"),
    ("pcn ccg code", "PCN Parent CCG Code", r"pcn.*" + _ORG + r".*code"),
    ("pcn ccg name", "PCN Parent CCG Name", r"pcn.*" + _ORG + r".*name"),
    ("start date", "Practice to PCN Relationship Start Date", r".*start date"),
    ("end date", "Practice to PCN Relationship End Date", r".*end date"),
    ("ccg match", "Practice CCG and PCN CCG match?", r".*match.*"),
]
DETAILS_SHEETS = ("pcn details", "pcndetails")
PARTNER_SHEET = "pcn core partner details"


def _heading(value: object) -> str:
    return " ".join(str(value or "").split())


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def sheet_names(path: Path) -> list[str]:
    """Sheet names from the workbook's index, without reading the sheets (fast to sniff)."""
    try:
        with zipfile.ZipFile(path) as archive:
            index = archive.read("xl/workbook.xml").decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InputError(
            str(path),
            f"cannot be opened as an Excel workbook ({exc}); it looks truncated or damaged",
            "Re-download the file.",
        ) from exc
    return [html.unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"', index)]


def sniff_sheets(names: list[str]) -> bool:
    lowered = [n.lower() for n in names]
    return PARTNER_SHEET in lowered and any(n in lowered for n in DETAILS_SHEETS)


def _check_header(path: Path, sheet, header: tuple | None, columns: list, label: str) -> None:
    """Refuse a sheet whose headings are not the ePCN layout, naming what is missing or
    unexpected (column by column), rather than reading columns by position blindly."""
    cells = [_heading(h) for h in (header or ())]
    while cells and not cells[-1]:
        cells.pop()
    used: set[int] = set()
    missing = []
    for _name, published, pattern in columns:
        found = next(
            (i for i, c in enumerate(cells) if i not in used and re.fullmatch(pattern, c.lower())),
            None,
        )
        if found is None:
            missing.append(f"'{published}'")
        else:
            used.add(found)
    # columns added after the layout's last are ignored; one inserted among them is not
    unexpected = [
        f"'{c}' (column {_letter(i)})"
        for i, c in enumerate(cells[: len(columns)])
        if c and i not in used
    ]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected {', '.join(unexpected)}")
    if not problems:  # every heading is there, but out of order
        for i, (_name, published, pattern) in enumerate(columns):
            if not re.fullmatch(pattern, cells[i].lower()):
                problems.append(f"column {_letter(i)} is '{cells[i]}' where '{published}' belongs")
    if problems:
        shown = "; ".join(problems[:6]) + ("; ..." if len(problems) > 6 else "")
        raise InputError(
            f"{path} [{sheet.title}]",
            f"does not have the ePCN {label} columns: {shown}",
            "Use the ePCN workbook as published by NHS Digital, with its columns in order.",
            row=1,
        )


def _sheet_rows(path: Path, sheet, columns: list, label: str) -> list[Row]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    _check_header(path, sheet, header, columns, label)
    names = [c[0] for c in columns]
    labels = {c[0]: _heading(h) for c, h in zip(columns, header, strict=False)}
    where = f"{path} [{sheet.title}]"
    out = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        cells = {n: ("" if v is None else v) for n, v in zip(names, values, strict=False)}
        row = Row(where, number, cells, labels)
        for name, value in cells.items():
            bad = control_character(value) if isinstance(value, str) else None
            if bad:
                raise row.error(
                    name,
                    f"holds a control character ({bad}), which no text field may contain",
                    "Correct the cell, or re-download the workbook.",
                )
        out.append(row)
    if not out:
        raise InputError(str(path), f"sheet '{sheet.title}' has no data rows", "Check the export.")
    return out


def _read_sheets(path: Path):
    """The details and partner sheets' rows. Any failure inside the workbook reader (a zip
    member cut short, worksheet XML truncated inside a valid zip, a broken style) is damage
    to the file, so it becomes a located error rather than a traceback."""
    try:
        # Opened from its bytes: openpyxl refuses a path whose extension is not .xlsx, and a
        # file is recognised by content (an ePCN saved as 'data' or '.csv' is still one).
        workbook = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        by_lower = {ws.title.lower(): ws for ws in workbook.worksheets}
        details_sheet = next(by_lower[n] for n in DETAILS_SHEETS if n in by_lower)
        details = _sheet_rows(path, details_sheet, DETAILS, "PCN Details")
        partners = _sheet_rows(path, by_lower[PARTNER_SHEET], PARTNERS, "Core Partner")
        workbook.close()
    except InputError:
        raise
    except (InvalidFileException, zipfile.BadZipFile, KeyError, StopIteration) as exc:
        raise InputError(
            str(path),
            f"cannot be read ({type(exc).__name__}: {exc}); a part of the workbook is missing "
            "or cut short",
            "Re-download the file.",
        ) from exc
    except Exception as exc:  # the third-party reader failing on damaged input
        raise InputError(
            str(path),
            f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc}); a sheet looks "
            "truncated or damaged",
            "Re-download the file.",
        ) from exc
    return details_sheet.title, details, partners


def parse(path: Path, sha: str) -> Batch:
    details_title, details, partners = _read_sheets(path)
    dates = [d for r in partners for d in (r.date("start date"), r.date("end date")) if d]
    dates += [d for r in details for d in (r.date("open date"), r.date("close date")) if d]
    extract = date_in_name(path.name) or max(dates, default=None)
    if extract is None:
        raise InputError(
            str(path),
            "holds no dates (no open, start or end date in either sheet), so the date its "
            "data is as at cannot be told",
            "Keep the extract month in the file name (e.g. ePCN_2023-02.xlsx) or use the "
            "workbook as published, with its dates.",
        )
    batch = Batch(str(path), file_type, description, sha, extract, publisher)
    batch.rows = len(details) + len(partners)

    pcn_rows: dict[str, int] = {}
    for r in details:
        code = r.code("pcn code", "a PCN code")
        if code in pcn_rows:
            raise r.error(
                "pcn code",
                f"PCN {code} appears twice (rows {pcn_rows[code]} and {r.number})",
                "Each PCN may appear once in the details sheet: remove the duplicate.",
            )
        pcn_rows[code] = r.number
        postcode = r.text("postcode") or None
        batch.add_org(
            OrgRecord(
                code,
                kinds.PCN,
                r.text("pcn name"),
                None,
                postcode,
                r.date("open date"),
                r.date("close date"),
                r.number,
            )
        )
        ccg = r.text("ccg code").upper()
        if ccg:
            batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, r.text("ccg name"), row=r.number))
            batch.facts.append(FactRecord(code, ccg, dated=False, row=r.number))

    seen: dict[tuple[str, str, object], int] = {}
    periods: dict[str, list[tuple[dt.date | None, dt.date | None, int]]] = defaultdict(list)
    for r in partners:
        practice = r.code("partner code", "a practice code")
        pcn = r.code("pcn code", "a PCN code")
        if pcn not in pcn_rows:
            raise r.error(
                "pcn code",
                f"practice {practice} is mapped to PCN {pcn}, which is not in the "
                f"'{details_title}' sheet",
                "Add the PCN to the details sheet or correct the PCN code.",
            )
        start, end = r.date("start date"), r.date("end date")
        key = (practice, pcn, start)
        if key in seen:
            raise r.error(
                "partner code",
                f"practice {practice} appears twice in PCN {pcn} from {start} "
                f"(rows {seen[key]} and {r.number})",
                "Remove the duplicate row.",
            )
        seen[key] = r.number
        if start and end and end < start:
            raise r.error(
                "end date", f"ends ({end}) before it starts ({start})", "Correct the dates."
            )
        periods[practice].append((start, end, r.number))
        batch.add_org(OrgRecord(practice, kinds.PRACTICE, r.text("partner name"), row=r.number))
        batch.facts.append(
            FactRecord(practice, pcn, dated=True, start=start, end=end, row=r.number)
        )
        ccg = r.text("practice ccg code").upper()
        if ccg and end is None:
            batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, r.text("practice ccg name"), row=r.number))
            batch.facts.append(FactRecord(practice, ccg, dated=False, row=r.number))
    # A practice is in one PCN at a time: resolve same-day handovers, refuse real overlaps.
    where = partners[0].file
    labels = partners[0].labels or {}
    facts_by_row = {f.row: f for f in batch.facts if f.dated}
    for practice, intervals in periods.items():
        intervals = _resolve_handovers(batch, practice, intervals, facts_by_row, where)
        clash = timeline.overlaps(intervals)
        if clash:
            first, second = clash
            raise InputError(
                where,
                f"practice {practice}'s membership of PCN {facts_by_row[second].parent} starts "
                f"before its membership of PCN {facts_by_row[first].parent} at row {first} "
                "ends, so the two periods overlap by more than the day of a handover",
                f"End one membership before the next starts ({labels.get('end date')}).",
                row=second,
                column=labels.get("start date"),
            )
    return batch


Interval = tuple[dt.date | None, dt.date | None, int]


def _resolve_handovers(
    batch: Batch,
    practice: str,
    intervals: list[Interval],
    facts_by_row: dict[int, FactRecord],
    where: str,
) -> list[Interval]:
    """NHS Digital writes a PCN change as old end = new start - 1, but its February 2023 ePCN
    ends one practice's old membership on the day the new one starts. That one shared day is
    a handover, not two memberships at once: the new membership wins from that day, the old
    one is read as ending the day before, and the rows are reported as a finding."""
    ordered = sorted(intervals, key=lambda i: Period(i[0], i[1]).first)
    out: list[Interval] = []
    for i, (start, end, row) in enumerate(ordered):
        after = ordered[i + 1] if i + 1 < len(ordered) else None
        if after and end is not None and after[0] == end and (start is None or start < end):
            old, new = facts_by_row[row], facts_by_row[after[2]]
            old.end = end = day_before(end)
            batch.findings.append(
                Finding(
                    f"{_named(batch, practice)}'s membership of {_named(batch, old.parent)} "
                    f"(row {row}) ends on {after[0]}, the day its membership of "
                    f"{_named(batch, new.parent)} (row {after[2]}) starts; read as a same-day "
                    f"handover: the new PCN from {after[0]}, the old one until {end}",
                    [row, after[2]],
                    where,
                )
            )
        out.append((start, end, row))
    return out


def _named(batch: Batch, code: str) -> str:
    org = batch.organisations.get(code)
    return f"{org.name} ({code})" if org and org.name else code
