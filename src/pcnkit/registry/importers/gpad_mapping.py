"""GP Appointments Data practice mapping (ICB era): practice → PCN → sub-ICB → ICB → region.

Practices repeat once per clinical system SUPPLIER; identical repeats are merged, conflicting
ones rejected. The file holds no date, so its month comes from the file name.
"""

from __future__ import annotations

from pathlib import Path

from pcnkit.dates import date_in_name
from pcnkit.errors import InputError
from pcnkit.registry import kinds
from pcnkit.registry.importers.base import NO_PCN, Batch, OrgRecord, csv_rows
from pcnkit.registry.importers.snapshot import SnapshotFacts

file_type = "gpad-practice-mapping"
description = "GP Appointments Data practice mapping"
publisher = "NHS England"
LEVELS = [
    ("GP_CODE", "GP_NAME", kinds.PRACTICE),
    ("PCN_CODE", "PCN_NAME", kinds.PCN),
    ("SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME", kinds.SUB_ICB),
    ("ICB_CODE", "ICB_NAME", kinds.ICB),
    ("REGION_CODE", "REGION_NAME", kinds.REGION),
]
LINKS = [(0, 1), (0, 2), (2, 3), (3, 4)]


def sniff(text: str, header: list[str]) -> bool:
    return {"GP_CODE", "PCN_CODE", "SUB_ICB_LOCATION_CODE", "ICB_CODE"} <= set(header)


def parse(path: Path, text: str, sha: str) -> Batch:
    month = date_in_name(path.name)
    if month is None:
        raise InputError(
            str(path),
            "holds no date, and its name has no YYYY-MM stamp",
            "Rename it with its month, e.g. gpad_practice_mapping_2025-08.csv.",
        )
    _, rows = csv_rows(path, text)
    batch = Batch(str(path), file_type, description, sha, month, publisher)
    facts = SnapshotFacts(batch)
    for r in rows:
        batch.rows += 1
        codes = []
        for code_col, name_col, kind in LEVELS:
            if kind == kinds.PCN and r.text(code_col).upper() in NO_PCN:
                codes.append("")
                continue
            code = r.code(code_col)
            batch.add_org(OrgRecord(code, kind, r.text(name_col), row=r.number))
            codes.append(code)
        for child, parent in LINKS:
            if codes[child] and codes[parent]:
                facts.add(codes[child], codes[parent], r, LEVELS[parent][0])
    return batch
