"""ARRS utilisation: what NHS England actually paid each PCN for its additional roles (the
payments files' `PCN Workforce` column) against the PCN's ARRS budget for the year.

Per PCN: the budget (`arrs.budget`), what was paid, the share of the budget used (paid ÷
budget) and the money left unclaimed (budget − paid, never below £0; a PCN paid more than its
calculated budget is flagged as an over-claim instead). Per ICS and nationally: the sums over
the PCNs whose share can be calculated, and how many PCNs were left out and why. A share that
cannot be calculated says why (None and a reason), never 0%: a PCN paid outside GP practices
(to a federation, say) has no known payment in the payments files, and a budget whose rate is
not known has no share.

The module reads no payments file: the caller gives `paid` (PCN code → amount, None when not
known), so any source of actual payments can be set against the budgets.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from pcnkit.dates import months_between
from pcnkit.funding import arrs
from pcnkit.funding.census import RolesInPost
from pcnkit.funding.money import money
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import STATUS_WORDS, YearRules
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy

NIL = Decimal("0.00")  # no money, written as money
SHARE = Decimal("0.0001")  # shares are fractions to four places: 0.8123 is 81.23%
NATIONAL = "ENG"

# Why a PCN's share is left out of the sums (the keys of `Rollup.left_out`).
BUDGET_UNKNOWN = "budget cannot be calculated"
BUDGET_INCOMPLETE = "budget incomplete (a member practice's list is not held)"
NO_BUDGET = "no ARRS budget (no member practices in the ARRS months)"
PAID_UNKNOWN = "actual payment not known"
NO_RECORD = "no actual payment recorded"
ZERO_BUDGET = "budget is £0.00"


@dataclass
class PcnUtilisation:
    """One PCN's ARRS budget against what it was actually paid."""

    year: str
    pcn_code: str
    pcn_name: str
    group: str | None  # ICS code
    budget: Decimal | None
    paid: Decimal | None
    used: Decimal | None  # paid / budget, to four places; None: cannot be calculated
    unclaimed: Decimal | None  # budget - paid, floored at £0
    over: Decimal | None  # paid - budget when the PCN was paid more than its budget
    left_out: str | None  # one of the reasons above when `used` is None
    reason: str | None  # the same, for people, with the detail
    confirmed: bool
    status: str
    budget_formula: str
    in_post: RolesInPost | None = None
    notes: list[str] = field(default_factory=list)

    def as_row(self) -> dict:
        post = self.in_post
        return {
            "year": self.year,
            "pcn_code": self.pcn_code,
            "pcn_name": self.pcn_name,
            "ics": self.group or "",
            "budget": self.budget,
            "paid": self.paid,
            "used": self.used,
            "unclaimed": self.unclaimed,
            "over_claimed": self.over,
            "reason": self.reason or "",
            "arrs_fte_in_post": post.arrs_fte if post else None,
            "arrs_people_in_post": post.arrs_people if post else None,
            "census_date": post.census_date if post else None,
            "confirmed": self.confirmed,
            "status": self.status,
            "budget_formula": self.budget_formula,
            "note": "; ".join(self.notes),
        }


ROW_COLUMNS = list(
    PcnUtilisation("", "", "", None, None, None, None, None, None, None, None, True, "", "")
    .as_row()
    .keys()
)


@dataclass
class Rollup:
    """Sums over the PCNs of an ICS (or England) whose share can be calculated."""

    code: str
    name: str
    pcns: int  # PCNs counted
    budget: Decimal
    paid: Decimal
    unclaimed: Decimal  # sum of each PCN's unclaimed money (over-claims do not offset it)
    over: Decimal  # sum of over-claims
    used: Decimal | None  # paid / budget over the PCNs counted
    left_out: dict[str, int]  # reason -> PCNs
    over_claims: int  # PCNs paid more than their budget
    arrs_fte: Decimal | None  # census FTE in ARRS roles of the counted PCNs it lists, if any
    in_census: int = 0  # PCNs counted that the census lists
    paid_all: Decimal = Decimal("0.00")  # paid to every PCN whose payment is known, counted or not

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def as_row(self) -> dict:
        """Sums over no PCN are not £0.00: they are blank (cannot be calculated)."""
        some = self.pcns > 0
        return {
            "ics": self.code,
            "ics_name": self.name,
            "pcns_counted": self.pcns,
            "pcns_left_out": self.left_out_total,
            "budget": self.budget if some else None,
            "paid": self.paid if some else None,
            "used": self.used,
            "unclaimed": self.unclaimed if some else None,
            "over_claimed": self.over if some else None,
            "over_claims": self.over_claims,
            "paid_all_pcns": self.paid_all,
            "arrs_fte_in_post": self.arrs_fte,
            "pcns_in_census": self.in_census,
            "left_out": "; ".join(f"{k}: {v}" for k, v in sorted(self.left_out.items())),
        }


@dataclass
class Utilisation:
    year: str
    pcns: list[PcnUtilisation]
    groups: dict[str, Rollup]  # by ICS code ("" for PCNs with no ICS)
    national: Rollup
    status: str  # the ARRS rule's status
    confirmed: bool
    note: str
    source: str
    census_date: dt.date | None = None
    year_start: dt.date = dt.date.min

    @property
    def census_note(self) -> str | None:
        """Whether the census falls in the contract year: roles in post a year earlier say
        little about the year's claims."""
        if self.census_date is None:
            return None
        start = self.year_start
        inside = start <= self.census_date < dt.date(start.year + 1, start.month, 1)
        when = f"{self.census_date:%-d %B %Y}"
        if inside:
            return f"roles in post as at {when}, in {self.year}"
        return f"roles in post as at {when}, outside {self.year}: compare with care"


def share(paid: Decimal, budget: Decimal) -> Decimal:
    """paid ÷ budget as a fraction, rounded half-up to four places once."""
    return (paid / budget).quantize(SHARE, rounding=ROUND_HALF_UP)


def percent(value: Decimal | None) -> str:
    return "cannot be calculated" if value is None else f"{value * 100:.2f}%"


def utilisation(
    rules: YearRules,
    pops: Populations,
    paid: dict[str, Decimal | None],
    in_post: dict[str, RolesInPost] | None = None,
    groups: dict[str, str] | None = None,
    group_names: dict[str, str] | None = None,
    paid_reasons: dict[str, str] | None = None,
    total: tuple[str, str] = (NATIONAL, "England"),
) -> Utilisation:
    """Every PCN of `pops` and of `paid`: its budget for `rules`' year against `paid[pcn]`.
    `paid[pcn]` None means the payment is not known (`paid_reasons[pcn]` may say why); a PCN
    missing from `paid` has no payment recorded. `groups` maps PCN → ICS code for the ICS
    sums; `in_post` adds the census's roles in post beside each PCN. `total` names the sum over
    every PCN (code, name): England, or the area the populations cover."""
    a = rules.arrs
    if a is None:
        arrs.budget(rules, "", pops)  # raises the located "no ARRS rules" error
        raise AssertionError("unreachable")
    groups = groups or {}
    in_post = in_post or {}
    reasons = paid_reasons or {}
    in_pops = {
        p for m in months_between(a.start, a.end) for p, ps in pops.members.get(m, {}).items() if ps
    }
    rows = []
    for pcn in sorted(set(pops.pcn_codes()) | set(paid)):
        rows.append(_pcn(rules, pops, pcn, pcn in in_pops, paid, reasons, in_post, groups))
    names = {x.icb_code: x.icb_name for x in in_post.values()} | (group_names or {})
    by_group: dict[str, list[PcnUtilisation]] = {}
    for row in rows:
        by_group.setdefault(row.group or "", []).append(row)
    rolled = {
        code: _rollup(code, names.get(code, code or "no ICS recorded"), members, bool(in_post))
        for code, members in sorted(by_group.items())
    }
    return Utilisation(
        rules.year,
        rows,
        rolled,
        _rollup(*total, rows, bool(in_post)),
        a.status,
        a.confirmed,
        a.note,
        a.source,
        next(iter(in_post.values())).census_date if in_post else None,
        rules.start,
    )


def _pcn(rules, pops, pcn, budgeted, paid, reasons, in_post, groups) -> PcnUtilisation:
    a = rules.arrs
    amount = paid.get(pcn)
    post = in_post.get(pcn)
    group = groups.get(pcn) or (post.icb_code if post else None)
    name = pops.pcn_names.get(pcn) or (post.pcn_name if post else pcn)
    notes: list[str] = []
    b = arrs.budget(rules, pcn, pops) if budgeted else None
    left, reason = None, None
    if b is None:
        left, reason = NO_BUDGET, f"{NO_BUDGET}: not in the populations for {rules.year}"
    elif b.amount is None:
        left, reason = BUDGET_UNKNOWN, f"{BUDGET_UNKNOWN}: {b.formula}"
    elif b.missing:
        left = BUDGET_INCOMPLETE
        reason = f"{BUDGET_INCOMPLETE}: no {b.population_basis} list for {', '.join(b.missing)}"
    elif pcn not in paid:
        left = NO_RECORD
        reason = f"{NO_RECORD}: no practice's payments name this PCN in {rules.year}"
    elif amount is None:
        left = PAID_UNKNOWN
        reason = f"{PAID_UNKNOWN}: " + reasons.get(
            pcn, "the PCN was paid outside GP practices (e.g. through a federation)"
        )
    elif b.amount == 0:
        left, reason = ZERO_BUDGET, ZERO_BUDGET
    used = unclaimed = over = None
    if left is None:
        used = share(amount, b.amount)
        unclaimed = max(b.amount - amount, NIL)
        over = max(amount - b.amount, NIL)
        if over:
            notes.append(
                f"paid {money(over)} more than the calculated budget {money(b.amount)}"
                + ("" if b.confirmed else " (the budget's rate is not confirmed)")
                + "; not explained here (possibly another PCN's unclaimed money reallocated by "
                "the commissioner, or one payee paid for several PCNs: neither is checked)"
            )
        if amount < 0:
            notes.append(f"paid {money(amount)}: a net recovery or correction in the year")
    if post is None and in_post:
        notes.append("not in the workforce census: no roles in post recorded")
    elif post is not None:
        notes.append(post.text())
    if b is not None and not b.confirmed:
        notes.append(f"budget not confirmed: {STATUS_WORDS.get(b.status, b.status)}")
    return PcnUtilisation(
        year=rules.year,
        pcn_code=pcn,
        pcn_name=name,
        group=group,
        budget=None if b is None else b.amount,
        paid=amount,
        used=used,
        unclaimed=unclaimed,
        over=over,
        left_out=left,
        reason=reason,
        confirmed=False if b is None else b.confirmed,
        status=a.status if b is None else b.status,
        budget_formula="" if b is None else b.formula,
        in_post=post,
        notes=notes,
    )


def _rollup(code: str, name: str, rows: list[PcnUtilisation], census: bool) -> Rollup:
    counted = [r for r in rows if r.used is not None]
    budget = sum((r.budget for r in counted), NIL)
    paid = sum((r.paid for r in counted), NIL)
    fte = None
    if census and any(r.in_post for r in counted):
        fte = sum((r.in_post.arrs_fte for r in counted if r.in_post), Decimal(0))
    return Rollup(
        code=code,
        name=name,
        pcns=len(counted),
        budget=budget,
        paid=paid,
        unclaimed=sum((r.unclaimed for r in counted), NIL),
        over=sum((r.over for r in counted), NIL),
        used=share(paid, budget) if budget else None,
        left_out=dict(Counter(r.left_out for r in rows if r.left_out)),
        over_claims=sum(1 for r in counted if r.over),
        arrs_fte=fte,
        in_census=sum(1 for r in counted if r.in_post),
        paid_all=sum((r.paid for r in rows if r.paid is not None), NIL),
    )


def ics_groups(
    session: Session, pcn_codes: list[str], dates: list[dt.date]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each PCN's ICS (an ICB, an STP before July 2022) from the registry: PCN → CCG/sub-ICB
    → ICB, on the first of `dates` that places it; and the ICSs' names."""
    groups: dict[str, str] = {}
    names: dict[str, str] = {}
    left = set(pcn_codes)
    for when in dates:
        if not left:
            break
        h = Hierarchy.at(session, when)
        for code in sorted(left):
            pcn = h.by_code.get(code)
            if pcn is None:
                continue
            for sub in h.parents_of(pcn, kinds.SUB_ICB):
                icb = h.parent(sub, kinds.ICB)
                if icb is not None:
                    groups[code] = icb.code
                    names[icb.code] = h.name(icb)
                    break
        left -= set(groups)
    return groups, names


__all__ = [
    "BUDGET_INCOMPLETE",
    "BUDGET_UNKNOWN",
    "NATIONAL",
    "NO_BUDGET",
    "NO_RECORD",
    "PAID_UNKNOWN",
    "ROW_COLUMNS",
    "PcnUtilisation",
    "Rollup",
    "Utilisation",
    "ics_groups",
    "percent",
    "share",
    "utilisation",
]
