"""Reconciliation: set entitlement against what a paper or statement says was paid, and explain
each difference by the input or rate that would produce the published figure.

Explanations tried, in order: the published figure agrees; it is a total of unrounded amounts
(pennies); it uses another rate (the official one, or the scenario's); it implies another
population (compared with what the statement's other columns imply for the same PCN, which
finds internal inconsistencies); it implies another number of months.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from pcnkit.errors import InputError
from pcnkit.funding.entitlements import EntitlementLine
from pcnkit.funding.money import PENNY, decimal, to_pence
from pcnkit.funding.rules import Stream, YearRules
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
    header, rows = csv_rows(path, read_text(path))
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


def _implied(published: Decimal, stream: Stream, months: int, rate: Decimal) -> Decimal:
    return published / (rate * _fraction(stream, months))


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
    # What each published figure implies about the population, per PCN and basis.
    implied: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for p in statement:
        stream = rules.streams[p.stream]
        ours = mine.get((p.pcn_code, p.stream))
        months = sum(x.months for x in ours) if ours else len(stream.months)
        if stream.basis != "fixed":
            implied[(p.pcn_code, stream.basis)][p.stream] = _implied(
                p.amount, stream, months, stream.rate
            )
    return [
        _explain(p, rules, mine.get((p.pcn_code, p.stream), []), implied, alternatives)
        for p in statement
    ]


def _explain(p: Published, rules: YearRules, ours, implied, others_rules) -> Explanation:
    stream = rules.streams[p.stream]
    name = ours[0].pcn_name if ours else p.pcn_code
    if not ours:
        return Explanation(
            p.pcn_code,
            name,
            p.stream,
            p.amount,
            None,
            None,
            "not calculated",
            f"pcnkit calculates nothing for {p.pcn_code} in {p.stream}: the PCN "
            "is not in the population used (check the area or lists).",
        )
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
    months = sum(x.months for x in ours)
    population = ours[0].population if len(ours) == 1 else None
    alternatives = []
    if rules.official is not None and p.stream in rules.official.streams:
        alternatives.append(("the official", rules.official.streams[p.stream]))
    if others_rules is not None and p.stream in others_rules.streams:
        label = f"scenario '{others_rules.scenario}'" if others_rules.scenario else "that"
        alternatives.append((f"the {label}", others_rules.streams[p.stream]))
    for label, alt in alternatives:
        if (
            population is not None
            and to_pence(population * alt.rate * _fraction(alt, months)) == p.amount
        ):
            base.verdict = "rate"
            base.explanation = (
                f"The published figure uses {label} rate £{alt.rate}, not £{stream.rate}."
            )
            return base
    implied_here = _implied(p.amount, stream, months, stream.rate)
    base.implied_population = implied_here.quantize(Decimal("0.01"))
    others = {
        s: v
        for s, v in implied[(p.pcn_code, stream.basis)].items()
        if s != p.stream and abs(v - implied_here) > 1
    }
    if population is not None and population:
        implied_months = p.amount / (
            population
            * stream.rate
            / (12 if stream.rate_period == "annual" else len(stream.months))
        )
        if abs(implied_months - implied_months.to_integral_value()) < Decimal("0.0005") and (
            implied_months.to_integral_value() != months
        ):
            base.verdict = "months"
            base.explanation = (
                f"The published figure covers {implied_months:.0f} months at "
                f"£{stream.rate} on {population:,}; pcnkit counts {months}."
            )
            return base
    text = (
        f"The published £{p.amount:,} implies a {stream.basis} population of "
        f"{implied_here:,.2f} at £{stream.rate} over {months} months"
    )
    if population is not None:
        text += f"; pcnkit used {population:,} ({ours[0].inputs})"
    if others:
        listed = "; ".join(f"{s} implies {v:,.2f}" for s, v in sorted(others.items()))
        text += f". The statement is not internally consistent for this PCN: {listed}"
        base.verdict = "inconsistent"
    else:
        base.verdict = "population"
    base.explanation = text + "."
    return base


__all__ = ["PENNY", "Explanation", "Published", "read_statement", "reconcile"]
