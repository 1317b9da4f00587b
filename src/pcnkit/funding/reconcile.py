"""Reconciliation: set entitlement against what a paper or statement says was paid, and explain
each difference by the input or rate that would produce the published figure.

Explanations tried, in order: the published figure agrees; it is a total of unrounded amounts
(pennies); it uses another rate (the official one, or the scenario's); it implies another
population (compared with what the statement's other columns imply for the same PCN, which
finds internal inconsistencies); it implies another number of months.

`as_at` sets the year's entitlement against the ledger as at one date: what was due and what
had been paid in payment months up to that date, and what was still to pay then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from pcnkit.dates import months_between
from pcnkit.errors import InputError
from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.ledger import paid_to_date
from pcnkit.funding.money import PENNY, decimal, to_pence
from pcnkit.funding.rules import Stream, YearRules
from pcnkit.funding.schedule import pounds, schedule_table
from pcnkit.registry.importers.base import csv_rows, read_text


@dataclass
class Published:
    pcn_code: str
    stream: str
    amount: Decimal
    row: int


@dataclass
class Explanation:
    pcn_code: str
    pcn_name: str
    stream: str
    published: Decimal
    calculated: Decimal | None
    difference: Decimal | None
    verdict: str
    explanation: str
    implied_population: Decimal | None = None

    def as_row(self) -> dict:
        return asdict(self)


def read_statement(path: Path, rules: YearRules) -> list[Published]:
    """A statement as `pcn_code, stream, amount` rows, or one column per stream id."""
    header, rows = csv_rows(path, read_text(path), exact=True)
    columns = {h.strip().lower(): h for h in header}
    if "pcn_code" not in columns:
        raise InputError(
            str(path),
            "has no 'pcn_code' column",
            "Give pcn_code,stream,amount or pcn_code and one column per stream.",
        )
    long = "stream" in columns and "amount" in columns
    wide = [c for c in columns if c in rules.streams]
    if not long and not wide:
        raise InputError(
            str(path),
            f"has neither stream,amount columns nor a column named after a stream of {rules.year}",
            f"Streams: {', '.join(rules.streams)}.",
        )
    out = []
    for r in rows:
        pcn = r.code(columns["pcn_code"], "a PCN code")
        pairs = (
            [(r.text(columns["stream"]), columns["amount"])]
            if long
            else [(c, columns[c]) for c in wide]
        )
        for stream, column in pairs:
            if stream not in rules.streams:
                raise r.error(
                    columns["stream"],
                    f"'{stream}' is not a stream of {rules.year}",
                    f"Use one of: {', '.join(rules.streams)}.",
                )
            text = r.text(column)
            if not text:
                continue
            try:
                amount = decimal(text, column)
            except ValueError as exc:
                raise r.error(
                    column, str(exc), "Give the amount in pounds, e.g. 74215.50."
                ) from exc
            out.append(Published(pcn, stream, amount, r.number))
    return out


def _fraction(stream: Stream, months: int) -> Decimal:
    if stream.rate_period == "annual":
        return Decimal(months) / 12
    if stream.rate_period == "period":
        return Decimal(months) / len(stream.months)
    return Decimal(months)


def _months(ours: list[EntitlementLine]) -> int:
    """Months covered (practice-level streams repeat the same months for each practice)."""
    return len(months_between(min(x.first_month for x in ours), max(x.last_month for x in ours)))


@dataclass
class _Reading:
    """What a published figure implies, at the candidate rate that fits it best."""

    population: Decimal
    label: str
    rate: Decimal


def _read(p: Published, stream_id: str, months: int, candidates) -> _Reading:
    """Registered lists are whole numbers, so the candidate rate giving a whole number wins;
    otherwise pcnkit's own rate is used."""
    readings = [
        _Reading(p.amount / (s.rate * _fraction(s, months)), label, s.rate)
        for label, s in candidates
        if s.rate
    ]
    if candidates and candidates[0][1].basis == "registered":
        whole = [
            r
            for r in readings
            if abs(r.population - r.population.to_integral_value()) < Decimal("0.01")
        ]
        if whole:
            return whole[0]
    return readings[0]


def _candidates(stream_id: str, rules: YearRules, alternatives: YearRules | None):
    out = [("pcnkit's", rules.streams[stream_id])]
    if rules.official is not None and stream_id in rules.official.streams:
        out.append(("the official", rules.official.streams[stream_id]))
    if alternatives is not None and stream_id in alternatives.streams:
        label = f"scenario '{alternatives.scenario}'" if alternatives.scenario else "alternative"
        out.append((f"the {label}", alternatives.streams[stream_id]))
    return [
        (label, s) for i, (label, s) in enumerate(out) if all(s.rate != o.rate for _, o in out[:i])
    ]


def reconcile(
    lines: list[EntitlementLine],
    statement: list[Published],
    rules: YearRules,
    alternatives: YearRules | None = None,
) -> list[Explanation]:
    """Explain each published figure; `alternatives` (e.g. a paper's scenario) offers other
    rates that might have produced it."""
    mine: dict[tuple[str, str], list[EntitlementLine]] = defaultdict(list)
    for line in lines:
        mine[(line.pcn_code, line.stream)].append(line)
    readings: dict[tuple[str, str], dict[str, _Reading]] = defaultdict(dict)
    for p in statement:
        stream = rules.streams[p.stream]
        ours = mine.get((p.pcn_code, p.stream))
        if stream.basis == "fixed":
            continue
        months = _months(ours) if ours else len(stream.months)
        cands = _candidates(p.stream, rules, alternatives)
        readings[(p.pcn_code, stream.basis)][p.stream] = _read(p, p.stream, months, cands)
    return [_explain(p, rules, mine.get((p.pcn_code, p.stream), []), readings) for p in statement]


def _explain(p: Published, rules: YearRules, ours, readings) -> Explanation:
    stream = rules.streams[p.stream]
    name = ours[0].pcn_name if ours else p.pcn_code
    if not ours or any(x.amount is None for x in ours):
        if ours:
            gaps = "; ".join(x.gap for x in ours if x.gap)
            why = f"pcnkit cannot calculate {p.stream} for {p.pcn_code}: {gaps}."
        else:
            why = (
                f"pcnkit calculates nothing for {p.pcn_code} in {p.stream}: the PCN "
                "is not in the population used (check the area or lists)."
            )
        return Explanation(p.pcn_code, name, p.stream, p.amount, None, None, "not calculated", why)
    calculated = sum((x.amount for x in ours), Decimal(0))
    difference = p.amount - calculated
    base = Explanation(p.pcn_code, name, p.stream, p.amount, calculated, difference, "", "")
    if difference == 0:
        base.verdict, base.explanation = "agrees", "The published figure agrees to the penny."
        return base
    exact = to_pence(sum((x.exact for x in ours), Decimal(0)))
    if exact == p.amount:
        base.verdict = "rounding"
        base.explanation = (
            f"The published figure rounds the sum of unrounded amounts "
            f"({exact}); pcnkit rounds each line ({calculated})."
        )
        return base
    months = _months(ours)
    ours_population = sum((x.exact for x in ours), Decimal(0)) / (
        stream.rate * _fraction(stream, months)
    )
    reading = readings[(p.pcn_code, stream.basis)][p.stream]
    base.implied_population = reading.population.quantize(PENNY)
    parts = []
    if reading.rate != stream.rate:
        parts.append(
            f"The published figure uses {reading.label} rate £{reading.rate}, not £{stream.rate}"
        )
    if abs(reading.population - ours_population) >= Decimal("0.005"):
        parts.append(
            f"{'It' if parts else f'The published £{p.amount:,}'} implies a {stream.basis} "
            f"population of {reading.population:,.2f} over {months} months; pcnkit used "
            f"{ours_population:,.2f} ({ours[0].inputs})"
        )
    others = {
        s: r.population
        for s, r in readings[(p.pcn_code, stream.basis)].items()
        if s != p.stream and abs(r.population - reading.population) > Decimal("0.5")
    }
    if others:
        listed = "; ".join(f"{s} implies {v:,.2f}" for s, v in sorted(others.items()))
        parts.append(f"The statement is not internally consistent for this PCN: {listed}")
        base.verdict = "inconsistent"
    elif reading.rate != stream.rate and len(parts) == 1:
        base.verdict = "rate"
    elif reading.rate != stream.rate:
        base.verdict = "rate and population"
    else:
        base.verdict = "population"
    base.explanation = ". ".join(parts) + "."
    return base


@dataclass
class AsAt:
    """One payee and stream's entitlement for the year against the ledger as at `as_at`."""

    as_at: dt.date
    pcn_code: str
    payee_code: str
    payee_name: str
    practice_code: str | None
    stream: str
    stream_name: str
    entitlement: Decimal | None  # for the whole year; None when it cannot be calculated
    due: Decimal  # scheduled in payment months up to the date
    paid: Decimal  # recorded in the ledger for payment months up to the date
    missing: str = ""

    @property
    def outstanding(self) -> Decimal | None:
        """Still to pay for the year as at the date (entitlement less paid by then)."""
        return None if self.entitlement is None else self.entitlement - self.paid

    @property
    def behind(self) -> Decimal:
        """Due by the date but not paid by then (negative: paid ahead of the schedule)."""
        return self.due - self.paid

    def as_row(self) -> dict:
        row = asdict(self)
        row.update(outstanding=self.outstanding, behind=self.behind)
        return row


def as_at(session, lines: list[EntitlementLine], rules: YearRules, when: dt.date) -> list[AsAt]:
    """Every payee and stream of `lines` (and anything else the ledger paid for the year) as at
    `when`: every figure counts payment months up to that date only."""
    paid = paid_to_date(session, rules.year, through=when)
    due = {
        key: pounds(sum(v for month, v in row.items() if month <= when))
        for key, row in schedule_table(lines, rules).items()
    }
    mine: dict[tuple, list[EntitlementLine]] = defaultdict(list)
    for x in lines:
        mine[(x.payee_code, x.pcn_code, x.practice_code, x.stream)].append(x)
    keys = set(mine) | set(due)
    # ledger lines of the same PCNs (and practices) paid for something no line covers now
    scope = {(x.pcn_code, x.practice_code) for x in lines}
    pcn_level = {x.pcn_code for x in lines if x.practice_code is None}
    keys |= {k for k in paid if (k[1], k[2]) in scope or (k[2] is None and k[1] in pcn_level)}
    out = []
    for key in sorted(keys, key=lambda k: tuple(str(x) for x in k)):
        found = mine.get(key, [])
        amounts = [x.amount for x in found if x.amount is not None]
        entitlement = sum(amounts, Decimal(0)) if amounts or not found else None
        stream = rules.streams.get(key[3])
        out.append(
            AsAt(
                when,
                key[1],
                key[0],
                found[0].payee_name if found else "",
                key[2],
                key[3],
                stream.name if stream else key[3],
                entitlement,
                due.get(key, Decimal(0)),
                paid.get(key, Decimal(0)),
                "; ".join(x.gap for x in found if x.gap),
            )
        )
    return out


@dataclass(frozen=True)
class AsAtTotals:
    """`as_at` rows added up: the year's entitlement (the rows that can be calculated;
    `complete` is False when some cannot), what was due and paid by the date, and what was
    still to pay then (rows whose entitlement cannot be calculated add nothing)."""

    entitlement: Decimal
    complete: bool
    due: Decimal
    paid: Decimal
    outstanding: Decimal


def as_at_totals(rows: list[AsAt]) -> AsAtTotals:
    """Paid against due for a set of `as_at` rows: the figures under the CLI's reconciliation
    table and on the funding pages."""
    known = [r.entitlement for r in rows if r.entitlement is not None]
    return AsAtTotals(
        sum(known, Decimal(0)),
        len(known) == len(rows),
        sum((r.due for r in rows), Decimal(0)),
        sum((r.paid for r in rows), Decimal(0)),
        sum((r.outstanding for r in rows if r.outstanding is not None), Decimal(0)),
    )


__all__ = [
    "AsAt",
    "AsAtTotals",
    "Explanation",
    "Published",
    "as_at",
    "as_at_totals",
    "read_statement",
    "reconcile",
]
