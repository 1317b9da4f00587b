"""Monthly payment schedules: when each entitlement line is paid.

Payments are monthly in arrears. Service months before a stream's first payment month are paid
together in it (2019/20 core funding: April-July paid at the end of July). Each month's payment
is the difference of the line's running total rounded to the penny, so a line's payments always
add up exactly to its (once-rounded) amount.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.money import to_pence
from pcnkit.funding.rules import Stream, YearRules, add_months, months_between


@dataclass
class Payment:
    year: str
    payment_month: dt.date
    payee_code: str
    pcn_code: str
    practice_code: str | None
    stream: str
    service_months: list[dt.date] = field(default_factory=list)
    amount: Decimal = Decimal(0)
    rule_id: str = ""
    confirmed: bool = True

    def as_row(self) -> dict:
        row = asdict(self)
        row["payment_month"] = self.payment_month.strftime("%Y-%m")
        row["service_months"] = (
            f"{self.service_months[0]:%Y-%m}..{self.service_months[-1]:%Y-%m}"
            if len(self.service_months) > 1
            else f"{self.service_months[0]:%Y-%m}"
        )
        return row


def _plan(
    stream: Stream, first: dt.date, last: dt.date
) -> list[tuple[dt.date, list[dt.date], int]]:
    """Payment groups for a run of service months: (payment month, service months, number of
    service months paid by then). Catch-up months fall into the first payment month."""
    groups: list[tuple[dt.date, list[dt.date], int]] = []
    for k, month in enumerate(months_between(first, last), start=1):
        when = add_months(max(month, stream.first_payment), stream.payment_lag)
        if groups and groups[-1][0] == when:
            groups[-1][1].append(month)
            groups[-1] = (when, groups[-1][1], k)
        else:
            groups.append((when, [month], k))
    return groups


def instalments(line: EntitlementLine, rules: YearRules, cache: dict | None = None):
    """The line's payments as (payment month, service months, amount): the differences of its
    running total rounded to the penny at the end of each payment group."""
    key = (line.stream, line.first_month, line.last_month)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = _plan(rules.stream(line.stream), line.first_month, line.last_month)
    groups = cache[key]
    step = line.exact / line.months
    out, paid = [], Decimal(0)
    for when, months, k in groups:
        running = line.amount if k == line.months else to_pence(step * k)
        out.append((when, months, running - paid))
        paid = running
    return out


def payments_for(
    line: EntitlementLine, rules: YearRules, cache: dict | None = None
) -> list[Payment]:
    return [
        Payment(
            line.year,
            when,
            line.payee_code,
            line.pcn_code,
            line.practice_code,
            line.stream,
            months,
            amount,
            line.rule_id,
            line.confirmed,
        )
        for when, months, amount in instalments(line, rules, cache)
    ]


def schedule(lines: list[EntitlementLine], rules: YearRules) -> list[Payment]:
    """Every payment for the lines, ordered by month, payee and stream."""
    cache: dict = {}
    payments = [p for line in lines for p in payments_for(line, rules, cache)]
    return sorted(payments, key=lambda p: (p.payment_month, p.payee_code, p.stream))


def schedule_table(lines: list[EntitlementLine], rules: YearRules) -> dict[tuple, dict]:
    """The schedule as one row per payee, PCN, practice and stream: {payment month: amount}.
    The compact form for whole-country work (no object per payment)."""
    cache: dict = {}
    table: dict[tuple, dict] = {}
    for line in lines:
        row = table.setdefault(
            (line.payee_code, line.pcn_code, line.practice_code, line.stream), {}
        )
        for when, _months, amount in instalments(line, rules, cache):
            row[when] = row.get(when, Decimal(0)) + amount
    return table


def by_month(payments: list[Payment]) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for p in payments:
        out[p.payment_month] += p.amount
    return dict(sorted(out.items()))
