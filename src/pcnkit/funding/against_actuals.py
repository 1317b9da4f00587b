"""Entitlement against what NHS England actually paid: per PCN, payments column and year, what
the engine says was owed, what the payments file says was paid, the difference, and the one
category that explains it (or says it is unexplained).

Each difference gets exactly one category (`CATEGORIES`), and its explanation gives the figures
of the test that found it (docs/funding.md lists them). Per row, in this order: a column not
compared (IIF, ARRS, an input not held, months the file lacks); nothing paid through the PCN's
practices; within 1%; a membership change whose range covers the payment, or practices the
file adds whose lists cover it; another list date; whole twelfths (part-year, or months paid in
another year); several receiving practices. Then over the year's rows: a rate not confirmed
paid at the national median multiple, a payee paid for a neighbouring PCN (one matching sum, or
probably several), and a commissioner's local payment through the column.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from pcnkit.bulk import bulk
from pcnkit.dates import contract_year, valid_on
from pcnkit.funding import actuals as actual_payments
from pcnkit.funding import columns as payment_columns
from pcnkit.funding.entitlements import EntitlementLine, entitlements
from pcnkit.funding.money import money, to_pence
from pcnkit.funding.populations import Populations, from_registry, relisted
from pcnkit.funding.rules import STATUS_WORDS, YearRules, known_years, rules_for
from pcnkit.registry import kinds
from pcnkit.store.models import Membership, Organisation

# id -> what users read, in the order the national table lists them
CATEGORIES = {
    "agrees": "Within 1%",
    "not_modelled": "Stream not modelled",
    "input_missing": "Input not held",
    "paid_outside": "Paid outside GP practices",
    "part_year": "Part-year membership or opt-out",
    "timing": "Months paid in another year",
    "list_reference_date": "List reference date",
    "unconfirmed_rate": "Rate not confirmed",
    "local_payment": "Commissioner's local payment",
    "payee_split": "Payee split across practices",
    "unexplained": "Unexplained",
}
CLOSE = Decimal("0.01")  # within 1%
NEAR = Decimal("0.05")  # within 5% (reported, not a verdict)
# A commissioner's local payment: its PCNs' median paid / owed at least 10% off 1, and a PCN
# within 25% of that median (a per-head payment varies with the lists), on the same side of 1.
LOCAL_AT_LEAST = Decimal("0.10")
LOCAL_SPREAD = Decimal("0.25")


@dataclass
class Comparison:
    year: str
    pcn_code: str
    pcn_name: str
    heading: str  # the payments file's column
    streams: tuple[str, ...]
    entitled: Decimal | None
    paid: Decimal
    category: str
    explanation: str
    confirmed: bool = True
    practices: int = 0  # practices the payment went through

    @property
    def difference(self) -> Decimal | None:
        return None if self.entitled is None else self.paid - self.entitled

    @property
    def share(self) -> Decimal | None:
        """The difference as a fraction of the entitlement (None when nothing was owed)."""
        if not self.entitled:
            return None
        return (self.paid - self.entitled) / self.entitled

    @property
    def compared(self) -> bool:
        """An entitlement was calculated to set against the payment."""
        return self.entitled is not None and self.category not in ("not_modelled", "paid_outside")

    def as_row(self) -> dict:
        share = self.share
        outside = self.category == "paid_outside"  # what was paid is not in the file
        return {
            "year": self.year,
            "pcn_code": self.pcn_code,
            "pcn_name": self.pcn_name,
            "column": self.heading,
            "streams": " + ".join(self.streams),
            "entitled": self.entitled,
            "paid_through_practices": self.paid,
            "paid": None if outside else self.paid,
            "difference": None if outside else self.difference,
            "difference_pct": None if share is None or outside else round(share * 100, 2),
            "category": CATEGORIES[self.category],
            "explanation": self.explanation,
            "confirmed": self.confirmed,
        }


@dataclass
class ColumnSummary:
    """One year's column over every PCN compared: the national agreement table's row."""

    year: str
    heading: str
    kind: str
    pcns: int = 0  # PCNs with an entitlement calculated to compare
    within_1: int = 0
    within_5: int = 0
    explained: int = 0  # within 1% or with an explanation other than "unexplained"
    paid: Decimal = Decimal(0)  # to every PCN in the file
    paid_compared: Decimal = Decimal(0)  # to the PCNs compared
    entitled: Decimal = Decimal(0)
    by_category: dict[str, Decimal] = field(default_factory=dict)  # £ difference
    counts: dict[str, int] = field(default_factory=dict)
    confirmed: bool = True

    def pct(self, n: int) -> Decimal | None:
        return None if not self.pcns else Decimal(n * 100) / self.pcns


@dataclass
class Reconciliation:
    comparisons: list[Comparison]
    titles: dict[str, str]  # year -> the payments publication's title
    years: list[str]
    missing_years: list[str]  # asked for, but no payments file loaded

    def summary(self) -> list[ColumnSummary]:
        out: dict[tuple[str, str], ColumnSummary] = {}
        for c in self.comparisons:
            col = payment_columns.column(c.year, c.heading)
            s = out.setdefault(
                (c.year, c.heading),
                ColumnSummary(c.year, c.heading, col.kind if col else "entitlement"),
            )
            s.paid += c.paid
            s.counts[c.category] = s.counts.get(c.category, 0) + 1
            s.confirmed = s.confirmed and c.confirmed
            if not c.compared:
                continue
            s.pcns += 1
            s.entitled += c.entitled
            s.paid_compared += c.paid
            share = abs(c.share) if c.share is not None else None
            s.within_1 += share is not None and share <= CLOSE
            s.within_5 += share is not None and share <= NEAR
            s.explained += c.category != "unexplained"
            s.by_category[c.category] = s.by_category.get(c.category, Decimal(0)) + (
                c.difference or Decimal(0)
            )
        return [out[k] for k in sorted(out)]

    def largest(self, n: int = 10, category: str | None = None) -> list[Comparison]:
        """The n largest differences (in pounds) among those compared."""
        rows = [
            c
            for c in self.comparisons
            if c.compared
            and c.category != "agrees"
            and (category is None or c.category == category)
        ]
        return sorted(rows, key=lambda c: (-abs(c.difference), c.year, c.pcn_code, c.heading))[:n]


def reconcile(
    session: Session,
    years: list[str] | None = None,
    area: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Reconciliation:
    """Every PCN (of `area`, or all England) x payments column x year with a payments file
    loaded (or `years`), set against the engine's entitlement for the year."""
    loaded = set(actual_payments.loaded_years(session))
    wanted = years or sorted(loaded & set(known_years()))
    out = Reconciliation([], {}, [], [y for y in wanted if y not in loaded])
    with bulk():
        for year in wanted:
            if year in loaded:
                _year(session, year, area, out)
            if progress:
                progress(year)
    return out


def _year(session: Session, year: str, area: str | None, out: Reconciliation) -> None:
    rules = rules_for(year)
    pops = from_registry(session, rules, area)
    lines = entitlements(pops, rules)
    pcns = set(pops.pcn_codes())
    found = actual_payments.load(session, year, pcns if area else None)
    if found is None:
        return
    out.years.append(year)
    out.titles[year] = found.title
    if not area:
        pcns |= found.pcn_codes()
    by_stream: dict[tuple[str, str], list[EntitlementLine]] = defaultdict(list)
    for line in lines:
        by_stream[(line.pcn_code, line.stream)].append(line)
    later = _later_list(session, pops)
    later_by: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in entitlements(later, rules) if later else []:
        if line.amount is not None:
            later_by[(line.pcn_code, line.stream)] += line.amount
    columns = payment_columns.columns_for(year)
    network = payment_columns.payee_headings(year)
    received = actual_payments.receivers(found, network)
    changed = _membership_changes(pops)
    in_file = _file_members(found)
    ctx = _Year(year, rules, pops, by_stream, later_by, received, changed, in_file, found)
    rows = [row for column in columns for pcn in sorted(pcns) if (row := ctx.compare(column, pcn))]
    _rate_test(rows, rules)
    commissioners = _commissioners(session, pcns, rules.start)
    _paid_for_another(rows, commissioners, network)
    _local_rate(rows, commissioners)
    out.comparisons.extend(rows)


def _later_list(session: Session, pops: Populations) -> Populations | None:
    """The same memberships with each practice's list on 1 January within the contract year
    (the newest list before the year's final quarter) instead of the one before it."""
    day = dt.date(pops.year_start.year + 1, 1, 1)
    if day == pops.reference_date:
        return None
    return relisted(session, pops, day)


def _membership_changes(pops: Populations) -> dict[str, str]:
    """PCN -> how its membership changed during the year (PCNs whose did)."""
    months = sorted(pops.members)
    out: dict[str, str] = {}
    for pcn in pops.pcn_codes():
        sets = [frozenset(pops.members[m].get(pcn, ())) for m in months]
        if len(set(sets)) <= 1:
            continue
        first, last = sets[0], sets[-1]
        joined, left = sorted(last - first), sorted(first - last)
        words = []
        if left:
            words.append(f"{', '.join(left)} left")
        if joined:
            words.append(f"{', '.join(joined)} joined")
        if not sets[0]:
            words.append(f"the PCN began in {_first_month(pops, pcn):%B %Y}")
        out[pcn] = "; ".join(words) or "its members changed during the year"
    return out


def _first_month(pops: Populations, pcn: str) -> dt.date:
    return min(m for m, v in pops.members.items() if v.get(pcn))


def _file_members(found: actual_payments.YearActuals) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for (pcn, _), p in found.paid.items():
        out[pcn] |= set(p.practices)
    return out


@dataclass
class _Year:
    year: str
    rules: YearRules
    pops: Populations
    by_stream: dict
    later_by: dict
    received: dict[str, dict[str, Decimal]]
    changed: dict[str, str]
    in_file: dict[str, set[str]]
    found: actual_payments.YearActuals

    def compare(self, column: payment_columns.PaymentColumn, pcn: str) -> Comparison | None:
        paid_for = self.found.paid.get((pcn, column.column))
        paid = paid_for.amount if paid_for else Decimal(0)
        name = self.pops.pcn_names.get(pcn, pcn)
        row = Comparison(
            self.year, pcn, name, column.column, column.streams, None, paid, "unexplained", ""
        )
        row.practices = len([v for v in (paid_for.practices if paid_for else {}).values() if v])
        if column.kind != "entitlement":
            if not paid:
                return None
            row.category = "input_missing" if column.kind == "incomplete" else "not_modelled"
            row.explanation = payment_columns.KIND_WORDS[column.kind] + "."
            if column.note and column.kind == "incomplete":
                row.explanation += f" {column.note}"
            return row
        streams = [s for s in column.streams if s in self.rules.streams]
        absent = [s for s in column.streams if s not in self.rules.streams]
        lines = [x for s in streams for x in self.by_stream.get((pcn, s), [])]
        row.confirmed = all(self.rules.streams[s].confirmed for s in streams)
        if not streams:
            if not paid:
                return None
            row.category = "not_modelled"
            row.explanation = (
                f"The {self.year} rules hold no stream for this column ({', '.join(absent)}): "
                "its rate is not confirmed, so pcnkit does not calculate it."
            )
            return row
        if not lines and not paid:
            return None
        if not lines:
            row.category = "part_year"
            row.explanation = (
                "Paid, but the registry holds no member practices for this PCN in the months "
                "the stream covers: a PCN that began, ended or was re-coded during the year."
            )
            return row
        dead = [x for x in lines if x.amount is None]
        if dead:
            row.category = "input_missing"
            row.explanation = f"{dead[0].stream_name} {dead[0].gap}."
            return row
        entitled = sum((x.amount for x in lines), Decimal(0))
        if absent:
            row.explanation = f"Not calculated here: {', '.join(absent)}. "
        part = 1
        if column.paid_months:  # the file holds part of the year: compare those months only
            whole_year = entitled
            entitled = to_pence(sum((_in_months(x, column.paid_months) for x in lines), Decimal(0)))
            part = entitled / whole_year if whole_year else Decimal(0)
            first, last = column.paid_months
            row.explanation += (
                f"The payments file holds {first:%B %Y} - {last:%B %Y} only for this column: "
                "compared with those months' entitlement. "
            )
        row.entitled = entitled
        if not entitled:
            if not paid:
                return None
            row.category = "part_year"
            row.explanation += (
                "Paid although nothing is owed in the months compared (the stream starts or "
                "ends within the year): a payment for other months, or a local arrangement."
            )
            return row
        if paid <= 0:
            net = (
                f"Only recoveries or corrections ({money(paid)} net) were made through the "
                "PCN's practices in this column"
                if paid
                else "Nothing was paid through the PCN's practices in this column"
            )
            row.category = "paid_outside"
            if column.network and self.received.get(pcn):
                row.explanation += (
                    f"{net}, although its other network payments were: paid another way (to "
                    "another body, or in another year) or not at all."
                )
            else:
                row.explanation += (
                    f"{net}"
                    + (
                        " and none of its other network entitlement payments"
                        if column.network
                        else ""
                    )
                    + " this year: it was paid outside GP practices (e.g. to a federation or "
                    "by the commissioner locally), so the file cannot show it."
                )
            return row
        share = row.share
        if share is not None and abs(share) <= CLOSE:
            row.category = "agrees"
            row.explanation += f"Paid {_pct(share)} of the entitlement."
            return row
        if pcn in self.changed and _between(paid, self._membership_bounds(lines, part)):
            low, high = self._membership_bounds(lines, part)
            row.category = "part_year"
            row.explanation += (
                f"{self._membership_words(pcn)} A whole year on its first or last membership "
                f"would be {money(to_pence(low))} to {money(to_pence(high))}, and what was paid "
                "lies in that range."
            )
            return row
        extra = self._file_extra_share(pcn, streams)
        if extra is not None and abs(paid / entitled - 1) <= extra + CLOSE:
            row.category = "part_year"
            row.explanation += (
                f"{self._extra_words(pcn)} Their lists are {extra:.1%} of the PCN's, enough to "
                "explain the difference."
            )
            return row
        later = sum((self.later_by.get((pcn, s), Decimal(0)) for s in streams), Decimal(0))
        later *= part
        within = f"1 January {int(self.year[:4]) + 1} (within the year)"
        if later and abs(paid - later) <= CLOSE * later:
            row.category = "list_reference_date"
            row.explanation += (
                f"On each practice's list at {within} instead of "
                f"{self.pops.reference_date:%-d %B %Y}, the entitlement is {money(later)}, "
                "within 1% of what was paid."
            )
            return row
        middle = (entitled + later) / 2
        if later and abs(paid - middle) <= CLOSE * middle:
            row.category = "list_reference_date"
            row.explanation += (
                f"Half the year on the lists of {self.pops.reference_date:%-d %B %Y} and half "
                f"on those of {within} gives {money(to_pence(middle))}, within 1% of what was "
                "paid: the payments followed the lists as they changed during the year."
            )
            return row
        twelfths = paid * 12 / entitled
        whole = twelfths.to_integral_value()
        if 1 <= whole <= 15 and whole != 12 and abs(twelfths - whole) <= CLOSE * whole:
            if whole < 12:
                row.category = "part_year"
                row.explanation += (
                    f"Paid {whole} twelfths of the year's entitlement: {int(whole)} months' "
                    "payments, as for a PCN that joined, left or opted out part-way, or whose "
                    "last months were paid in the next year."
                )
            else:
                row.category = "timing"
                row.explanation += (
                    f"Paid {whole} twelfths of the year's entitlement: the file counts payments "
                    f"made in the year, and {int(whole) - 12} month(s) due in another year were "
                    "paid in this one."
                )
            return row
        if len(self.received.get(pcn, {})) > 1 and column.network and paid < entitled:
            row.category = "payee_split"
            row.explanation += (
                f"Network payments went through {len(self.received[pcn])} practices ("
                + ", ".join(sorted(self.received[pcn]))
                + "); some may have been paid to a practice the file places in another PCN."
            )
            return row
        row.explanation += f"Paid {_pct(share)} of the entitlement; no test explains it."
        return row

    def _membership_bounds(
        self, lines: list[EntitlementLine], part: Decimal
    ) -> tuple[Decimal, Decimal]:
        """What the streams would pay for the whole year on each run's membership: the least
        and the most (scaled to the months compared)."""
        by_stream: dict[str, list[Decimal]] = defaultdict(list)
        for x in lines:
            if x.amount is not None and x.months:
                full = len(self.rules.streams[x.stream].months)
                by_stream[x.stream].append(x.amount * full / x.months)
        low = sum((min(v) for v in by_stream.values()), Decimal(0)) * part
        high = sum((max(v) for v in by_stream.values()), Decimal(0)) * part
        return low, high

    def _file_extra_share(self, pcn: str, streams: list[str]) -> Decimal | None:
        """When the file places practices in the PCN that the registry does not have in it at
        the year end: their lists as a share of the PCN's (None when it places none, or their
        lists are not held)."""
        extra = self._extra(pcn)
        if not extra or not streams:
            return None
        basis = self.rules.streams[streams[0]].basis
        last = self.pops.members[max(self.pops.members)].get(pcn, [])

        def total(codes) -> Decimal:
            return sum(
                (
                    self.pops.practices[c].values.get(basis, Decimal(0))
                    for c in codes
                    if c in self.pops.practices
                ),
                Decimal(0),
            )

        own, theirs = total(last), total(extra)
        return theirs / own if own and theirs else None

    def _extra(self, pcn: str) -> list[str]:
        last = set(self.pops.members[max(self.pops.members)].get(pcn, []))
        return sorted(self.in_file.get(pcn, set()) - last - set(self.pops.absorbed))

    def _membership_words(self, pcn: str) -> str:
        return f"Membership changed during the year: {self.changed[pcn]}."

    def _extra_words(self, pcn: str) -> str:
        extra = self._extra(pcn)
        return (
            "The payments file places practices in this PCN that the registry does not have "
            f"in it at the year end ({', '.join(extra[:6])}): a move the registry does not hold."
        )


def _between(value: Decimal, bounds: tuple[Decimal, Decimal]) -> bool:
    low, high = bounds
    return low * (1 - CLOSE) <= value <= high * (1 + CLOSE)


def _in_months(line: EntitlementLine, months: tuple[dt.date, dt.date]) -> Decimal:
    """The line's amount for the months it shares with `months`, pro rata by month."""
    first, last = max(line.first_month, months[0]), min(line.last_month, months[1])
    if first > last or line.amount is None:
        return Decimal(0)
    inside = (last.year - first.year) * 12 + last.month - first.month + 1
    return line.amount * inside / line.months


def _commissioners(session: Session, pcns: set[str], start: dt.date) -> dict[str, str]:
    """PCN -> the sub-ICB location (CCG) it was in at the year's end."""
    child, parent = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(child.code, parent.code)
        .select_from(Membership)
        .join(child, child.id == Membership.child_id)
        .join(parent, parent.id == Membership.parent_id)
        .where(
            child.kind == kinds.PCN,
            parent.kind == kinds.SUB_ICB,
            valid_on(Membership.start, Membership.end, contract_year(start).end),
        )
        .order_by(Membership.id)
    )
    return {pcn: ccg for pcn, ccg in rows if pcn in pcns}


def _paid_for_another(
    rows: list[Comparison], commissioner: dict[str, str], network: set[str] = frozenset()
) -> None:
    """A payee that received another PCN's money: this PCN was paid more than its entitlement
    by, within 1%, the entitlement of a PCN of the same commissioner (sub-ICB location) that
    shows nothing paid in the same column (the file puts both under the payee's own PCN).
    Each PCN with nothing paid is matched once."""
    empty: dict[tuple[str, str], list[Comparison]] = defaultdict(list)
    for r in rows:
        if (
            not r.paid
            and r.entitled
            and r.category == "paid_outside"
            and r.pcn_code in commissioner
        ):
            empty[(r.heading, commissioner[r.pcn_code])].append(r)
    for column in empty.values():
        column.sort(key=lambda r: r.entitled)
    keys = {h: [r.entitled for r in v] for h, v in empty.items()}
    for r in rows:
        if r.category not in ("unexplained", "payee_split") or not r.entitled:
            continue
        excess = r.paid - r.entitled
        key = (r.heading, commissioner.get(r.pcn_code, ""))
        if excess <= 0 or key not in empty:
            continue
        column, values = empty[key], keys[key]
        i = bisect_left(values, excess / (1 + CLOSE))
        while i < len(values) and values[i] <= excess / (1 - CLOSE):
            other = column[i]
            if other.category != "payee_split" and abs(excess - other.entitled) <= (
                CLOSE * other.entitled
            ):
                r.category = other.category = "payee_split"
                r.explanation = (
                    f"The {money(excess)} above the entitlement is, within 1%, the entitlement "
                    f"of {other.pcn_name} ({other.pcn_code}), which shows nothing paid in this "
                    "column: its money went through this PCN's payee."
                )
                other.explanation = (
                    f"Nothing paid through its own practices, but {r.pcn_name} ({r.pcn_code}) "
                    "was paid its entitlement as well as its own: paid through that PCN's "
                    "payee."
                )
                break
            i += 1
    _paid_for_several(rows, commissioner, empty, network)


def _paid_for_several(rows, commissioner, empty, network: set[str]) -> None:
    """A payment through the payee (a network column, or any column paid through one practice)
    of at least twice the entitlement, where PCNs of the same commissioner show nothing paid in
    the column and are owed at least the excess between them: probably a payee paid for
    several PCNs (stated as probable: no one sum is matched)."""
    for r in rows:
        through_one = r.heading in network or r.practices == 1  # paid as to a payee
        if r.category != "unexplained" or not through_one or not r.entitled:
            continue
        key = (r.heading, commissioner.get(r.pcn_code, ""))
        excess = r.paid - r.entitled
        others = [o for o in empty.get(key, []) if o.category == "paid_outside"]
        owed = sum((o.entitled for o in others), Decimal(0))
        if r.paid >= 2 * r.entitled and others and owed >= excess * (1 - CLOSE):
            r.category = "payee_split"
            r.explanation = (
                f"Paid {money(excess)} above its entitlement, while {len(others)} PCN(s) of the "
                f"same commissioner show nothing paid in this column and are owed "
                f"{money(owed)} between them ({', '.join(o.pcn_code for o in others[:6])}"
                + (" ..." if len(others) > 6 else "")
                + "): probably its payee was paid for some of them too."
            )


def _local_rate(rows: list[Comparison], commissioner: dict[str, str]) -> None:
    """Unexplained differences shared by a commissioner's PCNs: when at least three of its PCNs
    were paid (at the median) 10% or more above or below their entitlement in a column, and
    this PCN was paid at least 5% off on the same side and within 25% of that median (a local
    per-head payment varies with the lists), the column carried a local payment or rate of that
    commissioner's (e.g. a CCG's own scheme paid through it)."""
    ratios: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for r in rows:
        if r.entitled and r.paid > 0 and r.compared and r.pcn_code in commissioner:
            ratios[(r.heading, commissioner[r.pcn_code])].append(r.paid / r.entitled)
    middle = {k: median(v) for k, v in ratios.items() if len(v) >= 3}
    for r in rows:
        key = (r.heading, commissioner.get(r.pcn_code, ""))
        if r.category != "unexplained" or key not in middle or not r.entitled:
            continue
        m, ratio = middle[key], r.paid / r.entitled
        same_side = (ratio - 1) * (m - 1) > 0 and abs(ratio - 1) >= NEAR
        if abs(m - 1) >= LOCAL_AT_LEAST and same_side and abs(ratio - m) <= LOCAL_SPREAD * m:
            r.category = "local_payment"
            r.explanation = (
                f"The {len(ratios[key])} PCNs of its commissioner ({key[1]}) were paid a median "
                f"{m:.2f} times their entitlement in this column, and this one "
                f"{r.paid / r.entitled:.2f}: "
                "the column carried a local payment or rate of that commissioner's, which "
                "pcnkit does not model."
            )


def _rate_test(rows: list[Comparison], rules) -> None:
    """Unexplained differences on a rate not confirmed: when the stream's paid-to-owed ratio
    is within 1% of its national median, the rate paid was probably another."""
    ratios: dict[str, list[Decimal]] = defaultdict(list)
    for r in rows:
        if r.entitled and r.paid > 0 and r.category not in ("not_modelled", "paid_outside"):
            ratios[r.heading].append(r.paid / r.entitled)
    middle = {h: median(v) for h, v in ratios.items() if len(v) >= 5}
    for r in rows:
        if r.category != "unexplained" or r.confirmed or r.heading not in middle:
            continue
        m = middle[r.heading]
        if r.entitled and abs(r.paid / r.entitled - m) <= CLOSE * m:
            statuses = ", ".join(
                f"{rules.streams[s].name} ({STATUS_WORDS[rules.streams[s].status]})"
                for s in r.streams
                if s in rules.streams and not rules.streams[s].confirmed
            )
            r.category = "unconfirmed_rate"
            r.explanation = (
                f"{statuses}. Paid {m:.3f} times the entitlement, as at "
                f"the median PCN ({len(ratios[r.heading])} compared): the rate actually paid "
                "was probably that multiple of the configured one."
            )


def _pct(share: Decimal) -> str:
    return f"{(1 + share) * 100:.1f}%"
