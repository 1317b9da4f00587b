"""Investment and Impact Fund (IIF) and capacity and access improvement payment (CAIP): what a
PCN could earn, as a what-if.

Per IIF indicator (figures from the rules files' `iif.indicators`, each with its source):

    money at stake = points x point value x list-size adjustment x prevalence adjustment
    points earned  = 0 at or below the lower threshold, all the points at or above the upper,
                     points x (achievement - lower) / (upper - lower) in between
    money earned   = points earned x point value x list-size adjustment x prevalence adjustment
    patients needed to reach the upper threshold, from an achievement % and its denominator:
                     ceiling(upper % x denominator) - floor(achievement % x denominator)
                     (the denominator as given: personalised care adjustments change it)

    list-size adjustment  = PCN registered list / national average PCN registered list
    prevalence adjustment = PCN prevalence / national prevalence (given by the user; 1 if not)

CAIP (2023/24 on): the maximum at stake is the CAIP rate x the PCN adjusted population, split
into the year's components; the capacity and access support payment (CASP) beside it is paid
without conditions. Every money figure is rounded once to the penny.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pcnkit.errors import BadValue
from pcnkit.funding.money import figure, to_pence
from pcnkit.funding.pcn_population import PcnPopulation, average_pcn_list, pcn_population
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import STATUS_WORDS, STATUSES, IifIndicator, YearRules

HUNDRED = Decimal(100)

# England has about 1,250 PCNs: a workspace with far fewer holds an area, not the country.
ENGLAND_PCNS_AT_LEAST = 1000


def points_earned(ind: IifIndicator, achievement: Decimal) -> Decimal | None:
    """Points for an achievement % on the linear scale between the thresholds."""
    if ind.points is None or ind.lower is None or ind.upper is None:
        return None
    if achievement <= ind.lower:
        return Decimal(0)
    if achievement >= ind.upper:
        return Decimal(ind.points)
    return Decimal(ind.points) * (achievement - ind.lower) / (ind.upper - ind.lower)


def patients_needed(upper: Decimal, achievement: Decimal, denominator: int) -> int:
    """More patients (numerator) needed to reach the upper threshold: the smallest numerator at
    or above it, less the patients the achievement % already counts (never below 0)."""
    target = (upper / HUNDRED * denominator).to_integral_value(rounding=ROUND_CEILING)
    done = (achievement / HUNDRED * denominator).to_integral_value(rounding=ROUND_FLOOR)
    return max(0, int(target - done))


@dataclass(frozen=True)
class Adjustment:
    """A multiplier, how it was found, and whether it is an estimate or assumption."""

    value: Decimal | None
    text: str
    estimate: bool = False


@dataclass(frozen=True)
class IndicatorWhatIf:
    indicator: IifIndicator
    prevalence: Adjustment
    at_stake: Decimal | None
    achievement: Decimal | None = None
    points: Decimal | None = None
    earned: Decimal | None = None
    denominator: int | None = None
    needed: int | None = None
    reasons: tuple[str, ...] = ()  # why a figure cannot be calculated

    @property
    def unconfirmed(self) -> str:
        ind = self.indicator
        return "" if ind.confirmed else f"{ind.status}: {STATUS_WORDS[ind.status]}"

    def as_row(self) -> dict:
        ind = self.indicator
        return {
            "indicator": ind.id,
            "name": ind.name,
            "lower_pct": ind.lower,
            "upper_pct": ind.upper,
            "points": ind.points,
            "prevalence_adjustment": self.prevalence.value,
            "at_stake": self.at_stake,
            "achievement_pct": self.achievement,
            "points_earned": self.points,
            "earned": self.earned,
            "denominator": self.denominator,
            "patients_needed": self.needed,
            "note": "; ".join(self.reasons),
            "status": ind.status,
            "source": ind.source,
        }


@dataclass(frozen=True)
class CaipLine:
    id: str
    name: str
    amount: Decimal | None
    formula: str
    status: str
    source: str
    conditional: bool


@dataclass(frozen=True)
class IifWhatIf:
    year: str
    pcn_code: str
    pcn_name: str
    registered: PcnPopulation
    point_value: Decimal | None
    point_status: str | None
    list_size: Adjustment
    indicators: list[IndicatorWhatIf]
    notes: list[str] = field(default_factory=list)  # what is missing or unconfirmed, in words
    caip: list[CaipLine] = field(default_factory=list)
    caip_payment: str = ""
    adjusted: PcnPopulation | None = None

    @property
    def unconfirmed(self) -> bool:
        """Whether any rule behind the money is not confirmed (status not C, C2 or D)."""
        rules = [i.indicator.status for i in self.indicators]
        return any(not STATUSES[s] for s in rules) or bool(self.notes)

    @property
    def total_at_stake(self) -> Decimal | None:
        figures = [i.at_stake for i in self.indicators]
        if not figures or any(f is None for f in figures):
            return None
        return sum(figures, Decimal(0))


def list_size_adjustment(
    rules: YearRules,
    registered: PcnPopulation,
    national: Populations | None,
    average_list: Decimal | None,
) -> Adjustment:
    """PCN list / national average PCN list: the average from the rules, else the user's,
    else an estimate from the PCNs loaded (labelled), else none."""
    size = rules.iif.list_size if rules.iif else None
    if registered.value is None:
        return Adjustment(None, "cannot be calculated: PCN registered list not loaded")
    rule_note = "" if size is None else f" ({size.status}: {STATUS_WORDS[size.status]})"
    if size is not None and size.national_average_list is not None:
        avg, how, est = (
            size.national_average_list,
            f"national average from the rules{rule_note}",
            False,
        )
    elif average_list is not None:
        avg, how, est = average_list, "national average PCN list given by the user", False
    else:
        avg, count = (None, 0)
        if national is not None:
            avg, count = average_pcn_list(national, national.members and min(national.members))
        if avg is None:
            return Adjustment(
                None,
                "cannot be calculated: the national average PCN list is not in the rules; "
                "give it (--average-list)",
            )
        partial = (
            f" — only {count} PCNs, not all England, so this is not a national average"
            if count < ENGLAND_PCNS_AT_LEAST
            else ""
        )
        how = (
            f"ESTIMATE: mean registered list of the {count} PCNs loaded in this workspace "
            f"({figure(avg.quantize(Decimal('0.1')))}){partial}; replace it with --average-list"
        )
        est = True
    value = registered.value / avg
    text = (
        f"{figure(registered.value)} / {figure(avg.quantize(Decimal('0.1')))} = "
        f"{value.quantize(Decimal('0.0001'))} ({how}; rule: PCN list / national average PCN list"
        f"{rule_note})"
    )
    return Adjustment(value, text, est)


def prevalence_adjustment(ind: IifIndicator, given: Decimal | None) -> Adjustment:
    if given is not None:
        return Adjustment(given, f"{given} (PCN prevalence / national prevalence, given)")
    if ind.prevalence_adjusted is False:
        return Adjustment(Decimal(1), "1 (not prevalence-adjusted)")
    what = (
        "prevalence-adjusted"
        if ind.prevalence_adjusted
        else "whether it is adjusted is not confirmed"
    )
    return Adjustment(
        Decimal(1), f"ASSUMED 1 (national prevalence; {what}): give --prevalence", estimate=True
    )


def iif_what_if(
    pops: Populations,
    rules: YearRules,
    pcn: str,
    achievement: dict[str, Decimal] | None = None,
    denominator: dict[str, int] | None = None,
    prevalence: dict[str, Decimal] | None = None,
    average_list: Decimal | None = None,
    national: Populations | None = None,
) -> IifWhatIf:
    """The IIF (and CAIP) what-if for one PCN and year. `achievement`, `denominator` and
    `prevalence` are keyed by indicator id; `national` is the populations an average PCN list
    is estimated from when neither the rules nor `average_list` give one."""
    achievement, denominator, prevalence = achievement or {}, denominator or {}, prevalence or {}
    iif = rules.iif
    known = {i.id for i in iif.indicators} if iif else set()
    for given in (achievement, denominator, prevalence):
        unknown = sorted(set(given) - known)
        if unknown:
            raise BadValue(
                "indicator",
                f"{rules.year} has no IIF indicator {', '.join(unknown)}",
                f"Known: {', '.join(sorted(known)) or 'none encoded for this year'}.",
            )
    first = rules.start
    if pcn not in pops.pcn_codes():
        raise BadValue("PCN", f"{pcn} has no member practices in {rules.year}", "Check the code.")
    registered = pcn_population(pops, pcn, "registered", first)
    notes = []
    point_value = iif.point_value if iif else None
    point_status = iif.status if iif else None
    if iif is None:
        notes.append(f"there was no Investment and Impact Fund in {rules.year}")
    elif point_value is None:
        notes.append(
            f"the IIF point value for {rules.year} is not confirmed: no money is calculated"
        )
    elif not iif.confirmed:
        notes.append(f"the IIF point value is {STATUS_WORDS[iif.status]}")
    if iif is not None and not iif.indicators:
        notes.append(f"no {rules.year} indicator's points and thresholds were found in the sources")
    size = list_size_adjustment(rules, registered, national, average_list)
    rule = iif.list_size if iif else None
    if rule is not None and not STATUSES[rule.status]:
        notes.append(f"the list-size adjustment rule ({rule.rule}) is {STATUS_WORDS[rule.status]}")
    results = []
    for ind in iif.indicators if iif else ():
        prev = prevalence_adjustment(ind, prevalence.get(ind.id))
        reasons = []
        money_parts = point_value is not None and size.value is not None
        if ind.points is None:
            reasons.append("points not found in the sources")
        if point_value is None:
            reasons.append("point value not confirmed")
        if size.value is None:
            reasons.append("list-size adjustment cannot be calculated")
        factor = None
        if money_parts and ind.points is not None:
            factor = point_value * size.value * prev.value
        at_stake = to_pence(ind.points * factor) if factor is not None else None
        ach = achievement.get(ind.id)
        pts = earned = needed = None
        den = denominator.get(ind.id)
        if ach is not None:
            pts = points_earned(ind, ach)
            if pts is None:
                reasons.append("thresholds or points not found: points earned cannot be calculated")
            elif factor is not None:
                earned = to_pence(pts * factor)
        if ind.upper is None:
            reasons.append("upper threshold not found")
        elif den is not None:
            if ach is None:
                reasons.append("no achievement given: patients needed are counted from 0%")
            needed = patients_needed(ind.upper, ach if ach is not None else Decimal(0), den)
        results.append(
            IndicatorWhatIf(ind, prev, at_stake, ach, pts, earned, den, needed, tuple(reasons))
        )
    adjusted, caip, payment = _caip(pops, rules, pcn)
    return IifWhatIf(
        rules.year,
        pcn,
        pops.pcn_names.get(pcn, pcn),
        registered,
        point_value,
        point_status,
        size,
        results,
        notes,
        caip,
        payment,
        adjusted,
    )


def _caip(pops: Populations, rules: YearRules, pcn: str):
    c = rules.caip
    if c is None:
        return None, [], ""
    adjusted = pcn_population(pops, pcn, "adjusted", rules.start, rules.estimates.get("adjusted"))
    lines = []
    for sid, conditional in ((c.support_stream, False), (c.improvement_stream, True)):
        s = rules.streams.get(sid)
        if s is None:
            continue
        amount = to_pence(s.rate * adjusted.value) if adjusted.value is not None else None
        formula = (
            f"£{s.rate} x PCN adjusted population"
            + (f" ({figure(adjusted.value)})" if adjusted.value is not None else "")
            + (" — MAXIMUM, paid on assessment or declaration" if conditional else " a year")
        )
        if amount is None:
            formula += f" — cannot be calculated: {adjusted.reason}"
        lines.append(CaipLine(sid, s.name, amount, formula, s.status, s.source, conditional))
        if conditional:
            for comp in c.components:
                part = (
                    to_pence(s.rate * adjusted.value * comp.share) if amount is not None else None
                )
                lines.append(
                    CaipLine(
                        f"{sid}.{comp.id}",
                        f"  of which: {comp.name}",
                        part,
                        f"{comp.share_text} of the CAIP maximum",
                        _worse(s.status, comp.status),
                        comp.source,
                        True,
                    )
                )
    return adjusted, lines, c.payment + (f" {c.note}" if c.note else "")


def _worse(a: str, b: str) -> str:
    """The less certain of two statuses (an unconfirmed part makes the whole unconfirmed)."""
    return a if not STATUSES[a] else b


def parse_pairs(items: list[str], what: str, whole: bool = False) -> dict:
    """`["VI-01=82.5", ...]` as {indicator: Decimal or int}, refusing a malformed pair."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadValue(what, f"'{item}' is not indicator=value", "Write e.g. VI-01=82.5.")
        try:
            number = Decimal(value.strip().rstrip("%"))
        except ArithmeticError:
            raise BadValue(what, f"'{value}' is not a number", "Write e.g. VI-01=82.5.") from None
        if not number.is_finite() or number < 0:
            raise BadValue(what, f"'{value}' is not a number of 0 or more", "")
        if whole:
            if number != number.to_integral_value():
                raise BadValue(what, f"'{value}' is not a whole number of patients", "")
            number = int(number)
        out[key.strip()] = number
    return out
