"""QOF raw prevalence (PREVALENCE_yyyy): the practice list sizes QOF counts on 1 January.

Each practice repeats once per register; its TOTAL list must agree across the repeats. The
QOF year comes from the file name (PREVALENCE_1819_v2.csv is 2018/19, lists as at
1 January 2019). The 2018/19 lists reproduce the implied PCN lists of the July 2019 Havering
paper to within 0.05%, which is how the 1 January date was confirmed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.registry import kinds, plausible
from pcnkit.registry.importers.base import COUNT, Batch, ListRecord, OrgRecord, csv_rows

file_type = "qof-prevalence"
description = "QOF prevalence (practice list sizes at 1 January)"
publisher = "NHS Digital (QOF)"
# what its list figures are (see importers.list_basis)
list_basis = COUNT
SIZE_COLUMNS = ("PATIENT_LIST_SIZE", "PRACTICE_LIST_SIZE")


def sniff(text: str, header: list[str]) -> bool:
    return {"PRACTICE_CODE", "REGISTER", "PATIENT_LIST_TYPE"} <= set(header) and any(
        c in header for c in SIZE_COLUMNS
    )


def parse(path: Path, text: str, sha: str) -> Batch:
    m = re.search(r"(\d{2})(\d{2})(?:_v\d+)?\.csv$", path.name, re.I)
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise InputError(
            str(path),
            "cannot tell which QOF year this file is for",
            "Keep NHS Digital's file name, e.g. PREVALENCE_1819.csv.",
        )
    list_date = dt.date(2000 + int(m[2]), 1, 1)
    header, rows = csv_rows(path, text)
    size_col = next(c for c in SIZE_COLUMNS if c in header)
    batch = Batch(str(path), file_type, f"{description} 20{m[1]}/{m[2]}", sha, list_date, publisher)
    seen: dict[str, tuple[object, int]] = {}
    for r in rows:
        batch.rows += 1
        if r.text("PATIENT_LIST_TYPE").upper() != "TOTAL":
            continue
        code = r.code("PRACTICE_CODE", "a practice code")
        size = r.count(size_col, plausible.PRACTICE_REGISTERED)
        if code in seen:
            if seen[code][0] != size:
                raise r.error(
                    size_col,
                    f"gives {code} a TOTAL list of {size}, but row "
                    f"{seen[code][1]} gives {seen[code][0]}",
                    "Each practice has one list size per QOF year.",
                )
            continue
        seen[code] = (size, r.number)
        batch.add_org(OrgRecord(code, kinds.PRACTICE, row=r.number))
        if size is not None:
            batch.list_sizes.append(ListRecord(code, "registered", list_date, size, r.number))
    if not batch.list_sizes:
        raise InputError(str(path), "holds no TOTAL list sizes", "Check the file.")
    return batch
