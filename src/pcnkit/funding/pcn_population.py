"""A PCN's population on one basis in one month, summed over its member practices, saying
where the figures came from and which practices lack one: the input both the IIF what-if and
the service obligations scale with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from pcnkit.funding.entitlements import INPUT_NAMES
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import Estimate


@dataclass(frozen=True)
class PcnPopulation:
    pcn_code: str
    basis: str
    month: dt.date
    value: Decimal | None  # None: no member practice has the figure loaded
    inputs: str  # what was summed, as at when, from which source
    missing: tuple[str, ...] = field(default=())  # member practices without the figure

    @property
    def reason(self) -> str:
        """Why there is no value, or what the value leaves out."""
        name = INPUT_NAMES[self.basis]
        if self.value is None:
            return f"{name} not loaded" if name.startswith("PCN") else f"PCN {name} not loaded"
        if self.missing:
            return f"{name} not loaded for {', '.join(self.missing)} (left out)"
        return ""


def member_month(pops: Populations, pcn: str, month: dt.date) -> dt.date | None:
    """`month` if the PCN has members then, else its first month with members in the year."""
    if pops.members.get(month, {}).get(pcn):
        return month
    for m in sorted(pops.members):
        if pops.members[m].get(pcn):
            return m
    return None


def pcn_population(
    pops: Populations, pcn: str, basis: str, month: dt.date, estimate: Estimate | None = None
) -> PcnPopulation:
    """The PCN's `basis` population from its members on the first of `month`; with the year's
    stated `estimate` for the basis, a practice without its own figure counts as estimated
    (as on the entitlement lines), and the inputs say so."""
    when = member_month(pops, pcn, month)
    codes = sorted(pops.members.get(when, {}).get(pcn, [])) if when else []
    total, missing, dates, sources = Decimal(0), [], set(), set()
    for code in codes:
        p = pops.practices.get(code)
        value = p.values.get(basis) if p else None
        if value is None and estimate is not None and p is not None:
            base = p.values.get(estimate.from_basis)
            if base is not None:
                total += base * estimate.ratio
                dates.add(p.dates[estimate.from_basis])
                sources.add(estimate.label)
                continue
        if value is None:
            missing.append(code)
            continue
        total += value
        dates.add(p.dates[basis])
        sources.add(p.sources[basis].title)
    name = INPUT_NAMES[basis]
    if not dates:
        return PcnPopulation(pcn, basis, when or month, None, f"{name}: not loaded", tuple(missing))
    span = ", ".join(f"{d.day} {d:%B %Y}" for d in sorted(dates))
    count = len(codes) - len(missing)
    inputs = f"{name} of {count} member practices as at {span} ({'; '.join(sorted(sources))})"
    return PcnPopulation(pcn, basis, when, total, inputs, tuple(missing))


def average_pcn_list(pops: Populations, month: dt.date) -> tuple[Decimal | None, int]:
    """The mean registered list of the PCNs in `pops` with members in `month`, and how many
    PCNs it averages: an estimate of the national average when `pops` is all England."""
    values = []
    for pcn in pops.members.get(month, {}):
        figure = pcn_population(pops, pcn, "registered", month)
        if figure.value is not None:
            values.append(figure.value)
    if not values:
        return None, 0
    return sum(values) / len(values), len(values)
