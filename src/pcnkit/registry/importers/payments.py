"""NHS Payments to General Practice, 2018/19 to 2022/23: registered and weighted lists, PCNs.

Column names change by year. The 'Last Known Figure' lists are often fractional (averages over
the final quarter), so they are dated 1 January of that quarter; PCN membership is read as at
the year end. In 2022/23 'Code' and 'CCG NAME' hold the PCN code and name (the sub-ICB is in
'CCG Code' and 'Sub ICB NAME').
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pcnkit.dates import contract_year, financial_year_start, year_label
from pcnkit.errors import InputError
from pcnkit.registry import kinds, plausible
from pcnkit.registry.importers.base import (
    NO_PCN,
    Batch,
    FactRecord,
    ListBasis,
    ListRecord,
    OrgRecord,
    csv_rows,
    duplicate,
)

file_type = "nhs-payments"
description = "NHS Payments to General Practice"
publisher = "NHS Digital"
REGISTERED = "Number of Registered Patients (Last Known Figure)"
WEIGHTED = "Number of Weighted Patients (Last Known Figure)"
# what its list figures are (see importers.list_basis)
list_basis = ListBasis(True, "average over the final quarter of the year, often fractional")


def sniff(text: str, header: list[str]) -> bool:
    return "Practice Code" in header and REGISTERED in header


def year_of(path: Path, header: list[str]) -> dt.date:
    """The financial year's 1 April, from the file name (18-19, 2019-20) or the columns."""
    m = re.search(r"(?<!\d)(\d{2})[-_](\d{2})(?!\d)", path.name)
    if m and (int(m[1]) + 1) % 100 == int(m[2]):
        return financial_year_start(f"{m[1]}-{m[2]}")
    if "PCN Enhanced Access" in header:
        return dt.date(2022, 4, 1)
    if "Long Covid" in header:
        return dt.date(2021, 4, 1)
    if "Covid Immunisation" in header:
        return dt.date(2020, 4, 1)
    if "PCN Participation" in header:
        return dt.date(2019, 4, 1)
    if "PCN Code" not in header and "Code" not in header:
        return dt.date(2018, 4, 1)
    raise InputError(
        str(path),
        "cannot tell which financial year this payments file covers",
        "Keep the year in the file name, e.g. nhs_payments_gp_19-20.csv.",
    )


def parse(path: Path, text: str, sha: str) -> Batch:
    header, rows = csv_rows(path, text)
    year = year_of(path, header)
    year_end = contract_year(year).end
    list_date = dt.date(year.year + 1, 1, 1)
    if "Sub ICB NAME" in header:  # 2022/23 layout
        pcn_code, pcn_name, ccg_name = "Code", "CCG NAME", "Sub ICB NAME"
    else:
        pcn_code, pcn_name, ccg_name = "PCN Code", "PCN Name", "CCG NAME"
    label = f"{description} {year_label(year)}"
    batch = Batch(str(path), file_type, label, sha, year_end, publisher)
    first_row: dict[str, int] = {}
    for r in rows:
        batch.rows += 1
        code = r.code("Practice Code", "a practice code")
        if code in first_row:
            raise duplicate(batch.file, code, r.number, first_row[code], "Practice Code")
        first_row[code] = r.number
        batch.add_org(
            OrgRecord(
                code,
                kinds.PRACTICE,
                r.text("Practice Name"),
                None,
                # padded to 8 characters ("RM7  0XR"); stored as other files write it
                " ".join(r.text("Practice Postcode").split()) or None,
                r.date("Practice Open Date"),
                r.date("Practice Close Date"),
                r.number,
            )
        )
        ccg = r.text("CCG Code").upper()
        if ccg:
            batch.add_org(OrgRecord(ccg, kinds.SUB_ICB, r.text(ccg_name), row=r.number))
            batch.facts.append(FactRecord(code, ccg, dated=False, row=r.number))
        pcn = r.text(pcn_code).upper()
        if pcn_code in r.cells and pcn not in NO_PCN:
            pcn = r.code(pcn_code, "a PCN code")
            batch.add_org(OrgRecord(pcn, kinds.PCN, r.text(pcn_name), row=r.number))
            batch.facts.append(FactRecord(code, pcn, dated=False, row=r.number))
        for measure, column, bounds in (
            ("registered", REGISTERED, plausible.PRACTICE_REGISTERED_AVERAGE),
            ("weighted", WEIGHTED, plausible.PRACTICE_WEIGHTED),
        ):
            value = r.count(column, bounds)
            if value is not None:
                batch.list_sizes.append(ListRecord(code, measure, list_date, value, r.number))
    return batch
