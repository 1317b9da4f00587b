"""GP practice workforce FTE and patients by year, as the Health Equity Evidence Centre (HEEC)
derived them from NHS Digital's "General Practice Workforce" practice-level CSVs.

One row per practice and year (2016-2024). HEEC took the September snapshot for years up to
2020 and, from 2021, the average of that year's monthly files, so later figures (patients too)
can be fractional. Each year is stored on one day, 30 September, the snapshot date the series
began with; the averaging is a finding on every load.

Missing figures: `NA` or blank is no figure, so nothing is stored (an absent observation, never
0). A practice with 0 patients is also stored as no patient figure: HEEC writes 0 where no list
figure matched (most such rows have GPs in post), and 0 would make every per-patient rate
infinite. FTE zeros are kept: a practice may have no nurse.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period
from pcnkit.errors import InputError
from pcnkit.registry import plausible
from pcnkit.registry.importers.base import Row, csv_rows
from pcnkit.registry.plausible import Plausible

file_type = "practice-workforce"
dataset = "practice-workforce"
description = (
    "General Practice Workforce: FTE and patients per practice by year, 2016-2024 (NHS "
    "Digital, as re-published by the Health Equity Evidence Centre; September snapshots to "
    "2020, then averages of the monthly files, stored on 30 September)"
)
publisher = "NHS Digital (re-published by the Health Equity Evidence Centre)"
CODE, YEAR, PATIENTS = "Practice.Code", "Year", "TOTAL_PATIENTS"
# measure -> (column, plain words)
COLUMNS: dict[str, tuple[str, str]] = {
    "gp_fte": ("TOTAL_GP_EXTGL_FTE", "GP FTE excluding GPs in training and locums"),
    "gp_locum_trainee_fte": ("TOTAL_LOCUUM_TRN_FTE", "FTE of locum GPs and GPs in training"),
    "nurse_fte": ("TOTAL_NURSES_FTE", "nurse FTE"),
    "dpc_fte": ("TOTAL_DPC_FTE", "direct patient care staff FTE"),
    "admin_fte": ("TOTAL_ADMIN_FTE", "admin and non-clinical staff FTE"),
    "patients": (PATIENTS, "registered patients (an average of monthly figures from 2021)"),
}
MEASURES: dict[str, str] = {measure: words for measure, (_, words) in COLUMNS.items()}
MISSING = {"", "NA"}
# A practice's staff: the largest English practices have about 40 GP FTE and 130 admin FTE.
FTE = Plausible("a practice's FTE", Decimal(0), Decimal(1000), whole=False, unit="FTE")
FIRST_AVERAGED = 2021


def sniff(text: str, header: list[str]) -> bool:
    return {CODE, YEAR, PATIENTS, "TOTAL_GP_EXTGL_FTE"} <= set(header)


def census(year: int) -> Period:
    """The day a year's figures are stored on: 30 September (the September snapshot)."""
    day = dt.date(year, 9, 30)
    return Period(day, day)


def _year(r: Row) -> int:
    given = r.required(YEAR, "a year")
    if not re.fullmatch(r"(19|20)\d\d", given):
        raise r.error(YEAR, f"'{given}' is not a year", "Write the year as four digits, e.g. 2023.")
    return int(given)


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    for column in (CODE, YEAR, *(c for c, _ in COLUMNS.values())):
        if column not in header:
            raise InputError(
                str(path),
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use HEEC's workforce_year.csv unchanged.",
                row=1,
                column=column,
            )
    batch = ObservationBatch(
        str(path), file_type, dataset, description, sha, dt.date.min, publisher
    )
    seen: dict[tuple[str, int], int] = {}
    missing: dict[str, int] = {}
    no_patients: list[int] = []
    years: set[int] = set()
    for r in rows:
        batch.rows += 1
        code = r.code(CODE, "a practice code")
        year = _year(r)
        if (code, year) in seen:
            raise r.error(
                CODE,
                f"practice {code} appears twice for {year} (rows {seen[code, year]} and "
                f"{r.number})",
                "Each practice may appear once a year: remove or merge the duplicate row.",
            )
        seen[code, year] = r.number
        years.add(year)
        for measure, (column, _) in COLUMNS.items():
            if r.text(column).upper() in MISSING:
                missing[column] = missing.get(column, 0) + 1
                continue
            bounds = plausible.PRACTICE_REGISTERED_AVERAGE if measure == "patients" else FTE
            value = r.count(column, bounds)
            if measure == "patients" and value == 0:
                no_patients.append(r.number)
                continue
            batch.add(
                ObservationRecord(code, "practice", measure, census(year), value, row=r.number)
            )
    batch.extract_date = census(max(years)).first
    averaged = sorted(y for y in years if y >= FIRST_AVERAGED)
    if averaged:
        batch.findings.append(
            f"figures for {averaged[0]}-{averaged[-1]} are averages of the monthly workforce "
            "files (earlier years are September snapshots); all are stored on 30 September"
        )
    if missing:
        batch.findings.append(
            "cells with no figure (NA or blank), not stored: "
            + ", ".join(f"{column} {n}" for column, n in missing.items())
        )
    if no_patients:
        batch.findings.append(
            f"{len(no_patients)} rows give 0 patients (first rows "
            f"{', '.join(map(str, no_patients[:5]))}): HEEC writes 0 where no list figure "
            "matched, so no patient figure is stored for them"
        )
    return batch
