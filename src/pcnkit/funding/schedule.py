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


def _running(line: EntitlementLine):
    """The line's running total in whole pence after k of its months: exactly
    round_half_up(exact x k / months) (the last month is the line's rounded amount)."""
    num, den = line.exact.as_integer_ratio()
    den2, last, final = 2 * den * line.months, line.months, int(line.amount * 100)
    return lambda k: final if k == last else (200 * num * k + den2 // 2) // den2


def instalments(line: EntitlementLine, rules: YearRules, cache: dict | None = None):
    """The line's payments as (payment month, service months, amount): the differences of its
    running total in pence at the end of each payment group."""
    key = (line.stream, line.first_month, line.last_month)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = _plan(rules.stream(line.stream), line.first_month, line.last_month)
    running, out, paid = _running(line), [], 0
    for when, months, k in cache[key]:
        pence = running(k)
        out.append((when, months, Decimal(pence - paid).scaleb(-2)))
        paid = pence
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
    The compact form for whole-country work: the same running-total rounding as `instalments`,
    in whole pence, with no object per payment."""
    plans: dict = {}
    slots: dict[dt.date, int] = {}
    rows: dict[tuple, list[int]] = {}
    for line in lines:
        shape = (line.stream, line.first_month, line.last_month)
        plan = plans.get(shape)
        if plan is None:
            groups = _plan(rules.stream(line.stream), line.first_month, line.last_month)
            plan = plans[shape] = [(slots.setdefault(w, len(slots)), k) for w, _m, k in groups]
        key = (line.payee_code, line.pcn_code, line.practice_code, line.stream)
        row = rows.get(key)
        if row is None:
            row = rows[key] = [0] * 24
        running, paid = _running(line), 0
        for slot, k in plan:
            pence = running(k)
            row[slot] += pence - paid
            paid = pence
    months = sorted(slots, key=slots.get)
    return {
        key: {w: Decimal(row[slots[w]]).scaleb(-2) for w in months if row[slots[w]]}
        for key, row in rows.items()
    }


def by_month(payments: list[Payment]) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for p in payments:
        out[p.payment_month] += p.amount
    return dict(sorted(out.items()))
