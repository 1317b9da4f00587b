"""ODS epraccur: every prescribing cost centre, headerless, 27 columns (NHS Digital spec).

Only prescribing setting 4 (GP practice) rows become practices. The commissioner (column 15)
with its join / left dates (16, 17) gives a dated practice → sub-ICB (CCG) membership.
"""

from __future__ import annotations

import re
from pathlib import Path

from pcnkit.dates import date_in_name
from pcnkit.errors import InputError
from pcnkit.registry import kinds
from pcnkit.registry.importers.base import Batch, FactRecord, OrgRecord, csv_rows, duplicate

COLUMNS = [
    "Organisation Code",
    "Name",
    "National Grouping",
    "High Level Health Geography",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Postcode",
    "Open Date",
    "Close Date",
    "Status Code",
    "Organisation Sub-Type Code",
    "Commissioner",
    "Join Provider/Purchaser Date",
    "Left Provider/Purchaser Date",
    "Contact Telephone Number",
    "Null 1",
    "Null 2",
    "Null 3",
    "Amended Record Indicator",
    "Null 4",
    "Provider/Purchaser",
    "Null 5",
    "Prescribing Setting",
    "Null 6",
]
GP_PRACTICE_SETTING = "4"

file_type = "epraccur"
description = "ODS epraccur (GP practices and other prescribing cost centres)"
publisher = "NHS Digital (ODS)"


def sniff(text: str, header: list[str]) -> bool:
    return len(header) == 27 and bool(re.fullmatch(r"\d{8}", header[10].strip('"')))


def parse(path: Path, text: str, sha: str) -> Batch:
    _, rows = csv_rows(path, text, header=COLUMNS, expected_fields=27)
    records = list(rows)
    dates = [
        d
        for r in records
        for d in (r.date("Open Date"), r.date("Close Date"), r.date("Join Provider/Purchaser Date"))
        if d
    ]
    extract = date_in_name(path.name) or max(dates)
    batch = Batch(str(path), file_type, description, sha, extract, publisher)
    first_row: dict[str, int] = {}
    for r in records:
        batch.rows += 1
        if r.text("Prescribing Setting") != GP_PRACTICE_SETTING:
            continue
        code = r.code("Organisation Code", "a practice code")
        if code in first_row:
            raise duplicate(batch.file, code, r.number, first_row[code], "Organisation Code")
        first_row[code] = r.number
        opened, closed = r.date("Open Date"), r.date("Close Date")
        status = r.text("Status Code").upper() or None
        if status not in (None, "A", "C", "D", "P"):
            raise r.error(
                "Status Code",
                f"'{status}' is not an ODS status",
                "Use A (active), C (closed), D (dormant) or P (proposed).",
            )
        batch.add_org(
            OrgRecord(
                code,
                kinds.PRACTICE,
                r.text("Name"),
                None,
                r.text("Postcode") or None,
                opened,
                closed,
                r.number,
                status,
            )
        )
        commissioner = r.text("Commissioner")
        if commissioner:
            batch.add_org(OrgRecord(commissioner.upper(), kinds.SUB_ICB, row=r.number))
            batch.facts.append(
                FactRecord(
                    code,
                    commissioner.upper(),
                    dated=True,
                    start=r.date("Join Provider/Purchaser Date"),
                    end=r.date("Left Provider/Purchaser Date"),
                    row=r.number,
                )
            )
    if not first_row:
        raise InputError(
            str(path),
            f"holds no GP practices (no row has prescribing setting {GP_PRACTICE_SETTING} in "
            "column 26), so its columns look shifted or it is not epraccur",
            "Use epraccur as published by NHS Digital (27 columns, no header).",
        )
    return batch
