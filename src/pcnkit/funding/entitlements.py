"""Entitlements: what each PCN and practice is owed, stream by stream, for a contract year.

One line per payee, stream and run of months with unchanged membership and population. Each
line's amount is rounded half-up to the penny once (`money.to_pence`); nothing is rounded
before. Every line carries the rule id and version, its inputs and its formula.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

from pcnkit.funding.money import to_pence
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import Stream, YearRules

STALE_AFTER_DAYS = 190  # a list more than about six months older than the reference date


@dataclass
class EntitlementLine:
    year: str
    pcn_code: str
    pcn_name: str
    payee_code: str
    practice_code: str | None
    stream: str
    stream_name: str
    basis: str
    population: Decimal
    rate: Decimal
    rate_period: str
    months: int
    first_month: dt.date
    last_month: dt.date
    exact: Decimal
    amount: Decimal
    rule_id: str
    rule_version: int
    confirmed: bool
    status: str
    formula: str
    inputs: str
    source: str
    note: str = ""
    official_rate: Decimal | None = None
    official_amount: Decimal | None = None
    difference: Decimal | None = None

    def as_row(self) -> dict:
        row = asdict(self)
        for key in ("first_month", "last_month"):
            row[key] = row[key].strftime("%Y-%m")
        return row


def _monthly_exact(stream: Stream, population: Decimal) -> Decimal:
    if stream.rate_period == "annual":
        return population * stream.rate / 12
    if stream.rate_period == "period":
        return population * stream.rate / len(stream.months)
    return population * stream.rate


def _population(pops: Populations, codes: list[str], basis: str) -> tuple[Decimal, list[str], str]:
    """Sum of a basis over practices, the practices lacking it, and where the figures came from."""
    if basis == "fixed":
        return Decimal(1), [], "a fixed sum per payee"
    found, missing, dates, sources = Decimal(0), [], set(), set()
    for code in codes:
        p = pops.practices[code]
        if basis in p.values:
            found += p.values[basis]
            dates.add(p.dates[basis])
            sources.add(p.sources[basis].split(" row ")[0])
        else:
            missing.append(code)
    span = ", ".join(sorted(str(d) for d in dates)) or "none"
    return (
        found,
        missing,
        f"{basis} list as at {span} ({', '.join(sorted(sources)) or 'no source'})",
    )


def entitlements(
    pops: Populations, rules: YearRules, streams: list[str] | None = None
) -> list[EntitlementLine]:
    """Every entitlement line for the year (optionally only some streams)."""
    lines = _lines(pops, rules, streams)
    if rules.official is not None:
        _compare(lines, _lines(pops, rules.official, streams))
    return lines


def _lines(pops: Populations, rules: YearRules, only: list[str] | None) -> list[EntitlementLine]:
    out: list[EntitlementLine] = []
    for stream in rules.streams.values():
        if only and stream.id not in only:
            continue
        runs: dict[tuple[str, str | None], list] = {}
        for month in stream.months:
            for pcn, practices in sorted(pops.members.get(month, {}).items()):
                groups = (
                    [(None, practices)]
                    if stream.payee == "pcn"
                    else [(code, [code]) for code in sorted(practices)]
                )
                for practice, codes in groups:
                    population, missing, inputs = _population(pops, codes, stream.basis)
                    key = (pcn, practice)
                    signature = (population, tuple(sorted(codes)))
                    run = runs.get(key)
                    if (
                        run
                        and run[-1]["signature"] == signature
                        and run[-1]["last"] == _prev(month)
                    ):
                        run[-1]["last"] = month
                        run[-1]["exact"] += _monthly_exact(stream, population)
                        run[-1]["months"] += 1
                        continue
                    runs.setdefault(key, []).append(
                        {
                            "signature": signature,
                            "first": month,
                            "last": month,
                            "months": 1,
                            "exact": _monthly_exact(stream, population),
                            "population": population,
                            "missing": missing,
                            "inputs": inputs,
                            "codes": codes,
                        }
                    )
        for (pcn, practice), segments in runs.items():
            for seg in segments:
                out.append(_line(pops, rules, stream, pcn, practice, seg))
    return out


def _prev(month: dt.date) -> dt.date:
    return dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _line(
    pops, rules: YearRules, stream: Stream, pcn: str, practice: str | None, seg
) -> EntitlementLine:
    notes = [stream.note] if stream.note else []
    if seg["missing"]:
        notes.append(f"no {stream.basis} population held for {', '.join(seg['missing'])}")
    if stream.basis == "beds":
        notes.append("bed counts are not held in the registry; load them to calculate this")
    stale = [
        p
        for p in seg["codes"]
        if stream.basis in pops.practices[p].dates
        and (pops.reference_date - pops.practices[p].dates[stream.basis]).days > STALE_AFTER_DAYS
    ]
    if stale:
        notes.append(
            f"{len(stale)} list(s) dated more than six months before the reference date "
            f"{pops.reference_date}"
        )
    payee = practice or pops.payees.get(pcn)
    if payee is None:
        payee = pcn
        notes.append("no nominated payee recorded: shown against the PCN code")
    months = seg["months"]
    per = {
        "annual": f" x {months}/12",
        "period": f" x {months}/{len(stream.months)}",
        "monthly": f" x {months}",
    }[stream.rate_period]
    formula = f"{seg['population']:,} x £{stream.rate}{per} = {seg['exact']:.4f}, rounded half-up"
    return EntitlementLine(
        year=rules.year,
        pcn_code=pcn,
        pcn_name=pops.pcn_names.get(pcn, pcn),
        payee_code=payee,
        practice_code=practice,
        stream=stream.id,
        stream_name=stream.name,
        basis=stream.basis,
        population=seg["population"],
        rate=stream.rate,
        rate_period=stream.rate_period,
        months=months,
        first_month=seg["first"],
        last_month=seg["last"],
        exact=seg["exact"],
        amount=to_pence(seg["exact"]),
        rule_id=f"{rules.year}/{stream.id}",
        rule_version=stream.version,
        confirmed=stream.confirmed,
        status=stream.status,
        formula=formula,
        inputs=seg["inputs"],
        source=stream.source,
        note="; ".join(notes),
    )


def _compare(lines: list[EntitlementLine], official: list[EntitlementLine]) -> None:
    """Set each scenario line's official rate, amount and difference."""
    by_key = {
        (o.pcn_code, o.practice_code, o.stream, o.first_month, o.last_month): o for o in official
    }
    for line in lines:
        match = by_key.get(
            (line.pcn_code, line.practice_code, line.stream, line.first_month, line.last_month)
        )
        if match is None:
            continue
        line.official_rate = match.rate
        line.official_amount = match.amount
        line.difference = line.amount - match.amount


def exact_totals(lines: list[EntitlementLine]) -> Decimal:
    """A total as spreadsheets compute it: unrounded amounts summed, then rounded once. It can
    differ by pennies from the sum of the (rounded) lines, which is what is paid."""
    return to_pence(sum((x.exact for x in lines), Decimal(0)))


def totals(lines: list[EntitlementLine], by: str = "stream") -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in lines:
        key = getattr(line, by)
        out[key] = out.get(key, Decimal(0)) + line.amount
    return out
