"""The PCN data matrix (blackwellrd/display_nearest_neighbour_data): one row per PCN with its
population, QOF achievement for about 50 indicators and QOF prevalence for 21 registers.

What it holds, checked column by column: the PRACTICE_* columns are empty (`NA`) in every row,
so the rows are PCNs, not practices; QOF_ACHV_* are achievement FRACTIONS (0-1, e.g.
0.803), QOF_PREV_* are prevalence fractions; there are NO numerators or denominators, so a
place's achievement cannot be summed from these rows (an indicator must weight by a stated
denominator or be shown per PCN only). POPN_PERSON is the PCN's registered population. A row
with a PRACTICE_CODE would be stored for that practice (the matrix's format allows it).

The first data row has PCN_CODE `U` and no names: its population (407,565, under 1% of
England's) shows it is the practices in no PCN, not England; it is not an organisation, so it
is not stored (a finding says so).

Which year: the file does not say. Its indicators place it in QOF 2021/22 or 2022/23 (VI001-4,
AST006-8 and CAN004-5 began in 2021/22; HYP003/HYP007, CHD008 and STIA010 were replaced and the
CHOL indicators introduced in 2023/24), the file is named 2023 and the data README says "about
2022/23": it is taken as QOF 2022/23 (1 April 2022 to 31 March 2023), stated as a finding.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from pcnkit.assurance.observations import ObservationBatch, ObservationRecord
from pcnkit.dates import Period
from pcnkit.errors import InputError
from pcnkit.registry import plausible
from pcnkit.registry.importers.base import NO_PCN, Row, csv_rows
from pcnkit.registry.plausible import Plausible

file_type = "pcn-data-matrix"
dataset = "pcn-data-matrix"
description = (
    "PCN data matrix: QOF achievement, QOF prevalence and population per PCN "
    "(blackwellrd/display_nearest_neighbour_data, 2023; year not stated by the source; "
    "taken as QOF 2022/23)"
)
publisher = "blackwellrd/display_nearest_neighbour_data (from NHS Digital QOF and GP lists)"
PCN, PRACTICE, POPULATION = "PCN_CODE", "PRACTICE_CODE", "POPN_PERSON"
ACHIEVEMENT, PREVALENCE = "QOF_ACHV_", "QOF_PREV_"
PERIOD = Period(dt.date(2022, 4, 1), dt.date(2023, 3, 31))
FRACTION = Plausible(
    "a QOF figure, which the matrix gives as a fraction (0.87, not 87%)",
    Decimal(0),
    Decimal(1),
    whole=False,
    unit="units",
)
MISSING = {"", "NA"}
# The matrix's QOF indicators and registers (2023 file).
# fmt: off
INDICATORS = (
    "AF006", "AF007", "AST006", "AST007", "AST008", "BP002", "CAN004", "CAN005", "CHD005",
    "CHD008", "CHD009", "COPD008", "COPD010", "CS005", "CS006", "DEM004", "DEP003", "DM006",
    "DM012", "DM014", "DM019", "DM020", "DM021", "DM022", "DM023", "HF003", "HF005",
    "HF006", "HF007", "HYP003", "HYP007", "MH002", "MH003", "MH006", "MH007", "MH011",
    "MH012", "NDH001", "RA002", "SMOK002", "SMOK004", "SMOK005", "STIA007", "STIA010", "STIA011",
    "VI001", "VI002", "VI003", "VI004",
)
REGISTERS = (
    "AF", "AST", "CAN", "CHD", "CKD", "COPD", "DEM", "DEP", "DM", "EP", "HF",
    "HYP", "LD", "MH", "NDH", "OB", "OST", "PAD", "PC", "RA", "STIA",
)
# fmt: on
MEASURES: dict[str, str] = (
    {"patients": "registered patients (POPN_PERSON)"}
    | {
        f"qof_achv_{i.lower()}": f"QOF {i} achievement as a fraction (0-1), no denominator given"
        for i in INDICATORS
    }
    | {
        f"qof_prev_{g.lower()}": f"QOF {g} register prevalence as a fraction (0-1)"
        for g in REGISTERS
    }
)


def sniff(text: str, header: list[str]) -> bool:
    return {PCN, POPULATION} <= set(header) and any(h.startswith(ACHIEVEMENT) for h in header)


def _measure(column: str) -> str | None:
    if column.startswith(ACHIEVEMENT) or column.startswith(PREVALENCE):
        return column.lower()
    return None


def _org(r: Row, header: list[str]) -> tuple[str, str] | None:
    """(code, kind) of the row: a practice if it names one, else its PCN; None for no PCN."""
    if PRACTICE in header and r.text(PRACTICE).upper() not in MISSING:
        return r.code(PRACTICE, "a practice code"), "practice"
    if r.text(PCN).upper() in NO_PCN | MISSING:
        return None
    return r.code(PCN, "a PCN code"), "pcn"


def parse(path: Path, text: str, sha: str) -> ObservationBatch:
    header, rows = csv_rows(path, text)
    if PCN not in header or POPULATION not in header:
        column = PCN if PCN not in header else POPULATION
        raise InputError(
            str(path),
            f"has no '{column}' column (its columns are {', '.join(header)})",
            "Use the PCN data matrix (pcn_data_matrix.csv) unchanged.",
            row=1,
            column=column,
        )
    columns = {c: m for c in header if (m := _measure(c))}
    if not any(c.startswith(ACHIEVEMENT) for c in columns):
        raise InputError(
            str(path),
            f"has no {ACHIEVEMENT}* column, so it holds no QOF achievement",
            "Use the PCN data matrix unchanged.",
            row=1,
        )
    batch = ObservationBatch(
        str(path), file_type, dataset, description, sha, PERIOD.last, publisher
    )
    seen: dict[str, int] = {}
    no_pcn: list[tuple[int, str]] = []
    for r in rows:
        batch.rows += 1
        org = _org(r, header)
        if org is None:
            no_pcn.append((r.number, r.text(POPULATION)))
            continue
        code, kind = org
        if code in seen:
            raise r.error(
                PCN if kind == "pcn" else PRACTICE,
                f"{code} appears twice (rows {seen[code]} and {r.number})",
                "Each organisation may appear once: remove the duplicate row.",
            )
        seen[code] = r.number
        bounds = plausible.PCN_REGISTERED if kind == "pcn" else plausible.PRACTICE_REGISTERED
        if r.text(POPULATION).upper() not in MISSING:
            value = r.count(POPULATION, bounds)
            batch.add(ObservationRecord(code, kind, "patients", PERIOD, value, row=r.number))
        for column, measure in columns.items():
            if r.text(column).upper() in MISSING:
                continue
            value = r.count(column, FRACTION)
            batch.add(ObservationRecord(code, kind, measure, PERIOD, value, row=r.number))
    if not seen:
        raise InputError(str(path), "holds no PCNs", "Check the file.")
    batch.findings.append(
        "the matrix does not state its year; taken as QOF 2022/23: its indicators point to "
        "2021/22 or 2022/23 (HYP003, HYP007, CHD008 and STIA010 were replaced in 2023/24) and "
        "the file is named 2023"
    )
    for row, population in no_pcn:
        batch.findings.append(
            f"row {row} is for no PCN (PCN_CODE U; population {population}): the practices in "
            "no PCN, not an organisation, so not stored"
        )
    unknown = sorted(m for m in columns.values() if m not in MEASURES)
    if unknown:
        batch.findings.append(f"columns new to pcnkit, stored as given: {', '.join(unknown)}")
    return batch
