"""The payment ledger: monthly runs that record what is due less what was already paid.

A run for month M computes, per payee and stream, everything scheduled up to M from today's
inputs, subtracts every line already in the ledger, and appends the difference: the month's
payment, plus an adjustment line (with its reason) when restated inputs change earlier months.
Running a month again writes nothing. Lines are never changed: a correction is a new line.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pcnkit.errors import InputError
from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.rules import YearRules, months_between
from pcnkit.funding.schedule import pounds, schedule_table
from pcnkit.store.models import PaymentLine, PaymentRun

Key = tuple[str, str, str | None, str]  # payee, pcn, practice, stream


@dataclass
class LedgerLine:
    """A line a run appends (the stored row is `PaymentLine`, which is append-only)."""

    year: str
    payment_month: dt.date
    payee_code: str
    pcn_code: str
    practice_code: str | None
    stream: str
    kind: str
    amount: Decimal
    rule_id: str
    confirmed: bool
    reason: str
    created_at: dt.datetime


@dataclass
class RunResult:
    year: str
    month: dt.date
    run_id: int | None
    lines: list[LedgerLine] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal(0))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def paid_to_date(session: Session, year: str, through: dt.date | None = None) -> dict[Key, Decimal]:
    """What the ledger has paid for the year, per key; with `through`, only payment months on
    or before that date (what had been paid by then)."""
    t = PaymentLine.__table__
    query = select(
        t.c.payee_code, t.c.pcn_code, t.c.practice_code, t.c.stream, func.sum(t.c.amount)
    ).where(t.c.year == year)
    if through is not None:
        query = query.where(t.c.payment_month <= through)
    rows = session.execute(
        query.group_by(t.c.payee_code, t.c.pcn_code, t.c.practice_code, t.c.stream)
    )
    return {(a, b, c, d): Decimal(total) for a, b, c, d, total in rows}


def run_month(
    session: Session,
    rules: YearRules,
    lines: list[EntitlementLine],
    month: dt.date,
    inputs: str,
) -> RunResult:
    """Pay month `month` (the first of the payment month) for the year's entitlement lines."""
    months = months_between(rules.start, dt.date(rules.start.year + 1, 6, 1))
    if month not in months:
        raise InputError(
            "--month",
            f"{month:%Y-%m} is not a payment month of {rules.year}",
            f"Use a month from {months[0]:%Y-%m} to {months[-1]:%Y-%m} (arrears run to June).",
        )
    due: dict[Key, Decimal] = {}
    this_month: dict[Key, Decimal] = {}
    for key, row in schedule_table(lines, rules).items():
        due[key] = pounds(sum(v for when, v in row.items() if when <= month))
        this_month[key] = pounds(row.get(month, 0))
    meta = {(x.payee_code, x.pcn_code, x.practice_code, x.stream): x for x in lines}
    paid = paid_to_date(session, rules.year)
    t = PaymentLine.__table__
    paid_this_month = set(
        session.execute(
            select(t.c.payee_code, t.c.pcn_code, t.c.practice_code, t.c.stream)
            .where(t.c.year == rules.year, t.c.payment_month == month)
            .distinct()
        ).all()
    )
    result = RunResult(rules.year, month, None)
    now = _now()
    for key in sorted(set(due) | set(paid), key=lambda k: tuple(str(x) for x in k)):
        difference = due.get(key, Decimal(0)) - paid.get(key, Decimal(0))
        if difference == 0:
            continue
        p = meta.get(key)
        rule_id = p.rule_id if p else f"{rules.year}/{key[3]}"
        confirmed = p.confirmed if p else True
        parts: list[tuple[str, Decimal, str]] = []
        scheduled = this_month.get(key, Decimal(0))
        if scheduled and key not in paid_this_month:
            parts.append(("payment", scheduled, f"scheduled for {month:%B %Y}"))
            difference -= scheduled
        if difference:
            parts.append(
                (
                    "adjustment",
                    difference,
                    "inputs or rules restated since earlier runs: due to date less paid",
                )
            )
        for kind, amount, reason in parts:
            result.lines.append(
                LedgerLine(
                    year=rules.year,
                    payment_month=month,
                    payee_code=key[0],
                    pcn_code=key[1],
                    practice_code=key[2],
                    stream=key[3],
                    kind=kind,
                    amount=amount,
                    rule_id=rule_id,
                    confirmed=confirmed,
                    reason=reason,
                    created_at=now,
                )
            )
    if result.lines:
        run = PaymentRun(
            year=rules.year,
            month=month,
            created_at=now,
            rules=f"{rules.year} v{rules.version}"
            + (f" scenario {rules.scenario}" if rules.scenario else ""),
            inputs=inputs,
            note="",
        )
        session.add(run)
        session.flush()
        rows = [{**vars(line), "run_id": run.id} for line in result.lines]
        for i in range(0, len(rows), 5000):
            session.execute(PaymentLine.__table__.insert(), rows[i : i + 5000])
        result.run_id = run.id
    return result


def correct(
    session: Session,
    year: str,
    month: dt.date,
    payee: str,
    pcn: str,
    stream: str,
    amount: Decimal,
    reason: str,
    practice: str | None = None,
) -> PaymentLine:
    """Record a correction as a new line; the reason is required and kept."""
    if not reason.strip():
        raise InputError("--reason", "is empty", "Say why the correction is made.")
    line = PaymentLine(
        year=year,
        payment_month=month,
        payee_code=payee,
        pcn_code=pcn,
        practice_code=practice,
        stream=stream,
        kind="correction",
        amount=amount,
        rule_id=f"{year}/{stream}",
        confirmed=True,
        reason=reason,
        created_at=_now(),
    )
    session.add(line)
    session.flush()
    return line


@dataclass
class PaidAgainstDue:
    pcn_code: str
    payee_code: str
    stream: str
    entitlement: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.entitlement - self.paid


def against_entitlement(session: Session, lines: list[EntitlementLine]) -> list[PaidAgainstDue]:
    """Entitlement for the year set against everything the ledger has paid."""
    if not lines:
        return []
    paid = paid_to_date(session, lines[0].year)
    due: dict[Key, Decimal] = defaultdict(Decimal)
    for x in lines:
        if x.amount is not None:  # a line that cannot be calculated owes nothing known
            due[(x.payee_code, x.pcn_code, x.practice_code, x.stream)] += x.amount
    out = []
    for key in sorted(set(due) | set(paid), key=lambda k: tuple(str(x) for x in k)):
        out.append(
            PaidAgainstDue(
                key[1], key[0], key[3], due.get(key, Decimal(0)), paid.get(key, Decimal(0))
            )
        )
    return out
