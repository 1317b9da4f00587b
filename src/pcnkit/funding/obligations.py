"""Service obligations: what a PCN must provide for the money, in minutes a week.

Extended hours access (July 2019 to September 2022): 30 minutes a week per 1,000 registered
patients, rounded to the nearest quarter hour (Network Contract DES 2019/20 section 4.6).
Enhanced access (from October 2022): 60 minutes a week per 1,000 of the PCN adjusted
population; no rounding rule was found, so pcnkit's assumption (stated on every line) applies.
Rates, dates and rounding live in the rules files' `obligations:` blocks, with sources.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from pcnkit.funding.money import figure
from pcnkit.funding.pcn_population import PcnPopulation, pcn_population
from pcnkit.funding.populations import Populations, from_registry
from pcnkit.funding.rules import STATUS_WORDS, Obligation, YearRules

QUARTER_HOUR = Decimal(15)
ROUNDING_WORDS = {
    "nearest_quarter_hour": "rounded to the nearest quarter hour (a half way figure rounds up)",
    "up_to_minute": "rounded up to the whole minute",
}


@dataclass(frozen=True)
class ObligationLine:
    """One PCN's weekly minutes for one obligation in one contract year."""

    year: str
    pcn_code: str
    pcn_name: str
    obligation: Obligation
    population: PcnPopulation
    exact_minutes: Decimal | None
    minutes: int | None  # None: cannot be calculated (see `reason`)

    @property
    def reason(self) -> str:
        if self.minutes is None:
            return f"cannot be calculated: {self.population.reason}"
        return self.population.reason

    @property
    def formula(self) -> str:
        o = self.obligation
        unit = "registered patients" if o.basis == "registered" else "PCN adjusted population"
        return (
            f"{unit} / 1,000 x {figure(o.minutes_per_1000)} minutes, {ROUNDING_WORDS[o.rounding]}"
        )

    @property
    def worked(self) -> str:
        """The formula with this PCN's figures."""
        if self.minutes is None:
            return ""
        return (
            f"{figure(self.population.value)} / 1,000 x {figure(self.obligation.minutes_per_1000)}"
            f" = {figure(self.exact_minutes)} minutes -> {hours_text(self.minutes)}"
        )

    @property
    def unconfirmed(self) -> list[str]:
        """Every part of this figure that is not confirmed, in words."""
        o, notes = self.obligation, []
        if not o.confirmed:
            notes.append(f"rate: {STATUS_WORDS[o.status]}")
        if o.rounding_status not in ("C", "C2", "D"):
            notes.append(f"rounding: {o.rounding_source}")
        if o.list_date_status not in ("C", "C2", "D"):
            notes.append(f"population date: {o.note}")
        return notes

    def as_row(self) -> dict:
        o = self.obligation
        return {
            "year": self.year,
            "pcn_code": self.pcn_code,
            "pcn_name": self.pcn_name,
            "obligation": o.name,
            "months": f"{o.start:%Y-%m}..{o.end:%Y-%m}",
            "population": self.population.value,
            "inputs": self.population.inputs,
            "minutes_per_week": self.minutes,
            "hours_per_week": hours_text(self.minutes) if self.minutes is not None else None,
            "formula": self.formula,
            "note": self.reason,
            "status": o.status,
            "source": o.source,
        }


def hours_text(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min"


def weekly_minutes(population: Decimal, o: Obligation) -> tuple[Decimal, int]:
    """(exact minutes, minutes after the obligation's rounding rule) for a population."""
    exact = population / Decimal(1000) * o.minutes_per_1000
    if o.rounding == "nearest_quarter_hour":
        quarters = (exact / QUARTER_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return exact, int(quarters * QUARTER_HOUR)
    return exact, int(exact.quantize(Decimal(1), rounding=ROUND_CEILING))


def in_force(rules: YearRules, month: dt.date | None = None) -> list[Obligation]:
    """The year's obligations, or those in force in `month` (the rule changed in October 2022)."""
    return [o for o in rules.obligations if month is None or o.start <= month <= o.end]


def population_date(rules: YearRules, o: Obligation) -> dt.date:
    """The date the obligation's population is read at: its own (2019/20: CRP at 1 April 2019)
    or, not confirmed, the year's list reference date."""
    return o.list_date or rules.list_reference_date


def load(
    session: Session, rules: YearRules, area: str | None, month: dt.date | None = None
) -> dict[dt.date, Populations]:
    """Populations at each date the obligations in force read them at."""
    out = {}
    for o in in_force(rules, month):
        when = population_date(rules, o)
        if when not in out:
            out[when] = from_registry(session, replace(rules, list_reference_date=when), area)
    return out


def obligation_lines(
    pops_at: dict[dt.date, Populations],
    rules: YearRules,
    month: dt.date | None = None,
    pcns: list[str] | None = None,
) -> list[ObligationLine]:
    """Per PCN and obligation in force: minutes a week, with inputs and formula. Membership is
    read in `month`, or in the obligation's first month."""
    lines = []
    for o in in_force(rules, month):
        pops = pops_at[population_date(rules, o)]
        for pcn in pcns or pops.pcn_codes():
            pop = pcn_population(pops, pcn, o.basis, month or o.start, rules.estimates.get(o.basis))
            exact = minutes = None
            if pop.value is not None:
                exact, minutes = weekly_minutes(pop.value, o)
            name = pops.pcn_names.get(pcn, pcn)
            lines.append(ObligationLine(rules.year, pcn, name, o, pop, exact, minutes))
    return lines
