"""NHS Digital 'Patients Registered at a GP Practice' (gp-reg-pat-prac-all): registered lists.

Only the SEX=ALL, AGE=ALL totals are used; EXTRACT_DATE (e.g. 01JAN2021, or 2025-10-01 in the
ICB-era files) dates each list. The practice's commissioner is CCG_CODE, or from July 2022
SUB_ICB_LOCATION_CODE.
"""

from __future__ import annotations

from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.registry import kinds, plausible
from pcnkit.registry.importers.base import (
    COUNT,
    Batch,
    FactRecord,
    ListRecord,
    OrgRecord,
    csv_rows,
    duplicate,
)

file_type = "gp-reg-pat-prac-all"
description = "Patients Registered at a GP Practice (totals)"
publisher = "NHS Digital"
# what its list figures are (see importers.list_basis)
list_basis = COUNT
REQUIRED = {"PUBLICATION", "EXTRACT_DATE", "CODE", "NUMBER_OF_PATIENTS", "SEX", "AGE"}


def sniff(text: str, header: list[str]) -> bool:
    return set(header) >= REQUIRED


def parse(path: Path, text: str, sha: str) -> Batch:
    _, rows = csv_rows(path, text)
    batch: Batch | None = None
    first_row: dict[str, int] = {}
    for r in rows:
        extract = r.date("EXTRACT_DATE")
        if extract is None:
            raise r.error("EXTRACT_DATE", "is blank", "Every row needs its extract date.")
        if batch is None:
            batch = Batch(str(path), file_type, description, sha, extract, publisher)
        elif extract != batch.extract_date:
            raise r.error(
                "EXTRACT_DATE",
                f"is {extract}, but earlier rows are {batch.extract_date}",
                "Load one month's extract per file.",
            )
        batch.rows += 1
        if r.text("SEX").upper() != "ALL" or r.text("AGE").upper() != "ALL":
            continue
        code = r.code("CODE", "a practice code")
        if code in first_row:
            raise duplicate(batch.file, code, r.number, first_row[code], "CODE")
        first_row[code] = r.number
        batch.add_org(
            OrgRecord(code, kinds.PRACTICE, postcode=r.text("POSTCODE") or None, row=r.number)
        )
        # CCG_CODE until 2022; the ICB-era files name the same column SUB_ICB_LOCATION_CODE
        ccg = (r.text("CCG_CODE") or r.text("SUB_ICB_LOCATION_CODE")).upper()
        if ccg:
            batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, row=r.number))
            batch.facts.append(FactRecord(code, ccg, dated=False, row=r.number))
        patients = r.count("NUMBER_OF_PATIENTS", plausible.PRACTICE_REGISTERED)
        if patients is not None:
            batch.list_sizes.append(ListRecord(code, "registered", extract, patients, r.number))
    if batch is None or not first_row:
        raise InputError(
            str(path),
            "holds no practice totals (SEX=ALL, AGE=ALL)",
            "Use the gp-reg-pat-prac-all file.",
        )
    return batch
