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
from pcnkit.funding.rules import YearRules, months_between


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


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


def payments_for(line: EntitlementLine, rules: YearRules) -> list[Payment]:
    stream = rules.stream(line.stream)
    months = months_between(line.first_month, line.last_month)
    out: dict[dt.date, Payment] = {}
    paid = Decimal(0)
    for k, month in enumerate(months, start=1):
        running = to_pence(line.exact * k / len(months))
        due = max(month, stream.first_payment)
        when = add_months(due, stream.payment_lag)
        payment = out.get(when)
        if payment is None:
            payment = out[when] = Payment(
                line.year,
                when,
                line.payee_code,
                line.pcn_code,
                line.practice_code,
                line.stream,
                rule_id=line.rule_id,
                confirmed=line.confirmed,
            )
        payment.service_months.append(month)
        payment.amount += running - paid
        paid = running
    return list(out.values())


def schedule(lines: list[EntitlementLine], rules: YearRules) -> list[Payment]:
    """Every payment for the lines, ordered by month, payee and stream."""
    payments = [p for line in lines for p in payments_for(line, rules)]
    return sorted(payments, key=lambda p: (p.payment_month, p.payee_code, p.stream))


def by_month(payments: list[Payment]) -> dict[dt.date, Decimal]:
    out: dict[dt.date, Decimal] = defaultdict(Decimal)
    for p in payments:
        out[p.payment_month] += p.amount
    return dict(sorted(out.items()))
