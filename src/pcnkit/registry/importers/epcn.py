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

from pcnkit.dates import date_in_name
from pcnkit.errors import InputError
from pcnkit.registry import kinds, timeline
from pcnkit.registry.importers.base import Batch, FactRecord, OrgRecord, Row

file_type = "epcn"
description = "ODS ePCN workbook (PCNs and core partner practices)"
publisher = "NHS Digital (ODS)"

DETAILS = [
    "pcn code",
    "pcn name",
    "ccg code",
    "ccg name",
    "open date",
    "close date",
    "address line 1",
    "address line 2",
    "address line 3",
    "address line 4",
    "address line 5",
    "postcode",
]
PARTNERS = [
    "partner code",
    "partner name",
    "practice ccg code",
    "practice ccg name",
    "pcn code",
    "pcn name",
    "pcn ccg code",
    "pcn ccg name",
    "start date",
    "end date",
    "ccg match",
]
DETAILS_SHEETS = ("pcn details", "pcndetails")
PARTNER_SHEET = "pcn core partner details"


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


def _sheet_rows(path: Path, sheet, names: list[str], label: str) -> list[Row]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None or len([h for h in header if h is not None]) < len(names):
        raise InputError(
            str(path),
            f"sheet '{sheet.title}' has {0 if header is None else len(header)} columns; "
            f"expected the {len(names)} of the ePCN {label} layout",
            "Use the ePCN workbook as published by NHS Digital.",
        )
    out = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v in (None, "") for v in values):
            continue
        cells = {n: ("" if v is None else v) for n, v in zip(names, values, strict=False)}
        out.append(Row(f"{path} [{sheet.title}]", number, cells))
    if not out:
        raise InputError(str(path), f"sheet '{sheet.title}' has no data rows", "Check the export.")
    return out


def parse(path: Path, sha: str) -> Batch:
    try:
        # Opened from its bytes: openpyxl refuses a path whose extension is not .xlsx, and a
        # file is recognised by content (an ePCN saved as 'data' or '.csv' is still one).
        workbook = load_workbook(io.BytesIO(path.read_bytes()), read_only=True)
        by_lower = {ws.title.lower(): ws for ws in workbook.worksheets}
        details_sheet = next(by_lower[n] for n in DETAILS_SHEETS if n in by_lower)
        details = _sheet_rows(path, details_sheet, DETAILS, "PCN Details")
        partners = _sheet_rows(path, by_lower[PARTNER_SHEET], PARTNERS, "Core Partner")
        workbook.close()
    except (zipfile.BadZipFile, KeyError, OSError, InvalidFileException) as exc:
        raise InputError(
            str(path), f"cannot be read ({exc}); it looks truncated", "Re-download the file."
        ) from exc

    dates = [d for r in partners for d in (r.date("start date"), r.date("end date")) if d]
    dates += [d for r in details for d in (r.date("open date"), r.date("close date")) if d]
    extract = date_in_name(path.name) or max(dates)
    batch = Batch(str(path), file_type, description, sha, extract, publisher)
    batch.rows = len(details) + len(partners)

    pcn_rows: dict[str, int] = {}
    for r in details:
        code = r.code("pcn code", "a PCN code")
        if code in pcn_rows:
            raise InputError(
                r.file,
                f"PCN {code} appears twice (rows {pcn_rows[code]} and {r.number})",
                "Each PCN may appear once in the details sheet: remove the duplicate.",
                row=r.number,
                column="PCN Code",
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
            raise InputError(
                r.file,
                f"practice {practice} is mapped to PCN {pcn}, which is not in the "
                f"'{details_sheet.title}' sheet",
                "Add the PCN to the details sheet or correct the PCN code.",
                row=r.number,
                column="PCN Code",
            )
        start, end = r.date("start date"), r.date("end date")
        key = (practice, pcn, start)
        if key in seen:
            raise InputError(
                r.file,
                f"practice {practice} appears twice in PCN {pcn} from {start} "
                f"(rows {seen[key]} and {r.number})",
                "Remove the duplicate row.",
                row=r.number,
                column="Partner Organisation Code",
            )
        seen[key] = r.number
        if start and end and end < start:
            raise InputError(r.file, f"ends ({end}) before it starts ({start})",
                             "Correct the dates.", row=r.number,
                             column="Practice to PCN Relationship End Date")  # fmt: skip
        periods[practice].append((start, end, r.number))
        batch.add_org(OrgRecord(practice, kinds.PRACTICE, r.text("partner name"), row=r.number))
        batch.facts.append(
            FactRecord(practice, pcn, dated=True, start=start, end=end, row=r.number)
        )
        ccg = r.text("practice ccg code").upper()
        if ccg and end is None:
            batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, r.text("practice ccg name"), row=r.number))
            batch.facts.append(FactRecord(practice, ccg, dated=False, row=r.number))
    # A practice is in one PCN at a time: say which rows clash, in this file's own terms.
    pcn_of_row = {f.row: f.parent for f in batch.facts if f.dated}
    for practice, intervals in periods.items():
        clash = timeline.overlaps(intervals)
        if clash:
            first, second = clash
            raise InputError(
                f"{path} [{by_lower[PARTNER_SHEET].title}]",
                f"practice {practice}'s membership of PCN {pcn_of_row[second]} starts before "
                f"its membership of PCN {pcn_of_row[first]} at row {first} ends, so the two "
                "periods overlap",
                "End one membership before the next starts (Practice to PCN Relationship End "
                "Date).",
                row=second,
                column="Practice to PCN Relationship Start Date",
            )
    return batch
