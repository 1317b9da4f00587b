"""Monthly payment schedules: when each entitlement line is paid.

Payments are monthly in arrears. Service months before a stream's first payment month are paid
together in it (2019/20 core funding: April-July paid at the end of July). Each month's payment
is the difference of the line's running total rounded to the penny, so a line's payments always
add up exactly to its (once-rounded) amount. A line that cannot be calculated (its input is
not loaded) schedules nothing: there is no amount to pay.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from pcnkit.bulk import bulk
from pcnkit.dates import add_months, months_between
from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.payment import Payment
from pcnkit.funding.rules import Stream, YearRules


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


def _steps(line: EntitlementLine, ks):
    """The line's payments in whole pence at each k of `ks` (months paid by then): differences
    of its exact running total round_half_up(exact x k / months); the last month brings the
    total to the line's rounded amount. The only place a schedule is worked out."""
    num, den = line.exact.as_integer_ratio()
    num200, den2 = 200 * num, 2 * den * line.months
    half, last, final, paid = den2 // 2, line.months, int(line.amount * 100), 0
    for k in ks:
        pence = final if k == last else (num200 * k + half) // den2
        yield pence - paid
        paid = pence


def instalments(line: EntitlementLine, rules: YearRules, cache: dict | None = None):
    """The line's payments as (payment month, service months, amount): the differences of its
    running total in pence at the end of each payment group."""
    if line.amount is None:
        return []
    key = (line.stream, line.first_month, line.last_month)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = _plan(rules.stream(line.stream), line.first_month, line.last_month)
    groups = cache[key]
    steps = _steps(line, [k for _w, _m, k in groups])
    return [
        (when, months, Decimal(step).scaleb(-2))
        for (when, months, _k), step in zip(groups, steps, strict=True)
    ]


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
            line.payee_name,
        )
        for when, months, amount in instalments(line, rules, cache)
    ]


def schedule(lines: list[EntitlementLine], rules: YearRules) -> list[Payment]:
    """Every payment for the lines, ordered by month, payee and stream."""
    cache: dict = {}
    payments = [p for line in lines for p in payments_for(line, rules, cache)]
    return sorted(payments, key=lambda p: (p.payment_month, p.payee_code, p.stream))


def schedule_table(lines: list[EntitlementLine], rules: YearRules) -> dict[tuple, dict]:
    """The schedule as one row per payee, PCN, practice and stream: {payment month: PENCE}.
    The compact form for whole-country work: the same running-total rule as `instalments`, kept
    in whole pence (int) so a country's million payments need no Decimal each; divide by 100
    (`pounds`) at the edge."""
    with bulk():
        return _table(lines, rules)


def _table(lines: list[EntitlementLine], rules: YearRules) -> dict[tuple, dict]:
    plans: dict = {}
    slots: dict[dt.date, int] = {}  # payment months, in the order they first come
    rows: dict[tuple, dict[dt.date, int]] = {}
    shared: set[tuple] = set()  # rows more than one line pays into
    for line in lines:
        amount = line.amount
        if amount is None:
            continue
        shape = (line.stream, line.first_month, line.last_month)
        plan = plans.get(shape)
        if plan is None:
            groups = _plan(rules.stream(line.stream), line.first_month, line.last_month)
            seen = [slots.setdefault(w, len(slots)) for w, _m, _k in groups]
            # a row lists its months in the order they first came in the year's lines:
            # this plan's order, unless a month it pays in came first with another plan
            plan = plans[shape] = ([(w, k) for w, _m, k in groups], seen != sorted(seen))
        # `_steps` inlined (a million payments): the running total in pence at each k,
        # round_half_up(exact x k / months), and the line's rounded amount at the last month
        num, den = line.exact.as_integer_ratio()
        last = line.months
        num200, den2, half = 200 * num, 2 * den * last, den * last
        whole, part = amount.as_integer_ratio()  # whole pence: part divides 100
        final = whole * 100 // part if not 100 % part else int(amount * 100)
        paid = 0
        row: dict[dt.date, int] = {}
        for when, k in plan[0]:
            pence = final if k == last else (num200 * k + half) // den2
            if pence != paid:
                row[when] = pence - paid
                paid = pence
        if plan[1]:
            row = {w: row[w] for w in sorted(row, key=slots.get)}
        key = (line.payee_code, line.pcn_code, line.practice_code, line.stream)
        mine = rows.get(key)
        if mine is None:
            rows[key] = row
            continue
        shared.add(key)
        for when, step in row.items():
            mine[when] = mine.get(when, 0) + step
    for key in shared:  # in the year's month order again, without months that add up to 0
        mine = rows[key]
        rows[key] = {w: mine[w] for w in sorted(mine, key=slots.get) if mine[w]}
    return rows


def pounds(pence: int) -> Decimal:
    return Decimal(pence).scaleb(-2)


def by_month(payments: list[Payment]) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for p in payments:
        out[p.payment_month] += p.amount
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class MonthlyPayment:
    """One payment month of a schedule: what is paid in it, and the service months it covers."""

    payment_month: dt.date
    amount: Decimal
    service_months: tuple[dt.date, ...]


def monthly(payments: list[Payment]) -> list[MonthlyPayment]:
    """The schedule month by month, in order (the CLI's `funding schedule` table and the funding
    pages' schedule are these rows)."""
    covering: dict[dt.date, set[dt.date]] = defaultdict(set)
    for p in payments:
        covering[p.payment_month].update(p.service_months)
    return [
        MonthlyPayment(paid_in, amount, tuple(sorted(covering[paid_in])))
        for paid_in, amount in by_month(payments).items()
    ]
