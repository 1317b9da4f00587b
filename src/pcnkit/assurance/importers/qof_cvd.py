"""QOF cardiovascular achievement, prevalence and list size per practice, as the Health Equity
Evidence Centre (HEEC) derived them from NHS Digital's QOF publication.

One row per practice: Achievement_<group> (percent, 0-100), Prevalence_<group> (percent) and
List.Size_<group> (the list the prevalence is taken of) for nine groups. The file does not say
which QOF year it is. The CHOL (lipid) group exists only from QOF 2023/24, and HEEC used the
file for its 2025 contract analysis, so it is taken as 2023/24 (1 April 2023 to 31 March 2024);
every load says so as a finding. `NA` is no figure: nothing is stored (absent, never 0).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period
from pcnkit.errors import InputError
from pcnkit.registry import plausible
from pcnkit.registry.importers.base import csv_rows, duplicate
from pcnkit.registry.plausible import Plausible

file_type = "qof-cvd"
dataset = "qof-cvd"
description = (
    "QOF cardiovascular achievement and prevalence by GP practice (as re-published by the "
    "Health Equity Evidence Centre; year not stated by the source; taken as 2023/24)"
)
publisher = "NHS Digital (QOF; re-published by the Health Equity Evidence Centre)"
GROUPS = {
    "AF": "atrial fibrillation",
    "BP": "blood pressure",
    "CHD": "coronary heart disease",
    "CHOL": "cholesterol (lipid management)",
    "HF": "heart failure",
    "HYP": "hypertension",
    "LVSD": "left ventricular systolic dysfunction",
    "PAD": "peripheral arterial disease",
    "STIA": "stroke and transient ischaemic attack",
}
CODE = "Practice.Code"
PERIOD = Period(dt.date(2023, 4, 1), dt.date(2024, 3, 31))
PERCENT = Plausible("a percentage", Decimal(0), Decimal(100), whole=False, unit="percent")
# measure -> (column, range, plain words)
COLUMNS: dict[str, tuple[str, Plausible, str]] = {}
for _group, _words in GROUPS.items():
    _g = _group.lower()
    COLUMNS[f"achievement_pct_{_g}"] = (
        f"Achievement_{_group}",
        PERCENT,
        f"QOF achievement for {_words}, percent (0-100) as HEEC published it",
    )
    COLUMNS[f"prevalence_pct_{_g}"] = (
        f"Prevalence_{_group}",
        PERCENT,
        f"{_words} register as a percent of the list",
    )
    COLUMNS[f"list_size_{_g}"] = (
        f"List.Size_{_group}",
        plausible.PRACTICE_REGISTERED,
        f"the list the {_words} prevalence is taken of",
    )
MEASURES: dict[str, str] = {measure: words for measure, (_, _, words) in COLUMNS.items()}
MISSING = {"", "NA"}


def sniff(text: str, header: list[str]) -> bool:
    return CODE in header and "Achievement_CHOL" in header and "List.Size_AF" in header


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    for column in (CODE, *(c for c, _, _ in COLUMNS.values())):
        if column not in header:
            raise InputError(
                str(path),
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use HEEC's QOF.csv unchanged.",
                row=1,
                column=column,
            )
    batch = ObservationBatch(
        str(path), file_type, dataset, description, sha, PERIOD.last, publisher
    )
    seen: dict[str, int] = {}
    given = {column: 0 for column, _, _ in COLUMNS.values()}
    empty_rows: list[int] = []
    for r in rows:
        batch.rows += 1
        if r.text(CODE).upper() in MISSING:
            if all(r.text(c).upper() in MISSING for c in given):
                empty_rows.append(r.number)
                continue
            raise r.error(CODE, "is blank but the row has figures", "Give the practice code.")
        code = r.code(CODE, "a practice code")
        if code in seen:
            raise duplicate(str(path), code, r.number, seen[code], CODE)
        seen[code] = r.number
        for measure, (column, bounds, _) in COLUMNS.items():
            if r.text(column).upper() in MISSING:
                continue
            value = r.count(column, bounds)
            given[column] += 1
            batch.add(ObservationRecord(code, "practice", measure, PERIOD, value, row=r.number))
    if not seen:
        raise InputError(str(path), "holds no practices", "Check the file.")
    batch.findings.append(
        "the file does not state its QOF year; taken as 2023/24 because it has the CHOL "
        "(cholesterol) group, which QOF introduced in 2023/24"
    )
    empty = [column for column, n in given.items() if n == 0]
    if empty:
        batch.findings.append(f"no practice has a figure in {', '.join(empty)}: nothing stored")
    if empty_rows:
        batch.findings.append(
            "rows with no practice code and no figures, not stored: "
            + ", ".join(map(str, empty_rows))
        )
    return batch
