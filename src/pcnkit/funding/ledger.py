"""The payment ledger: monthly runs that record what is due less what was already recorded.

Every line settles one payment month's scheduled amount (`for_month`). A run for month M, the
latest month run so far or a later one, compares each month up to M — as scheduled from today's
inputs — with what the ledger holds for it, and appends the differences: the payment of each
month not yet paid (M's, and any skipped month's), plus an adjustment line (with its reason) for
each earlier month whose inputs were restated. Running the
latest month again with unchanged inputs writes nothing; months after M are never touched.

A month earlier than the latest run is refused (it would restate history by accident) unless
asked for as a restatement, which adjusts that month alone: its scheduled amount from today's
inputs less what is recorded for it. A run covers the PCNs of its inputs (`--area`); other PCNs'
lines are left alone.

Runs are serialised: a run takes the ledger's write lock (`store.locks`) before it reads anything,
so a second run of the same month waits for the first and then finds nothing left to write; and
unique keys on a month's run and on a month's payment line refuse a duplicate even if the lock
were bypassed. Amounts are checked against the ledger's range before anything is written.
Lines are never changed: a correction is a new line.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pcnkit.dates import months_between
from pcnkit.errors import InputError, PcnkitError
from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.money import LEDGER_LIMIT, money, whole_pence
from pcnkit.funding.rules import YearRules
from pcnkit.funding.schedule import pounds, schedule_table
from pcnkit.store.locks import write_lock
from pcnkit.store.models import PaymentLine, PaymentRun

Key = tuple[str, str, str | None, str]  # payee, pcn, practice, stream
LOCK = "payment ledger"
OWN = ("payment", "restatement")  # kinds that write a month's own scheduled amount


class LedgerConflict(PcnkitError):
    """A unique key refused a line another run had written at the same moment."""


@dataclass
class LedgerLine:
    """A line a run appends (the stored row is `PaymentLine`, which is append-only)."""

    year: str
    payment_month: dt.date
    for_month: dt.date
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
    restatement: bool = False

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


# The ledger's columns a page or table shows for each line, in order.
LINE_COLUMNS = (
    "payment_month",
    "payee_code",
    "pcn_code",
    "practice_code",
    "stream",
    "kind",
    "amount",
    "rule_id",
    "confirmed",
    "reason",
    "run_id",
)


def lines_paid(
    session: Session,
    year: str,
    through: dt.date,
    pcn_code: str | None = None,
    practice_code: str | None = None,
) -> list[dict]:
    """The year's ledger lines paid in payment months up to `through`, in payment order: for a
    PCN, its own lines and its practices' (and any paid to it as payee); for a practice, its
    lines and any paid to it. Each a dict of `LINE_COLUMNS`."""
    t = PaymentLine.__table__.c
    query = select(*(t[c] for c in LINE_COLUMNS)).where(t.year == year, t.payment_month <= through)
    if pcn_code is not None:
        query = query.where(or_(t.pcn_code == pcn_code, t.payee_code == pcn_code))
    if practice_code is not None:
        query = query.where(or_(t.practice_code == practice_code, t.payee_code == practice_code))
    found = session.execute(query.order_by(t.payment_month, t.payee_code, t.stream, t.id))
    return [dict(x) for x in found.mappings()]


@dataclass
class _Recorded:
    """What the ledger holds for the year, by line key and the month each line settles."""

    pence: dict[tuple[Key, dt.date], int]
    own: set[tuple[Key, dt.date]]  # a month's own amount has been written (payment/restatement)
    latest: dt.date | None  # the latest month a run has paid, for the PCNs in scope


def _recorded(session: Session, year: str, scope: set[str]) -> _Recorded:
    t = PaymentLine.__table__
    rows = session.execute(
        select(
            t.c.payee_code,
            t.c.pcn_code,
            t.c.practice_code,
            t.c.stream,
            t.c.for_month,
            t.c.kind,
            func.sum(t.c.amount),
            func.max(t.c.payment_month),
            func.count(t.c.run_id),
        )
        .where(t.c.year == year)
        .group_by(
            t.c.payee_code, t.c.pcn_code, t.c.practice_code, t.c.stream, t.c.for_month, t.c.kind
        )
    )
    pence: dict[tuple[Key, dt.date], int] = defaultdict(int)
    own: set[tuple[Key, dt.date]] = set()
    latest = None
    for payee, pcn, practice, stream, for_month, kind, total, last_paid, runs in rows:
        if pcn not in scope:
            continue
        key = (payee, pcn, practice, stream)
        pence[(key, for_month)] += whole_pence(total)
        if kind in OWN:
            own.add((key, for_month))
        if runs and (latest is None or last_paid > latest):
            latest = last_paid
    return _Recorded(pence, own, latest)


def _out_of_range(
    inputs: str, pcn: str, practice: str | None, stream: str, amount: Decimal, detail: str
) -> InputError:
    where = f"PCN {pcn}" + (f", practice {practice}" if practice else "")
    return InputError(
        inputs,
        f"{where}: {stream.replace('_', ' ')} comes to {amount:.6g} pounds{detail}, beyond the "
        f"ledger's range of ±{money(LEDGER_LIMIT)}; nothing was written",
        "Correct that organisation's list size in the inputs and run the month again.",
    )


def _check_range(lines: list[EntitlementLine], inputs: str) -> None:
    """Refuse, before anything is written, an entitlement the ledger cannot hold: it comes from
    an impossible input (a list of 1e20 patients), and the message says which organisation."""
    for x in lines:
        if x.amount is None:  # cannot be calculated: nothing is scheduled or paid for it
            continue
        if not x.amount.is_finite() or abs(x.amount) > LEDGER_LIMIT:
            detail = f" on a {x.basis} population of {x.population:.6g}"
            raise _out_of_range(inputs, x.pcn_code, x.practice_code, x.stream, x.amount, detail)


def run_month(
    session: Session,
    rules: YearRules,
    lines: list[EntitlementLine],
    month: dt.date,
    inputs: str,
    restate: bool = False,
    scope: set[str] | None = None,
) -> RunResult:
    """Pay month `month` (the first of the payment month) for the year's entitlement lines, or
    with `restate` restate that month alone. `scope` is the set of PCN codes the inputs cover
    (default: the PCNs of `lines`); lines of other PCNs are neither read nor adjusted."""
    months = months_between(rules.start, dt.date(rules.start.year + 1, 6, 1))
    if month not in months:
        raise InputError(
            "--month",
            f"{month:%Y-%m} is not a payment month of {rules.year}",
            f"Use a month from {months[0]:%Y-%m} to {months[-1]:%Y-%m} (arrears run to June).",
        )
    _check_range(lines, inputs)
    scope = {x.pcn_code for x in lines} if scope is None else scope
    table = schedule_table(lines, rules)  # {key: {payment month: pence}}
    meta = {(x.payee_code, x.pcn_code, x.practice_code, x.stream): x for x in lines}

    write_lock(session, LOCK, "payment run")  # before reading what has been paid
    held = _recorded(session, rules.year, scope)
    if restate and (held.latest is None or month > held.latest):
        raise InputError(
            "--restate",
            f"{month:%B %Y} has not been paid yet, so there is nothing to restate",
            f"Run {month:%Y-%m} without --restate to pay it.",
        )
    if not restate and held.latest is not None and month < held.latest:
        raise InputError(
            "--month",
            f"{month:%B %Y} is earlier than the latest month paid for {rules.year} "
            f"({held.latest:%B %Y}); running it again would undo the payments made since",
            f"To correct {month:%B %Y} alone from today's inputs, run it with --restate "
            "(only what its own inputs changed is adjusted); otherwise run "
            f"{held.latest:%Y-%m} or a later month.",
        )
    settled = [month] if restate else [m for m in months if m <= month]
    keys = set(table) | {key for key, _m in held.pence}
    result = RunResult(rules.year, month, None, restatement=restate)
    now = _now()
    for key in sorted(keys, key=lambda k: tuple(str(x) for x in k)):
        row = table.get(key, {})
        p = meta.get(key)
        for m in settled:
            scheduled = row.get(m, 0)
            difference = scheduled - held.pence.get((key, m), 0)
            parts: list[tuple[str, int, str]] = []
            if restate:
                if difference:
                    reason = (
                        f"{m:%B %Y} restated: scheduled from today's inputs less recorded for it"
                    )
                    parts.append(("restatement", difference, reason))
            else:
                if scheduled and (key, m) not in held.own:
                    late = "" if m == month else ", not paid by an earlier run"
                    parts.append(("payment", scheduled, f"scheduled for {m:%B %Y}{late}"))
                    difference -= scheduled
                if difference:
                    reason = (
                        f"inputs or rules restated since {m:%B %Y} was paid: "
                        "due for that month less recorded"
                    )
                    parts.append(("adjustment", difference, reason))
            for kind, amount, reason in parts:
                result.lines.append(
                    LedgerLine(
                        year=rules.year,
                        payment_month=month,
                        for_month=m,
                        payee_code=key[0],
                        pcn_code=key[1],
                        practice_code=key[2],
                        stream=key[3],
                        kind=kind,
                        amount=pounds(amount),
                        rule_id=p.rule_id if p else f"{rules.year}/{key[3]}",
                        confirmed=p.confirmed if p else True,
                        reason=reason,
                        created_at=now,
                    )
                )
    for x in result.lines:  # sums of several lines: the same range, checked before writing
        if abs(x.amount) > LEDGER_LIMIT:
            raise _out_of_range(inputs, x.pcn_code, x.practice_code, x.stream, x.amount, "")
    if result.lines:
        revision = session.scalar(
            select(func.count())
            .select_from(PaymentRun)
            .where(PaymentRun.year == rules.year, PaymentRun.month == month)
        )
        run = PaymentRun(
            year=rules.year,
            month=month,
            revision=revision,
            created_at=now,
            rules=f"{rules.year} v{rules.version}"
            + (f" scenario {rules.scenario}" if rules.scenario else ""),
            inputs=inputs,
            note=f"restatement of {month:%B %Y}" if restate else "",
        )
        try:
            session.add(run)
            session.flush()
            rows = [{**vars(line), "run_id": run.id} for line in result.lines]
            for i in range(0, len(rows), 5000):
                session.execute(PaymentLine.__table__.insert(), rows[i : i + 5000])
        except IntegrityError as exc:  # the unique keys: only if the lock was bypassed
            raise LedgerConflict(
                f"Another payment run wrote {month:%B %Y} of {rules.year} at the same time; "
                "this run wrote nothing. Run the month again to see what is left to pay."
            ) from exc
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
    try:
        whole_pence(amount, "the amount")
    except ValueError as exc:
        raise InputError("--amount", str(exc), "Give the correction in pounds and pence.") from exc
    write_lock(session, LOCK, "payment run")
    line = PaymentLine(
        year=year,
        payment_month=month,
        for_month=month,
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
