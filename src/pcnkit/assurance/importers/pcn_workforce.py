"""NHS Digital's PCN Workforce individual-level file (ARRS roles), summed per PCN and census date.

Each row is one person in one role at one PCN (FTE, role, PCN, census year and month). pcnkit
stores per PCN and census: `arrs_fte` (every row: ARRS roles, clinical directors, managers and
admin staff alike), `arrs_fte_<role>` per STAFF_ROLE, and `arrs_headcount` (distinct
UNIQUE_IDENTIFIERs, so one person in two roles counts once). The census is the last day of its
month. The file has no row ranges, so each figure's `row` is the PCN's first row in the file.
The files are cp1252 (an en dash in some PCN names); `base.decode` reads them.

NHS Digital's September 2022 file has one negative FTE (-0.03); the publication's totals
include it, so it is kept as published and reported as a finding.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period, month_end
from pcnkit.errors import InputError
from pcnkit.registry.importers.base import NO_PCN, Row, csv_rows
from pcnkit.registry.plausible import Plausible

file_type = "pcn-workforce"
dataset = "pcn-workforce"
description = "Primary Care Network Workforce: individual-level staff records (NHS Digital)"
publisher = "NHS Digital"
YEAR, MONTH, PCN, ROLE, FTE_COLUMN, PERSON = (
    "CENSUS_YEAR",
    "CENSUS_MONTH",
    "PCN_CODE",
    "STAFF_ROLE",
    "FTE",
    "UNIQUE_IDENTIFIER",
)
NEEDED = (YEAR, MONTH, PCN, ROLE, FTE_COLUMN, PERSON)
# One person's FTE: a little below 0 is a published adjustment (see the docstring); the largest
# published is about 12 (a contracted service recorded as one row).
FTE = Plausible("one staff record's FTE", Decimal(-1), Decimal(50), whole=False, unit="FTE")
# The STAFF_ROLE values of the March 2020 and September 2022 files.
ROLES = (
    "Advanced Dietician Practitioners",
    "Advanced Occupational Therapist Practitioners",
    "Advanced Paramedic Practitioners",
    "Advanced Pharmacist Practitioners",
    "Advanced Physiotherapist Practitioners",
    "Advanced Podiatrist Practitioners",
    "Care Coordinators",
    "Clinical Director",
    "Clinical Director (DPC)",
    "Clinical Director (Nurse)",
    "Dieticians",
    "Health and Wellbeing Coaches",
    "Health Support Workers",
    "Managers",
    "Medical Clinical Director",
    "Medical Clinical Director (GP)",
    "Non-clinical Director",
    "Nursing Associates",
    "Other Admin/Non-clinical",
    "Other Direct Patient Care",
    "Paramedics",
    "Pharmacists",
    "Pharmacy Technicians",
    "Physician Associates",
    "Physiotherapists",
    "Podiatrists",
    "Social Prescribing Link Workers",
    "Therapists",
    "Trainee Nursing Associates",
)


def role_measure(role: str) -> str:
    """The measure for a STAFF_ROLE: 'Medical Clinical Director (GP)' ->
    'arrs_fte_medical_clinical_director_gp'."""
    return "arrs_fte_" + re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_")


MEASURES: dict[str, str] = {
    "arrs_fte": "FTE of all staff in the PCN workforce return (ARRS roles, directors, admin)",
    "arrs_headcount": "people in the PCN workforce return (distinct staff identifiers)",
} | {role_measure(role): f"FTE of {role.lower()}" for role in ROLES}


def sniff(text: str, header: list[str]) -> bool:
    return {PCN, ROLE, FTE_COLUMN, YEAR, MONTH} <= set(header)


def _census(r: Row) -> dt.date:
    year, month = r.required(YEAR, "a census year"), r.required(MONTH, "a census month")
    if not re.fullmatch(r"20\d\d", year):
        raise r.error(YEAR, f"'{year}' is not a year", "Write the year as four digits.")
    if not re.fullmatch(r"\d{1,2}", month) or not 1 <= int(month) <= 12:
        raise r.error(MONTH, f"'{month}' is not a month number (1-12)", "Correct the month.")
    return month_end(dt.date(int(year), int(month), 1))


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    for column in NEEDED:
        if column not in header:
            raise InputError(
                str(path),
                f"has no '{column}' column (its columns are {', '.join(header)})",
                "Use NHS Digital's individual-level PCN workforce CSV unchanged.",
                row=1,
                column=column,
            )
    batch = ObservationBatch(
        str(path), file_type, dataset, description, sha, dt.date.min, publisher
    )
    first: dict[tuple[str, dt.date], int] = {}
    fte: dict[tuple[str, dt.date], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    people: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    negative: list[int] = []
    no_pcn: list[int] = []
    new_roles: dict[str, int] = {}
    for r in rows:
        batch.rows += 1
        census = _census(r)
        if r.text(PCN).upper() in NO_PCN:
            no_pcn.append(r.number)
            continue
        key = (r.code(PCN, "a PCN code"), census)
        role = " ".join(r.required(ROLE, "a staff role").split())
        value = r.count(FTE_COLUMN, FTE)
        if value is None:
            raise r.error(FTE_COLUMN, "is blank; expected an FTE", "Fill it in.")
        if value < 0:
            negative.append(r.number)
        if role not in ROLES:
            new_roles.setdefault(role, r.number)
        first.setdefault(key, r.number)
        fte[key]["arrs_fte"] += value
        fte[key][role_measure(role)] += value
        people[key].add(r.required(PERSON, "a staff identifier"))
    for (pcn, census), sums in fte.items():
        period, row = Period(census, census), first[pcn, census]
        for measure, value in sums.items():
            batch.add(ObservationRecord(pcn, "pcn", measure, period, value, row=row))
        count = Decimal(len(people[pcn, census]))
        batch.add(ObservationRecord(pcn, "pcn", "arrs_headcount", period, count, row=row))
    if not fte:
        raise InputError(str(path), "holds no staff in any PCN", "Check the file.")
    batch.extract_date = max(census for _, census in fte)
    dates = sorted({census for _, census in fte})
    batch.description = f"{description}, " + (
        f"{dates[0]:%B %Y}" if len(dates) == 1 else f"{dates[0]:%B %Y} to {dates[-1]:%B %Y}"
    )
    if negative:
        batch.findings.append(
            f"{len(negative)} rows give a negative FTE (rows {', '.join(map(str, negative[:10]))}):"
            " kept as published, since NHS Digital's totals include them"
        )
    if no_pcn:
        batch.findings.append(
            f"{len(no_pcn)} rows give no PCN (rows {', '.join(map(str, no_pcn[:10]))}): "
            "not stored, as they belong to no PCN"
        )
    for role, row in new_roles.items():
        batch.findings.append(
            f"staff role '{role}' (first at row {row}) is new to pcnkit: stored as "
            f"{role_measure(role)}"
        )
    return batch
