"""NHS Payments to General Practice, 2018/19 to 2022/23: registered and weighted lists, PCNs,
what was actually paid through each practice for its PCN, and the nominated payees that shows.

Column names change by year. The 'Last Known Figure' lists are often fractional (averages over
the final quarter), so they are dated 1 January of that quarter; PCN membership is read as at
the year end. In 2022/23 'Code' and 'CCG NAME' hold the PCN code and name (the sub-ICB is in
'CCG Code' and 'Sub ICB NAME').

Every `PCN ...` column (PCN Participation, Leadership, Support, Workforce ...) is kept as an actual
payment (non-zero amounts only; blank and 0 mean nothing was paid). The practice that received a
PCN's network-level columns (`funding.columns`) is its nominated payee for the year: recorded as a
dated role with that evidence, unless several practices or none received them (then a finding).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from pcnkit.dates import contract_year, financial_year_start, year_label
from pcnkit.errors import InputError
from pcnkit.funding import columns as payment_columns
from pcnkit.funding.money import money
from pcnkit.registry import kinds, plausible
from pcnkit.registry.importers.base import (
    NO_PCN,
    Batch,
    FactRecord,
    Finding,
    ListBasis,
    ListRecord,
    OrgRecord,
    PaymentRecord,
    RoleRecord,
    Row,
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
    batch.payment_year = year
    paid_columns = [h for h in header if h.startswith("PCN ") and h not in (pcn_code, pcn_name)]
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
        in_pcn = pcn_code in r.cells and pcn not in NO_PCN
        if in_pcn:
            pcn = r.code(pcn_code, "a PCN code")
            batch.add_org(OrgRecord(pcn, kinds.PCN, r.text(pcn_name), row=r.number))
            batch.facts.append(FactRecord(code, pcn, dated=False, row=r.number))
        for heading in paid_columns:
            amount = _amount(r, heading)
            if amount:
                batch.payments.append(
                    PaymentRecord(code, pcn if in_pcn else None, heading, amount, r.number)
                )
        for measure, column, bounds in (
            ("registered", REGISTERED, plausible.PRACTICE_REGISTERED_AVERAGE),
            ("weighted", WEIGHTED, plausible.PRACTICE_WEIGHTED),
        ):
            value = r.count(column, bounds)
            if value is not None:
                batch.list_sizes.append(ListRecord(code, measure, list_date, value, r.number))
    infer_payees(batch, {c: o.name or "" for c, o in batch.organisations.items()})
    return batch


# Pounds and pence as the payments files write them: 1234.5, 1,234.56, -0.06, £12 (no
# exponents, underscores or misplaced commas, which Decimal would read as something else).
AMOUNT = re.compile(r"-?£?(?:\d{1,3}(?:,\d{3})+|\d{1,12})(?:\.\d{1,2})?")


def _amount(r: Row, heading: str) -> Decimal | None:
    """A payment in pounds: blank is None; it must be pounds and (at most two places) pence."""
    text = r.text(heading)
    if not text:
        return None
    if not AMOUNT.fullmatch(text):
        raise r.error(
            heading,
            f"'{text[:40]}' is not an amount in pounds and pence",
            "Give pounds, e.g. 1234.56 (thousands commas allowed, no exponents).",
        )
    return Decimal(text.replace(",", "").replace("£", ""))


def infer_payees(batch: Batch, names: dict[str, str]) -> None:
    """Each PCN's nominated payee for the batch's year: the practice that received its
    network-level payments (`funding.columns`). Several receivers: the one that received more
    than half, if any, with the split in its evidence; none: no role. Both are findings."""
    year = batch.payment_year
    network = payment_columns.payee_headings(year_label(year))
    received: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rows: dict[str, int] = {}
    for p in batch.payments:
        if p.pcn and p.heading in network:
            received[p.pcn][p.practice] += p.amount
            rows.setdefault(p.practice, p.row)
    if not network:
        return
    pcns = sorted(c for c, o in batch.organisations.items() if o.kind == kinds.PCN)
    label = f"{description} {year_label(year)}"
    several, none = [], []
    for pcn in pcns:
        by_practice = {k: v for k, v in received.get(pcn, {}).items() if v > 0}
        total = sum(by_practice.values(), Decimal(0))
        if not by_practice:
            none.append(pcn)
            batch.roles.append(
                RoleRecord(
                    pcn,
                    "nominated_payee",
                    "Not a GP practice (the published payments name none)",
                    None,
                    year,
                    contract_year(year).end,
                    None,
                    f"Inferred from {label}: none of the PCN's practices received a network "
                    f"payment ({', '.join(sorted(network))}), so they were paid outside GP "
                    "practices, e.g. to a GP federation. A payee recorded in the registry (a "
                    "local definitions file) takes precedence.",
                )
            )
            continue
        ranked = sorted(by_practice.items(), key=lambda kv: (-kv[1], kv[0]))
        code, amount = ranked[0]
        if len(ranked) > 1:
            several.append(pcn)
            if amount * 2 <= total:
                continue
        others = "; ".join(f"{c} {money(a)}" for c, a in ranked[1:])
        evidence = (
            f"Inferred from {label}: received {money(amount)} of the {money(total)} network "
            f"payments ({', '.join(sorted(network))}) made through practices"
            + (f"; also received: {others}" if others else "")
            + ". A payee recorded in the registry (a local definitions file) takes precedence."
        )
        batch.roles.append(
            RoleRecord(
                pcn,
                "nominated_payee",
                f"{names.get(code) or code} ({code})",
                code,
                year,
                contract_year(year).end,
                rows.get(code),
                evidence,
            )
        )
    if several:
        batch.findings.append(
            Finding(
                f"{_pcns(several, 'was', 'were')} paid their network payments through more "
                f"than one practice in {year_label(year)} (e.g. {', '.join(several[:5])}); "
                "the payee is the practice that received more than half, where one did"
            )
        )
    if none:
        batch.findings.append(
            Finding(
                f"{_pcns(none, 'received')} no network payment through any practice in "
                f"{year_label(year)} (e.g. {', '.join(none[:5])}): paid outside GP practices, "
                "e.g. to a federation, recorded as such"
            )
        )


def _pcns(codes: list[str], verb: str, verb_many: str | None = None) -> str:
    """'1 PCN was' / '3 PCNs were'."""
    if len(codes) == 1:
        return f"1 PCN {verb}"
    return f"{len(codes)} PCNs {verb_many or verb}"
