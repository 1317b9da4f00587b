"""What NHS England actually paid each PCN, year by year, from the PCN columns of "NHS Payments
to General Practice" (loaded by the registry's payments importer into `ActualPayment`).

A PCN's actual for a column is the sum over the practices the file places in that PCN: the
network-level columns reach it through its nominated payee, the practice-level ones through
every member. What each column pays is `funding.columns`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.dates import contract_year, financial_year_start, year_label
from pcnkit.funding import columns as payment_columns
from pcnkit.provenance import Provenance
from pcnkit.registry import queries
from pcnkit.registry import sources as source_titles
from pcnkit.store.models import ActualPayment, SourceFile


@dataclass
class Paid:
    """One PCN's actual payment in one column of one year's file, and the practices it went
    through."""

    pcn_code: str
    heading: str
    amount: Decimal = Decimal(0)
    practices: dict[str, Decimal] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)

    def provenance(self, title: str) -> Provenance:
        rows = sorted(r for r in self.rows if r is not None)
        return Provenance(title, rows[0] if rows else None, rows[-1] if len(rows) > 1 else None)


@dataclass
class YearActuals:
    """Everything one year's payments file says was paid for PCNs, by PCN code and column."""

    year: str
    title: str  # the publication, e.g. "NHS Digital, NHS Payments to General Practice 2020/21"
    paid: dict[tuple[str, str], Paid]
    headings: tuple[str, ...]  # the file's PCN columns that paid anything

    def amount(self, pcn_code: str, heading: str) -> Decimal:
        """What was paid (0 when the file shows nothing for that PCN and column)."""
        found = self.paid.get((pcn_code, heading))
        return found.amount if found else Decimal(0)

    def pcn_codes(self) -> set[str]:
        return {pcn for pcn, _ in self.paid}


def loaded_years(session: Session) -> list[str]:
    """Contract years with a payments file's actual payments loaded, oldest first."""
    starts = session.scalars(select(ActualPayment.year_start).distinct())
    return sorted(year_label(s) for s in starts)


def load(session: Session, year: str, pcn_codes: set[str] | None = None) -> YearActuals | None:
    """The year's actual payments (for some PCNs), or None when no payments file for the year
    is loaded. A year loaded twice (a corrected file) uses the newest file."""
    start = financial_year_start(year)
    newest = session.execute(
        select(SourceFile.id, SourceFile.file_type, SourceFile.publisher, SourceFile.extract_date)
        .join(ActualPayment, ActualPayment.source_id == SourceFile.id)
        .where(ActualPayment.year_start == start)
        .order_by(SourceFile.extract_date.desc(), SourceFile.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    title = source_titles.title(newest)
    query = select(
        ActualPayment.pcn_code,
        ActualPayment.practice_code,
        ActualPayment.heading,
        ActualPayment.amount,
        ActualPayment.source_row,
    ).where(ActualPayment.source_id == newest.id, ActualPayment.pcn_code.is_not(None))
    paid: dict[tuple[str, str], Paid] = {}
    headings: set[str] = set()
    for pcn, practice, heading, amount, row in session.execute(query):
        headings.add(heading)
        if pcn_codes is not None and pcn not in pcn_codes:
            continue
        p = paid.get((pcn, heading))
        if p is None:
            p = paid[(pcn, heading)] = Paid(pcn, heading)
        p.amount += amount
        p.practices[practice] = p.practices.get(practice, Decimal(0)) + amount
        p.rows.append(row)
    return YearActuals(year, title, paid, tuple(sorted(headings)))


def paid(
    session: Session, year: str, column: str = "PCN Workforce", area: str | None = None
) -> dict[str, Decimal | None]:
    """PCN code -> what was paid in one column for the year, for every PCN the year's file
    names (of `area`, if given: its PCNs at the year's end). A PCN none of whose practices
    received any network payment maps to None: it was paid outside GP practices, so the file
    cannot say what it was paid (never 0). Empty when the year's file is not loaded."""
    found = load(session, year, _area_pcns(session, year, area) if area else None)
    if found is None:
        return {}
    network = payment_columns.payee_headings(year)
    through = receivers(found, network)
    out: dict[str, Decimal | None] = {}
    for pcn in found.pcn_codes():
        out[pcn] = found.amount(pcn, column) if through.get(pcn) else None
    return out


def _area_pcns(session: Session, year: str, area: str) -> set[str]:
    start = financial_year_start(year)
    out: set[str] = set()
    for day in (start, contract_year(start).end):
        h = queries.Hierarchy.at(session, day)
        out |= {p.code for p in h.pcns_in(h.get(area))}
    return out


def receivers(found: YearActuals, headings: set[str]) -> dict[str, dict[str, Decimal]]:
    """PCN -> practice -> what it received in `headings` (those that received anything)."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for (pcn, heading), p in found.paid.items():
        if heading in headings:
            for practice, amount in p.practices.items():
                out[pcn][practice] += amount
    return {pcn: {k: v for k, v in d.items() if v > 0} for pcn, d in out.items()}
