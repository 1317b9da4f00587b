"""ARRS: a PCN's Additional Roles budget, what its staff may reclaim, and when it is paid.

The readings below decide the figures; each is stated so it can be checked against the DES.

- `annual_cost` is the cost of the post as worked: the payroll figure (salary plus employer NI
  and pension) for the member's actual hours, so it already reflects the WTE. Role maxima are
  per WTE, so a member's cap is `max_per_wte × wte`.
- The role maximum caps the amount reimbursed, not the cost:
  `claimable per month = min(rate × annual_cost / 12, max_per_wte × wte / 12)`.
  In 2019/20 the clinical pharmacist maximum £37,810 is already the 70% figure: "capped at
  £37,810 for 2019/2020, ... expected to cover 70% of the costs" (Pharmaceutical Journal, [S4]);
  the research note's table reads "£37,810 (70%)". Only this reading gives the published 2019/20
  budget (37,810 + 34,113) × 9/12 = £53,942.25 ([S6] "£53,942"); capping the cost and then
  applying 70% would hold a pharmacist to £26,467 a year. The 2019/20 rules file's role sources
  ("[S4], [S6]") do not say which; from 2020/21 the rate is 100% and the readings agree.
- A month is claimed when the member is in post on its first day, as PCN membership is read in
  `populations`: a starter on 15 July is claimed from August, a leaver on 15 March for March.
  There is no day pro-rating (the DES's own pro-rating was not read).
- 2019/20 (`roles_per_pcn`): the budget is the allowed number of each role × its maximum × the
  scheme's months / 12, doubled above `double_above` registered patients; the allowed number is
  applied as WTE per role per month, the earliest starters taking it first. Whether the DES
  counted posts or WTE was not read. From 2020/21 (`per_weighted_patient`): rate × the PCN's
  weighted population (its member practices in the scheme's first month) × months / 12.
- The PCN total is capped at its budget in month order, as claims are paid: the month in which
  the budget runs out is cut pro rata across that month's claims, later months get nothing.
- Rounding happens once, on running totals (`to_pence`): the total is the exact total rounded
  half-up; every month of every line is the difference of rounded running totals, so months add
  up to their line and lines to the total exactly (a line may differ by a penny from its own
  exact figure rounded alone, which `exact` shows).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pcnkit.dates import Period, add_months, months_between
from pcnkit.errors import InputError
from pcnkit.funding.money import decimal, money, to_pence
from pcnkit.funding.payment import Payment
from pcnkit.funding.populations import Populations
from pcnkit.funding.rules import ArrsRole, ArrsRules, YearRules
from pcnkit.registry.importers.base import Row, csv_rows, read_text

REQUIRED = ("pcn_code", "role", "wte", "start", "end", "annual_cost")
HEADER = "pcn_code,role,wte,start,end,annual_cost[,name][,planned]"
MAX_WTE = Decimal(2)
YES = {"yes", "y", "true", "1", "planned"}
NO = {"", "no", "n", "false", "0"}


def role_id(text: str) -> str:
    """'Clinical pharmacist' and 'clinical-pharmacist' both name `clinical_pharmacist`."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class StaffMember:
    """One ARRS post. `annual_cost` is the payroll cost of the post as worked (already × WTE)."""

    pcn_code: str
    role: str
    wte: Decimal
    start: dt.date
    end: dt.date | None
    annual_cost: Decimal
    name: str = ""
    planned: bool = False
    row: int | None = None
    file: str = ""  # where the member was read from, so later errors can point at the row

    def in_post(self, month: dt.date) -> bool:
        """In post on the month's first day: the month-counting rule of the whole engine."""
        return Period(self.start, self.end).contains(month)


# ---------------------------------------------------------------------------------------------
# Reading a staff list


def read_staff_csv(path: Path | str) -> list[StaffMember]:
    """Staff from `pcn_code,role,wte,start,end,annual_cost[,name][,planned]`; a bad cell is
    reported by file, row and column. Roles are checked against a year's rules later, because
    one staff list serves several years. A header with no rows is a roster with no staff yet:
    every PCN then has its whole budget as headroom."""
    path = Path(path)
    header, rows = csv_rows(path, read_text(path), exact=True, empty_ok=True)
    columns = {h.strip().lower(): h for h in header}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            str(path),
            f"has no column {', '.join(repr(c) for c in missing)}",
            f"The header must be: {HEADER}.",
        )
    staff = []
    for r in rows:
        staff.append(_member(path, r, columns))
    return staff


def _member(path: Path, r: Row, columns: dict[str, str]) -> StaffMember:
    wte = _number(r, columns["wte"], "a whole-time equivalent such as 1.0 or 0.6")
    if not (0 < wte <= MAX_WTE):
        raise r.error(
            columns["wte"],
            f"{wte} is not a whole-time equivalent above 0 and at most {MAX_WTE}",
            "Give the post's WTE: 1.0 full time, 0.5 half time.",
        )
    start = r.date(columns["start"])
    if start is None:
        raise r.error(
            columns["start"],
            "is blank; expected the date the member started or will start",
            "Fill in the start date, e.g. 2019-07-01.",
        )
    end = r.date(columns["end"])
    if end is not None and end < start:
        raise r.error(
            columns["end"],
            f"the end {end} is before the start {start}",
            "Correct the dates, or leave the end blank while the member is in post.",
        )
    cost = _number(r, columns["annual_cost"], "the post's annual cost in pounds")
    if cost < 0:
        raise r.error(
            columns["annual_cost"],
            f"{cost} is negative",
            "Give the annual salary plus employer on-costs of the post as worked.",
        )
    return StaffMember(
        pcn_code=r.code(columns["pcn_code"], "a PCN code"),
        role=role_id(r.required(columns["role"], "an ARRS role such as clinical_pharmacist")),
        wte=wte,
        start=start,
        end=end,
        annual_cost=cost,
        name=r.text(columns["name"]) if "name" in columns else "",
        planned=_flag(r, columns["planned"]) if "planned" in columns else False,
        row=r.number,
        file=str(path),
    )


def _number(r: Row, column: str, what: str) -> Decimal:
    text = r.required(column, what)
    try:
        return decimal(text, column)
    except ValueError as exc:
        raise r.error(column, f"'{text}' is not a number; expected {what}", "Correct it.") from exc


def _flag(r: Row, column: str) -> bool:
    text = r.text(column).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise r.error(
        column,
        f"'{r.text(column)}' is not yes or no",
        "Write 'yes' for a planned recruit, 'no' or blank for a member in post.",
    )


# ---------------------------------------------------------------------------------------------
# Budget


@dataclass
class Budget:
    """The most a PCN may reclaim in the year, with the formula and figures that set it."""

    year: str
    pcn_code: str
    method: str
    amount: Decimal | None  # None when a role maximum it depends on is not known
    exact: Decimal | None
    first_month: dt.date
    last_month: dt.date
    months: int
    population: Decimal
    population_basis: str
    role_limits: dict[str, Decimal]  # WTE claimable per role each month (2019/20 only)
    formula: str
    inputs: str
    rule_id: str
    rule_version: int
    status: str
    confirmed: bool
    source: str
    note: str = ""  # the rules file's ARRS note (why a status is not confirmed)
    notes: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # member practices with no list held


def _arrs(rules: YearRules) -> ArrsRules:
    if rules.arrs is None:
        raise InputError(
            rules.file,
            f"{rules.year} has no ARRS rules",
            "Add an 'arrs:' block to the rules file, or choose another year.",
        )
    return rules.arrs


def _population(
    arrs: ArrsRules, pcn_code: str, pops: Populations, basis: str
) -> tuple[Decimal, str, list[str], list[str]]:
    """The PCN's list on `basis` summed over its members in the scheme's first month it has any
    (a PCN formed mid-year is sized when it starts)."""
    for month in months_between(arrs.start, arrs.end):
        codes = pops.members.get(month, {}).get(pcn_code)
        if codes:
            break
    else:
        raise InputError(
            pops.origin,
            f"PCN {pcn_code} has no member practices between {arrs.start:%Y-%m} and "
            f"{arrs.end:%Y-%m}",
            "Check the PCN code, or load the populations for this contract year.",
        )
    total, missing, dates = Decimal(0), [], set()
    for code in sorted(codes):
        lists = pops.practices[code]
        if basis in lists.values:
            total += lists.values[basis]
            dates.add(lists.dates.get(basis))
        else:
            missing.append(code)
    notes = [f"no {basis} list held for {', '.join(missing)}"] if missing else []
    span = ", ".join(sorted(str(d) for d in dates if d)) or "unknown dates"
    inputs = f"{basis} list {total:,} of {len(codes)} practice(s) in {month:%Y-%m}, as at {span}"
    return total, inputs, notes, missing


def budget(rules: YearRules, pcn_code: str, pops: Populations) -> Budget:
    """The PCN's ARRS budget for the year, rounded half-up to pence once."""
    arrs = _arrs(rules)
    months = months_between(arrs.start, arrs.end)
    n = len(months)
    if arrs.method == "roles_per_pcn":
        basis = "registered"
        population, inputs, notes, missing = _population(arrs, pcn_code, pops, basis)
        # the rules reader keeps double_above as written; compare it as a number
        above = None if arrs.double_above is None else decimal(arrs.double_above, "double_above")
        double = above is not None and population > above
        factor = 2 if double else 1
        limits = {r: Decimal(count * factor) for r, count in arrs.roles_per_pcn.items()}
        unknown = [r for r in limits if r not in arrs.roles or arrs.roles[r].max_per_wte is None]
        terms = " + ".join(
            f"{limits[r]} x £{arrs.roles[r].max_per_wte:,} {r}"
            if r not in unknown
            else f"{limits[r]} x £? {r}"
            for r in limits
        )
        size = (
            f"registered list {population:,} > {above:,}: two of each"
            if double
            else f"registered list {population:,}"
            + (f" <= {above:,}: one of each" if above is not None else "")
        )
        if unknown:
            exact = None
            notes.append(f"no maximum is configured for {', '.join(unknown)}: budget unknown")
            formula = f"({terms}) x {n}/12; {size}"
        else:
            exact = (
                sum((limits[r] * arrs.roles[r].max_per_wte for r in limits), Decimal(0)) * n / 12
            )
            formula = f"({terms}) x {n}/12 = {exact:.4f}, rounded half-up; {size}"
        confirmed = (
            arrs.confirmed
            and not unknown
            and all(arrs.roles[r].confirmed for r in limits if r in arrs.roles)
        )
    else:
        basis = "weighted"
        population, inputs, notes, missing = _population(arrs, pcn_code, pops, basis)
        limits = {}
        if arrs.rate_per_weighted_patient is None:
            exact = None
            formula = (
                f"no confirmed {rules.year} rate per weighted patient: the budget is "
                f"unknown ({population:,} weighted patients)"
            )
            confirmed = False
        else:
            exact = arrs.rate_per_weighted_patient * population * n / 12
            formula = (
                f"£{arrs.rate_per_weighted_patient} x {population:,} weighted patients x {n}/12"
                f" = {exact:.4f}, rounded half-up"
            )
            confirmed = arrs.confirmed
    return Budget(
        year=rules.year,
        pcn_code=pcn_code,
        method=arrs.method,
        amount=None if exact is None else to_pence(exact),
        exact=exact,
        first_month=months[0],
        last_month=months[-1],
        months=n,
        population=population,
        population_basis=basis,
        role_limits=limits,
        formula=formula,
        inputs=inputs,
        rule_id=f"{rules.year}/arrs",
        rule_version=rules.version,
        status=arrs.status,
        confirmed=confirmed,
        source=arrs.source,
        note=arrs.note,
        notes=notes,
        missing=missing,
    )


# ---------------------------------------------------------------------------------------------
# Reimbursement


@dataclass
class ArrsLine:
    """What one staff member may reclaim in the year, and which limits cut it."""

    year: str
    pcn_code: str
    name: str
    role: str
    role_name: str
    wte: Decimal
    start: dt.date
    end: dt.date | None
    planned: bool
    row: int | None
    months: int  # scheme months in post on the 1st
    first_month: dt.date | None
    last_month: dt.date | None
    annual_cost: Decimal
    cost: Decimal  # annual_cost x months / 12, exact
    reimbursement_rate: Decimal
    max_per_wte: Decimal | None
    cap: Decimal | None  # max_per_wte x wte x months / 12, exact
    exact: Decimal  # claimable before rounding
    claimable: Decimal
    capped: bool  # the role maximum bound
    wte_limited: bool  # the 2019/20 number of posts per role bound
    budget_cut: Decimal  # taken off by the PCN budget cap, exact
    monthly: dict[dt.date, Decimal]  # service month -> amount (pence, from running totals)
    rule_id: str
    rule_version: int
    status: str
    confirmed: bool
    source: str
    formula: str
    note: str = ""


@dataclass
class PlannedEffect:
    """What planned recruits would add, kept apart from the claims of staff in post."""

    lines: list[ArrsLine]  # the planned recruits' own lines, with everyone claimed together
    adds: Decimal  # total with planned recruits - total without
    total: Decimal
    headroom: Decimal | None


@dataclass
class ArrsResult:
    year: str
    pcn_code: str
    budget: Budget
    lines: list[ArrsLine]
    total: Decimal
    headroom: Decimal | None  # budget - claimable: what the PCN loses if it does not recruit
    budget_capped: bool
    payment_lag: int
    confirmed: bool
    planned: PlannedEffect | None = None
    notes: list[str] = field(default_factory=list)
    staff_recorded: bool = True  # False: the roster has no rows for the PCN, or there is none

    def schedule(self) -> list[Payment]:
        return schedule(self)

    @property
    def staff_text(self) -> str:
        """What the claims rest on, for people: "no staff recorded" is not "no staff in post"."""
        if not self.staff_recorded:
            return NO_STAFF
        posts = len(self.lines) + (len(self.planned.lines) if self.planned else 0)
        return f"{posts} post{'s' if posts != 1 else ''} recorded"


NO_STAFF = "no staff recorded"


@dataclass
class ArrsArea:
    """Every PCN's ARRS for a year: its budget and full headroom even when no staff are recorded
    for it, and the PCNs whose budget could not be worked out, with why."""

    year: str
    results: list[ArrsResult]
    left_out: dict[str, str]  # PCN code -> why it has no budget this year
    roster: bool  # a staff roster was given (possibly empty)
    outside: int = 0  # roster rows of PCNs outside the area, ignored (`area_only`)


def schedule(result: ArrsResult) -> list[Payment]:
    """Each service month's reimbursement per role (the payment's stream), paid to the PCN
    `payment_lag` months later; the amounts add up to the result's total exactly."""
    sums: dict[tuple[dt.date, str], Decimal] = defaultdict(Decimal)
    confirmed: dict[str, bool] = {}
    for line in result.lines:
        confirmed[line.role] = confirmed.get(line.role, True) and line.confirmed
        for month, amount in line.monthly.items():
            sums[(month, line.role)] += amount
    return [
        Payment(
            result.year,
            add_months(month, result.payment_lag),
            result.pcn_code,
            result.pcn_code,
            None,
            role,
            [month],
            amount,
            f"{result.year}/arrs/{role}",
            confirmed[role],
        )
        for (month, role), amount in sorted(sums.items())
        if amount
    ]


def _role(rules: YearRules, member: StaffMember) -> ArrsRole:
    arrs = _arrs(rules)
    if member.role not in arrs.roles:
        raise InputError(
            member.file or "staff list",
            f"'{member.role}' is not an ARRS role in {rules.year}",
            f"Use one of: {', '.join(arrs.roles)}.",
            row=member.row,
            column="role",
        )
    return arrs.roles[member.role]


def reimbursement(
    rules: YearRules,
    staff: list[StaffMember],
    pcn_code: str,
    pops: Populations,
    *,
    include_planned: bool = False,
) -> ArrsResult:
    """The PCN's claimable reimbursement for its staff in post, capped by role maxima, the
    2019/20 number of posts and the budget; planned recruits are reported separately."""
    arrs = _arrs(rules)
    mine = [s for s in staff if s.pcn_code.upper() == pcn_code.upper()]
    for member in mine:
        _role(rules, member)
    b = budget(rules, pcn_code, pops)
    in_post = [s for s in mine if not s.planned]
    lines, total, capped = _claims(rules, b, in_post)
    notes = list(b.notes)
    planned = None
    recruits = [s for s in mine if s.planned]
    if include_planned:
        everyone, with_planned, _ = _claims(rules, b, mine)
        planned = PlannedEffect(
            lines=[line for line in everyone if line.planned],
            adds=with_planned - total,
            total=with_planned,
            headroom=None if b.amount is None else b.amount - with_planned,
        )
    elif recruits:
        notes.append(f"{len(recruits)} planned recruit(s) not counted (include_planned=False)")
    if b.amount is None:
        notes.append("the budget is unknown, so the total is not capped and has no headroom")
    if not mine:
        notes.append(
            f"{NO_STAFF}: no claims are counted, so the headroom is the whole budget "
            "(this does not mean no staff are in post)"
        )
    return ArrsResult(
        year=rules.year,
        pcn_code=pcn_code,
        budget=b,
        lines=lines,
        total=total,
        headroom=None if b.amount is None else b.amount - total,
        budget_capped=capped,
        payment_lag=arrs.payment_lag,
        confirmed=b.confirmed and all(line.confirmed for line in lines),
        planned=planned,
        notes=notes,
        staff_recorded=bool(mine),
    )


def every_pcn(
    rules: YearRules,
    pops: Populations,
    staff: list[StaffMember] | None = None,
    *,
    include_planned: bool = False,
    area_only: bool = False,
) -> ArrsArea:
    """ARRS for every PCN of `pops` and every PCN the roster names: a PCN with no staff rows
    (or no roster at all, `staff=None`) gets its budget with no claims, so its headroom is the
    whole budget. A roster PCN outside the populations is an error, as in `reimbursement`; a
    PCN of the populations with no member practice in the scheme's months is left out, with
    why (it closed before the scheme started, or opened after it ended). With `area_only` (the
    populations are one area's), roster rows of PCNs outside the populations are ignored and
    counted instead."""
    arrs = _arrs(rules)
    members = staff or []
    ignored = 0
    if area_only:
        inside = set(pops.pcn_codes())
        ignored = sum(1 for m in members if m.pcn_code.upper() not in inside)
        members = [m for m in members if m.pcn_code.upper() in inside]
    rostered = {m.pcn_code.upper() for m in members}
    months = months_between(arrs.start, arrs.end)
    by_pcn: dict[str, list[StaffMember]] = defaultdict(list)
    for m in members:  # each PCN reads only its own rows: a national roster stays fast
        by_pcn[m.pcn_code.upper()].append(m)
    results, left_out = [], {}
    for pcn in sorted(set(pops.pcn_codes()) | rostered):
        if pcn not in rostered and not any(pops.members.get(m, {}).get(pcn) for m in months):
            left_out[pcn] = (
                f"no member practices between {arrs.start:%Y-%m} and {arrs.end:%Y-%m}, "
                "the ARRS months of the year"
            )
            continue
        results.append(
            reimbursement(rules, by_pcn.get(pcn, []), pcn, pops, include_planned=include_planned)
        )
    return ArrsArea(rules.year, results, left_out, staff is not None, ignored)


def _claims(
    rules: YearRules, b: Budget, members: list[StaffMember]
) -> tuple[list[ArrsLine], Decimal, bool]:
    """Lines for `members` (in their given order), the rounded total, and whether the budget
    bound. Works month by month in exact Decimals; rounds once at the end."""
    arrs = _arrs(rules)
    months = months_between(arrs.start, arrs.end)
    roles = [_role(rules, m) for m in members]
    claims: list[dict[dt.date, Decimal]] = [{} for _ in members]
    capped = [False] * len(members)
    for i, (m, role) in enumerate(zip(members, roles, strict=True)):
        for month in months:
            if not m.in_post(month):
                continue
            claim = role.reimbursement_rate * m.annual_cost / 12
            if role.max_per_wte is not None:
                cap = role.max_per_wte * m.wte / 12
                if claim > cap:
                    claim, capped[i] = cap, True
            claims[i][month] = claim

    limited = [False] * len(members)
    if arrs.method == "roles_per_pcn":
        # staff in post before planned recruits, then earliest starters first
        order = sorted(
            range(len(members)),
            key=lambda i: (members[i].planned, members[i].start, members[i].row or 0, i),
        )
        for month in months:
            left = dict(b.role_limits)
            for i in order:
                if month not in claims[i]:
                    continue
                allowed = min(members[i].wte, left.get(members[i].role, Decimal(0)))
                left[members[i].role] = left.get(members[i].role, Decimal(0)) - allowed
                if allowed < members[i].wte:
                    claims[i][month] *= allowed / members[i].wte
                    limited[i] = True

    cut = [Decimal(0)] * len(members)
    budget_bound = False
    if b.amount is not None:
        running = Decimal(0)
        for month in months:
            month_total = sum((c.get(month, Decimal(0)) for c in claims), Decimal(0))
            if running + month_total > b.amount:
                budget_bound = True
                factor = (b.amount - running) / month_total
                for i, c in enumerate(claims):
                    if month in c:
                        cut[i] += c[month] * (1 - factor)
                        c[month] *= factor
                running = b.amount
            else:
                running += month_total

    # one rounding step: running totals, month by month, line by line
    rounded: list[dict[dt.date, Decimal]] = [{} for _ in members]
    running, paid = Decimal(0), Decimal("0.00")  # money: "0.00" when nothing is claimed
    for month in months:
        for i, c in enumerate(claims):
            if month in c:
                running += c[month]
                rounded[i][month] = to_pence(running) - paid
                paid += rounded[i][month]

    lines = [
        _line(rules, b, m, role, claims[i], rounded[i], capped[i], limited[i], cut[i])
        for i, (m, role) in enumerate(zip(members, roles, strict=True))
    ]
    return lines, paid, budget_bound


def _line(
    rules: YearRules,
    b: Budget,
    m: StaffMember,
    role: ArrsRole,
    claims: dict[dt.date, Decimal],
    rounded: dict[dt.date, Decimal],
    capped: bool,
    limited: bool,
    cut: Decimal,
) -> ArrsLine:
    arrs = _arrs(rules)
    months = sorted(claims)
    n = len(months)
    exact = sum(claims.values(), Decimal(0))
    cost = m.annual_cost * n / 12
    cap = None if role.max_per_wte is None else role.max_per_wte * m.wte * n / 12
    rate = f"{(role.reimbursement_rate * 100).normalize():f}%"
    if role.max_per_wte is None:
        formula = f"{rate} x £{m.annual_cost:,}/12 x {n} months (no maximum configured)"
    else:
        formula = (
            f"min({rate} x £{m.annual_cost:,}/12, £{role.max_per_wte:,} x {m.wte} WTE/12)"
            f" x {n} months"
        )
    notes = []
    if n == 0:
        notes.append(f"not in post on the first of any month {arrs.start:%Y-%m}..{arrs.end:%Y-%m}")
    if capped:
        notes.append(f"capped at the {rules.year} maximum {money(role.max_per_wte)} per WTE")
    if role.max_per_wte is None:
        notes.append("no maximum configured for this role: claimed uncapped, unconfirmed")
    if limited:
        allowed = b.role_limits.get(m.role, Decimal(0))
        notes.append(
            f"over the {rules.year} limit of {allowed} WTE {m.role} per PCN "
            "(earlier starters claim first)"
        )
    if cut:
        notes.append(f"{money(to_pence(cut))} over the PCN budget {money(b.amount)}")
    if limited or cut:
        formula += ", then limited"
    formula += f" = {exact:.4f}"
    return ArrsLine(
        year=rules.year,
        pcn_code=m.pcn_code,
        name=m.name,
        role=m.role,
        role_name=role.name,
        wte=m.wte,
        start=m.start,
        end=m.end,
        planned=m.planned,
        row=m.row,
        months=n,
        first_month=months[0] if months else None,
        last_month=months[-1] if months else None,
        annual_cost=m.annual_cost,
        cost=cost,
        reimbursement_rate=role.reimbursement_rate,
        max_per_wte=role.max_per_wte,
        cap=cap,
        exact=exact,
        claimable=sum(rounded.values(), Decimal(0)),
        capped=capped,
        wte_limited=limited,
        budget_cut=cut,
        monthly=rounded,
        rule_id=f"{rules.year}/arrs/{m.role}",
        rule_version=rules.version,
        status=role.status,
        confirmed=role.confirmed and arrs.confirmed,
        source=role.source,
        formula=formula,
        note="; ".join(notes),
    )


__all__ = [
    "NO_STAFF",
    "ArrsArea",
    "ArrsLine",
    "ArrsResult",
    "Budget",
    "Payment",
    "PlannedEffect",
    "StaffMember",
    "budget",
    "every_pcn",
    "read_staff_csv",
    "reimbursement",
    "role_id",
    "schedule",
]
