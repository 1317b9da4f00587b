"""QOF MAPPING_NHS_GEOGRAPHIES_yyyy: nation → region → STP → CCG → PCN → practice for a QOF year.

A snapshot: memberships are as at the QOF year end (31 March), taken from the file name.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.registry import kinds
from pcnkit.registry.importers.base import NO_PCN, Batch, OrgRecord, csv_rows, duplicate
from pcnkit.registry.importers.snapshot import SnapshotFacts

file_type = "qof-geographies"
description = "QOF NHS geographies mapping"
publisher = "NHS Digital (QOF)"
LEVELS = [  # (code column, name column, kind)
    ("NAT_CODE", "COUNTRY", kinds.NATION),
    ("REGION_ODS_CODE", "REGION_NAME", kinds.REGION),
    ("STP_ODS_CODE", "STP_NAME", kinds.ICB),
    ("CCG_ODS_CODE", "CCG_NAME", kinds.SUB_ICB),
    ("PCN_ODS_CODE", "PCN_NAME", kinds.PCN),
    ("PRACTICE_CODE", "PRACTICE_NAME", kinds.PRACTICE),
]
# (child level, parent level) pairs asserted by each row
LINKS = [(5, 4), (5, 3), (3, 2), (2, 1), (1, 0)]


def sniff(text: str, header: list[str]) -> bool:
    return {"PRACTICE_CODE", "PCN_ODS_CODE", "CCG_ODS_CODE", "STP_ODS_CODE"} <= set(header)


def parse(path: Path, text: str, sha: str) -> Batch:
    m = re.search(r"(\d{2})(\d{2})(?:_v\d+)?\.csv$", path.name, re.I)
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise InputError(
            str(path),
            "cannot tell which QOF year this mapping is for",
            "Keep NHS Digital's file name, e.g. MAPPING_NHS_GEOGRAPHIES_1920.csv.",
        )
    year_end = dt.date(2000 + int(m[2]), 3, 31)
    _, rows = csv_rows(path, text)
    batch = Batch(str(path), file_type, f"{description} 20{m[1]}/{m[2]}", sha, year_end, publisher)
    facts = SnapshotFacts(batch)
    first_row: dict[str, int] = {}
    for r in rows:
        batch.rows += 1
        codes = []
        for code_col, name_col, kind in LEVELS:
            code = r.text(code_col).upper()
            if kind == kinds.PCN and code in NO_PCN:
                code = ""
            if code:
                code = r.code(code_col)
                batch.add_org(OrgRecord(code, kind, r.text(name_col), row=r.number))
            codes.append(code)
        practice = codes[5]
        if not practice:
            raise r.error("PRACTICE_CODE", "is blank", "Every row must name a practice.")
        if practice in first_row:
            raise duplicate(batch.file, practice, r.number, first_row[practice], "PRACTICE_CODE")
        first_row[practice] = r.number
        for child, parent in LINKS:
            if codes[child] and codes[parent]:
                facts.add(codes[child], codes[parent], r, LEVELS[child][0])
    return batch
