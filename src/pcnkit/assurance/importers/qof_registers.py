"""QOF raw prevalence (PREVALENCE_yyyy.csv) as registers: each practice's patients on each of
the 21 QOF disease registers and the list the register counts from (the whole list, or the age
group QOF sets, e.g. 17 and over for diabetes), for the QOF year (1 April to 31 March).

The registry reads the same file for its list sizes; here the registers are the figures. The
QOF year comes from the file name (PREVALENCE_1920.csv is 2019/20), as NHS Digital names it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period
from pcnkit.errors import InputError
from pcnkit.registry import kinds, plausible
from pcnkit.registry.importers.base import csv_rows

file_type = "qof-registers"
dataset = "qof-registers"
publisher = "NHS Digital"
GROUP_COLUMNS = ("GROUP_CODE", "INDICATOR_GROUP_CODE")
SIZE_COLUMNS = ("PATIENT_LIST_SIZE", "PRACTICE_LIST_SIZE")
GROUPS = {
    "AF": "atrial fibrillation",
    "AST": "asthma",
    "CAN": "cancer",
    "CHD": "coronary heart disease",
    "CKD": "chronic kidney disease",
    "COPD": "chronic obstructive pulmonary disease",
    "DEM": "dementia",
    "DEP": "depression",
    "DM": "diabetes mellitus",
    "EP": "epilepsy",
    "HF": "heart failure",
    "HYP": "hypertension",
    "LD": "learning disability",
    "MH": "mental health (psychoses)",
    "NDH": "non-diabetic hyperglycaemia",
    "OB": "obesity",
    "OST": "osteoporosis",
    "PAD": "peripheral arterial disease",
    "PC": "palliative care",
    "RA": "rheumatoid arthritis",
    "STIA": "stroke and transient ischaemic attack",
}
MEASURES = {
    **{f"register_{g.lower()}": f"patients on the {w} register" for g, w in GROUPS.items()},
    **{f"list_{g.lower()}": f"patients the {w} register counts from" for g, w in GROUPS.items()},
}


def sniff(text: str, header: list[str]) -> bool:
    return (
        {"PRACTICE_CODE", "REGISTER", "PATIENT_LIST_TYPE"} <= set(header)
        and any(c in header for c in GROUP_COLUMNS)
        and any(c in header for c in SIZE_COLUMNS)
    )


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    m = re.search(r"(\d{2})(\d{2})(?:_v\d+)?\.csv$", path.name, re.I)
    if not m or (int(m[1]) + 1) % 100 != int(m[2]):
        raise InputError(
            str(path),
            "cannot tell which QOF year this file is for",
            "Keep NHS Digital's file name, e.g. PREVALENCE_1920.csv.",
        )
    start = dt.date(2000 + int(m[1]), 4, 1)
    year = Period(start, dt.date(start.year + 1, 3, 31))
    header, rows = csv_rows(path, text)
    group_col = next(c for c in GROUP_COLUMNS if c in header)
    size_col = next(c for c in SIZE_COLUMNS if c in header)
    batch = ObservationBatch(
        str(path),
        file_type,
        dataset,
        f"NHS Digital, Quality and Outcomes Framework prevalence 20{m[1]}/{m[2]}",
        sha,
        year.end,
        publisher,
    )
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        batch.rows += 1
        code = r.code("PRACTICE_CODE", "a practice code")
        group = r.required(group_col, "a QOF register code").upper()
        # QOF adds and retires registers (CVDPP in 2019/20): any register code is kept
        if not re.fullmatch(r"[A-Z0-9]{2,10}", group):
            raise r.error(group_col, f"'{group}' is not a QOF register code", "Correct the row.")
        if (code, group) in seen:
            raise r.error(
                group_col,
                f"repeats the {group} register of {code} (first at row {seen[code, group]})",
                "Each practice has one row per register.",
            )
        seen[code, group] = r.number
        register = r.count("REGISTER", plausible.PRACTICE_REGISTERED)
        size = r.count(size_col, plausible.PRACTICE_REGISTERED)
        g = group.lower()
        for measure, value in ((f"register_{g}", register), (f"list_{g}", size)):
            if value is not None:
                batch.add(
                    ObservationRecord(code, kinds.PRACTICE, measure, year, value, row=r.number)
                )
    return batch
