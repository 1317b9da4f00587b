"""Funding pages: what a PCN, a practice or an area is owed for a contract year, how each figure
was worked out, when it is paid, ARRS, the ledger and the reconciliation.

A thin shell over `pcnkit.funding`, called exactly as `pcnkit funding ...` calls it: the
populations come from the registry (`from_registry`), the lines from `entitlements`, payments
from `schedule`/`monthly`, ARRS from `arrs.budget`/`arrs.reimbursement`, the ledger from
`ledger.lines_paid`, the reconciliation from `reconcile.as_at`/`as_at_totals` and the summaries
(group totals, unconfirmed streams) from `summary`. Nothing here decides an amount; the views
only choose the lines of the organisation asked for and group them for display.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from pcnkit import spreadsheet
from pcnkit.access import scope
from pcnkit.access.users import COMMISSIONER
from pcnkit.dates import contract_year
from pcnkit.errors import PcnkitError
from pcnkit.funding import actuals as actual_payments
from pcnkit.funding import arrs, ledger
from pcnkit.funding.entitlements import EntitlementLine, Total, entitlements, total, totals
from pcnkit.funding.export import (
    ARRS_COLUMNS,
    ENTITLEMENT_COLUMNS,
    MONEY,
    MONEY_COLUMNS,
    PAYMENT_COLUMNS,
    RECONCILE_COLUMNS,
    cover,
    rules_title,
    write_xlsx,
)
from pcnkit.funding.populations import Populations, from_registry
from pcnkit.funding.reconcile import as_at, as_at_totals
from pcnkit.funding.rules import STATUS_WORDS, YearRules, known_years, rules_for, year_of
from pcnkit.funding.schedule import Payment, monthly, schedule
from pcnkit.funding.sources import public
from pcnkit.funding.summary import GroupTotal, by_pcn, group_totals, unconfirmed
from pcnkit.registry import kinds, queries
from pcnkit.registry.checks import long_date
from pcnkit.registry.queries import Hierarchy
from pcnkit.store.layout import year_slug
from pcnkit.store.models import Organisation
from pcnkit.web.context import Ctx
from pcnkit.web.views import funding_outcomes
from pcnkit.web.views.funding_obligations import obligations_block
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

# The ledger's own columns (`ledger.LINE_COLUMNS`), each code followed by the name `_ledger` adds.
_NAMES = {"payee_code": "payee_name", "stream": "stream_name"}
LEDGER_COLUMNS = [n for c in ledger.LINE_COLUMNS for n in (c, _NAMES.get(c)) if n]
BUDGET_COLUMNS = [
    "pcn_code",
    "budget",
    "claimable",
    "headroom",
    "planned_adds",
    "budget_formula",
    "budget_inputs",
    "rule_id",
    "rule_version",
    "status",
    "confirmed",
    "source",
    "roster",
    "staff",
]
AREA_ARRS_COLUMNS = [
    "pcn_code",
    "pcn_name",
    "budget",
    "claimable",
    "headroom",
    "staff",
    "budget_formula",
    "status",
    "confirmed",
]
AREA_COLUMNS_BEFORE = ["pcn_code", "pcn_name"]
# Money columns of every sheet (a £ number format in the workbook).
XLSX_MONEY = (
    MONEY
    | MONEY_COLUMNS
    | {
        "claimable",
        "annual_cost",
        "max_per_wte",
        "budget",
        "headroom",
        "planned_adds",
        "total",
    }
)


def roster_path(c: Ctx, year: str) -> Path:
    """Where a workspace keeps a year's ARRS staff roster: funding/arrs-staff-2019-20.csv."""
    return c.app.ws.layout.arrs_roster(year)


def _rules(c: Ctx, year: str | None) -> YearRules:
    return rules_for(year or _default_year(c.as_of)[0])


def _default_year(day: dt.date) -> tuple[str, str | None]:
    """The contract year a page shows when none is asked for: the one containing `day`, or,
    when pcnkit holds no rules for it, the nearest year it does hold, with a note saying so
    (a date after the latest rules is not an error)."""
    wanted, known = year_of(day), known_years()
    if wanted in known:
        return wanted, None
    shown = max((y for y in known if y <= wanted), default=known[0])
    return shown, (
        f"pcnkit holds no funding rules for {wanted}, the contract year of "
        f"{long_date(day)}; this page shows {shown}, the nearest year it has rules for."
    )


def _entitlements(c: Ctx, rules: YearRules, area: str) -> tuple[Populations, list[EntitlementLine]]:
    """`from_registry` for the PCNs of `area` only (a PCN's page needs its own lines, not all of
    the ICB's), then `entitlements`, exactly as `pcnkit funding entitlements --area` does;
    remembered until the registry changes. The lines are shared: never change them."""

    def make():
        pops = from_registry(c.db, rules, area)
        return pops, entitlements(pops, rules)

    key = ("entitlements", rules.year, rules.version, area)
    return c.memo(key, make, per_user=False, dated=False)


def _kind(org: Organisation) -> str:
    if org.kind == kinds.PCN:
        return "pcn"
    if org.kind == kinds.PRACTICE:
        return "practice"
    return "area"


def _links(c: Ctx, code: str, year: str, parts, kind: str = "area") -> dict:
    base = f"/funding/{code}"
    paid = actual_payments.loaded_years(c.db) if kind != "practice" else []
    return {
        "page": c.url(base, year=year),
        "api": c.url(f"/api{base}", year=year),
        "xlsx": c.url(f"{base}/download.xlsx", year=year),
        "csv": {p: c.url(f"{base}/download.csv", part=p, year=year) for p in parts},
        # entitled against actually paid, in the year shown if its payments file is loaded
        "actuals": c.url(f"{base}/actuals", year=year if year in paid else None) if paid else None,
    }


# ---------------------------------------------------------------------------------------------
# Pieces shared by the PCN and practice pages


def _streams(rules: YearRules, lines: list[EntitlementLine]) -> list[dict]:
    """One row per stream: its amount (the sum of its lines) and everything needed to say how
    it was calculated, with the underlying lines."""
    amounts = totals(lines)
    out = []
    for sid, stream in rules.streams.items():
        mine = [line for line in lines if line.stream == sid]
        if not mine:
            continue
        rows = []
        for line in mine:
            row = line.as_row()
            row["source"], row["note"] = public(line.source), public(line.note)
            rows.append(row)
        out.append(
            {
                "stream": sid,
                "name": stream.name,
                "amount": amounts[sid].amount,
                "total": _total(amounts[sid]),
                "rule_id": mine[0].rule_id,
                "rule_version": mine[0].rule_version,
                "confirmed": stream.confirmed,
                "status": stream.status,
                "status_words": STATUS_WORDS[stream.status],
                "basis": stream.basis,
                "rate": stream.rate,
                "rate_period": stream.rate_period,
                "rate_text": stream.rate_text,
                "rule": stream.formula(),
                "source": public(stream.source),
                "note": public(stream.note),
                "lines": rows,
            }
        )
    return out


def _total(t: Total) -> dict:
    """A total for the page and JSON: its amount (None: cannot be calculated), whether it is
    complete, and what is missing."""
    return {"amount": t.amount, "complete": t.complete, "gaps": list(t.gaps)}


def _unconfirmed(lines: list[EntitlementLine]) -> list[dict]:
    return [
        {"stream": u.stream, "name": u.name, "status": u.status, "words": u.words}
        for u in unconfirmed(lines)
    ]


def _covering(months: list[dt.date]) -> str:
    span = f"{months[0]:%b %Y}"
    return span + (f" to {months[-1]:%b %Y}" if len(months) > 1 else "")


def _schedule(c: Ctx, payments: list[Payment]) -> list[dict]:
    """The monthly schedule (`schedule.monthly`): each payment month's amount and the service
    months it covers."""
    return [
        {
            "payment_month": m.payment_month,
            "amount": m.amount,
            "service_months": list(m.service_months),
            "covering": _covering(list(m.service_months)),
            "due_by_as_of": m.payment_month <= c.as_of,
        }
        for m in monthly(payments)
    ]


def _ledger(c: Ctx, rules: YearRules, org: Organisation) -> dict:
    """Ledger lines of the year paid in months up to the as-of date (`ledger.lines_paid`): to
    or for the PCN (its own lines and its practices'), or to or for the practice."""
    if org.kind == kinds.PCN:
        found = ledger.lines_paid(c.db, rules.year, c.as_of, pcn_code=org.code)
    else:
        found = ledger.lines_paid(c.db, rules.year, c.as_of, practice_code=org.code)
    rows = [dict(row) for row in found]  # `ledger.LINE_COLUMNS`; names are added below
    for row in rows:
        row["payee_name"] = (
            c.hierarchy.name(c.hierarchy.by_code[row["payee_code"]])
            if (row["payee_code"] in c.hierarchy.by_code)
            else ""
        )
        stream = rules.streams.get(row["stream"])
        row["stream_name"] = stream.name if stream else row["stream"].replace("_", " ")
    return {
        "lines": rows,
        "total": sum((r["amount"] for r in rows), Decimal(0)),
        "as_of": c.as_of,
    }


def _reconciliation(c: Ctx, rules: YearRules, lines: list[EntitlementLine]) -> dict:
    """`reconcile.as_at` for the organisation's lines: the year's entitlement, and what was due,
    paid and still to pay as at the page's date (every figure at that one date)."""
    found = as_at(c.db, lines, rules, c.as_of)
    sums = as_at_totals(found)
    rows = [r.as_row() for r in found]
    for row in rows:
        # payees named as the ledger above names them (the name on the page's date), so one
        # practice does not carry two names on one page
        org = c.hierarchy.by_code.get(row["payee_code"])
        if org is not None:
            row["payee_name"] = c.hierarchy.name(org)
    entitlement = total(lines)
    return {
        "rows": rows,
        "as_of": c.as_of,
        "entitlement": entitlement.amount,
        "complete": entitlement.complete,
        "due": sums.due,
        "paid": sums.paid,
        "outstanding": sums.outstanding,
    }


def _claim(line: arrs.ArrsLine) -> dict:
    row = {col: getattr(line, col, None) for col in ARRS_COLUMNS}
    row.update(
        role_name=line.role_name,
        status=line.status,
        source=public(line.source),
        rule_version=line.rule_version,
        first_month=line.first_month,
        last_month=line.last_month,
    )
    if row.get("note"):
        row["note"] = public(row["note"])
    return row


def _arrs(c: Ctx, rules: YearRules, code: str, pops: Populations) -> dict:
    """The PCN's ARRS budget, and its staff claims and headroom when the workspace holds a
    roster for the year (funding/arrs-staff-YYYY-YY.csv). Problems with the roster or the rules
    are reported on the page, naming the file, row and column."""
    path = roster_path(c, rules.year)
    shown = f"funding/{path.name}"
    out: dict = {
        "roster": shown,
        "roster_loaded": False,
        "staff_recorded": False,
        "staff": arrs.NO_STAFF,
        "error": None,
        "budget": None,
        "claims": [],
        "planned": [],
        "total": None,
        "headroom": None,
        "planned_adds": None,
        "budget_capped": False,
        "confirmed": None,
        "notes": [],
        "payments": [],
    }
    try:
        budget = arrs.budget(rules, code, pops)
    except PcnkitError as exc:
        out["error"] = str(exc)
        return out
    out["budget"] = asdict(budget)
    for key in ("source", "note"):
        if isinstance(out["budget"].get(key), str):
            out["budget"][key] = public(out["budget"][key])
    out["confirmed"] = budget.confirmed
    out["notes"] = [public(n) for n in budget.notes]
    try:
        staff = arrs.read_staff_csv(path) if path.exists() else []
        result = arrs.reimbursement(rules, staff, code, pops, include_planned=True)
    except PcnkitError as exc:
        out["error"] = str(exc).replace(str(path), shown)
        return out
    out.update(
        roster_loaded=path.exists(),
        staff_recorded=result.staff_recorded,
        staff=result.staff_text,
        claims=[_claim(x) for x in result.lines],
        planned=[_claim(x) for x in result.planned.lines] if result.planned else [],
        total=result.total,
        headroom=result.headroom,
        planned_adds=result.planned.adds if result.planned else None,
        budget_capped=result.budget_capped,
        confirmed=result.confirmed,
        notes=[public(n) for n in result.notes],
        payments=[
            {
                "payment_month": p.payment_month,
                "service_month": p.service_months[0],
                "pcn_code": p.pcn_code,
                "role": p.stream,
                "amount": p.amount,
            }
            for p in result.schedule()
        ],
    )
    return out


def _area_arrs(c: Ctx, rules: YearRules, pops: Populations, names: dict[str, str]) -> dict:
    """Every PCN of the area's ARRS budget, claims and headroom (`arrs.every_pcn`), whether or
    not the roster has staff for it: a PCN with no staff recorded has its whole budget as
    headroom. A bad roster is reported and the budgets are still shown, without claims."""
    path = roster_path(c, rules.year)
    shown = f"funding/{path.name}"
    out: dict = {"roster": shown, "roster_loaded": path.exists(), "error": None, "pcns": []}
    if rules.arrs is None:
        out["error"] = f"{rules.year} has no ARRS rules."
        return out
    staff = None
    try:
        staff = arrs.read_staff_csv(path) if path.exists() else None
        found = arrs.every_pcn(rules, pops, staff, area_only=True)
    except PcnkitError as exc:
        out["error"] = str(exc).replace(str(path), shown)
        out["roster_loaded"] = False
        found = arrs.every_pcn(rules, pops, None)
    for r in found.results:
        out["pcns"].append(
            {
                "pcn_code": r.pcn_code,
                "pcn_name": names.get(r.pcn_code) or pops.pcn_names.get(r.pcn_code, r.pcn_code),
                "budget": r.budget.amount,
                "claimable": r.total if r.staff_recorded else None,
                "headroom": r.headroom,
                "staff": r.staff_text,
                "staff_recorded": r.staff_recorded,
                "budget_formula": r.budget.formula,
                "status": r.budget.status,
                "confirmed": r.confirmed,
            }
        )
    budgets = [p["budget"] for p in out["pcns"]]
    known = [b for b in budgets if b is not None]
    out["budget"] = {
        "amount": sum(known, Decimal(0)) if known else None,
        "complete": len(known) == len(budgets),
        "gaps": [] if len(known) == len(budgets) else ["a PCN's ARRS budget is unknown"],
    }
    out["claimable"] = sum((r.total for r in found.results), Decimal(0))
    out["headroom"] = sum(
        (p["headroom"] for p in out["pcns"] if p["headroom"] is not None), Decimal(0)
    )
    out["no_staff"] = sum(1 for p in out["pcns"] if not p["staff_recorded"])
    out["left_out"] = [{"pcn_code": k, "why": v} for k, v in sorted(found.left_out.items())]
    a = rules.arrs
    out["rule"] = {
        "status": a.status,
        "status_words": STATUS_WORDS[a.status],
        "confirmed": a.confirmed,
        "source": public(a.source),
        "note": public(a.note),
    }
    return out


# ---------------------------------------------------------------------------------------------
# The pages


def _practice_pcns(c: Ctx, org: Organisation, rules: YearRules) -> list[str]:
    """The PCNs a practice was a member of at any time in the contract year."""
    return queries.pcns_during(c.db, org, contract_year(rules.start))


def _pcn_or_practice(c: Ctx, org: Organisation, rules: YearRules) -> tuple[dict, dict]:
    """The page's data, and the downloadable tables by part."""
    h = c.hierarchy
    if org.kind == kinds.PRACTICE:
        # the lines of the PCN(s) it belonged to in the year, then only its own
        pops, lines = None, []
        for pcn_code in _practice_pcns(c, org, rules):
            found = _entitlements(c, rules, pcn_code)[1]
            lines += [x for x in found if x.practice_code == org.code]
    else:
        pops, lines = _entitlements(c, rules, org.code)
    payments = schedule(lines, rules)
    data: dict = {
        "streams": _streams(rules, lines),
        "total": _total(total(lines)),
        "unconfirmed": _unconfirmed(lines),
        "schedule": _schedule(c, payments),
        "ledger": _ledger(c, rules, org),
        "reconciliation": _reconciliation(c, rules, lines),
        "pcn": None,
        "arrs": None,
    }
    if org.kind == kinds.PCN:
        data["arrs"] = _arrs(c, rules, org.code, pops)
        data["obligations"] = obligations_block(c.db, rules, org.code)
        data["outcomes"] = funding_outcomes.section(c, org.code)
    else:
        # The PCN the year's lines were paid through (a practice that has since moved PCN
        # was paid through its old one that year), else the PCN it belongs to on the date.
        # A practice that moved PCN during the year was paid through each in turn: the link is
        # the first, and `when` names the months of each, so no PCN is left out.
        months: dict[str, list[dt.date]] = {}
        for x in lines:
            months.setdefault(x.pcn_code, []).extend((x.first_month, x.last_month))
        codes = sorted(months, key=lambda code: min(months[code]))
        pcn = h.by_code.get(codes[0]) if codes else None
        in_year = pcn is not None
        when = f"in {rules.year}" if in_year else None

        def span(code: str) -> str:
            return f"{min(months[code]):%B %Y} to {max(months[code]):%B %Y}"

        if when and len(codes) > 1:
            names = {code: getattr(h.by_code.get(code), "name", "") for code in codes[1:]}
            when += f": {span(codes[0])}; " + "; ".join(
                f"then of {names[code]} {code}, {span(code)}".replace("of  ", "of ")
                for code in codes[1:]
            )
        if pcn is None:
            pcn = h.parent(org, kinds.PCN)
        if pcn is not None:
            data["pcn"] = {
                **org_ref(c, pcn),
                "funding": c.url(f"/funding/{pcn.code}"),
                "when": when,
            }
    sheets = {
        "entitlements": (lambda: [x.as_row() for x in lines], ENTITLEMENT_COLUMNS),
        "schedule": (lambda: [p.as_row() for p in payments], PAYMENT_COLUMNS),
        "ledger": (data["ledger"]["lines"], LEDGER_COLUMNS),
        "reconciliation": (data["reconciliation"]["rows"], RECONCILE_COLUMNS),
    }
    if data["arrs"] is not None:
        a = data["arrs"]
        sheets["arrs"] = (a["claims"] + a["planned"], ARRS_COLUMNS)
        b = a["budget"] or {}
        sheets["arrs-budget"] = (
            [
                {
                    "pcn_code": org.code,
                    "budget": b.get("amount"),
                    "claimable": a["total"],
                    "headroom": a["headroom"],
                    "planned_adds": a["planned_adds"],
                    "budget_formula": b.get("formula"),
                    "budget_inputs": b.get("inputs"),
                    "rule_id": b.get("rule_id"),
                    "rule_version": b.get("rule_version"),
                    "status": b.get("status"),
                    "confirmed": a["confirmed"],
                    "source": b.get("source"),
                    "roster": a["roster"] if a["roster_loaded"] else "no roster loaded",
                    "staff": a["staff"],
                }
            ]
            if b
            else [],
            BUDGET_COLUMNS,
        )
    return data, sheets


def _place(c: Ctx, code: str) -> tuple[str, str]:
    """The place (borough) a PCN belongs to as at the page's date, else its CCG / sub-ICB:
    (code, name), or ("", "No place recorded")."""
    h = c.hierarchy
    pcn = h.by_code.get(code)
    if pcn is not None:
        for kind in (kinds.PLACE, kinds.SUB_ICB):
            parent = h.parent(pcn, kind)
            if parent is not None:
                return parent.code, h.name(parent)
    return "", "No place recorded"


def _area(c: Ctx, org: Organisation, rules: YearRules) -> tuple[dict, dict]:
    """Per-PCN totals by stream for the PCNs of an area, grouped by place (borough) with a
    subtotal for each, and the area's totals."""
    pops, lines = _entitlements(c, rules, org.code)
    streams = [
        {
            "stream": s.id,
            "name": s.name,
            "confirmed": s.confirmed,
            "status": s.status,
            "status_words": STATUS_WORDS[s.status],
            "rate_text": s.rate_text,
        }
        for s in rules.streams.values()
    ]
    ids = [s["stream"] for s in streams]
    per_pcn = group_totals(lines, by_pcn)
    h = c.hierarchy

    def row(group: GroupTotal) -> dict:
        return {
            "by_stream": {s: _total(group.stream(s)) for s in ids},
            "total": _total(group.total),
        }

    groups: dict[tuple[str, str], list[str]] = {}
    for code in per_pcn:
        groups.setdefault(_place(c, code), []).append(code)
    places, pcns = [], []
    for (place_code, place_name), codes in sorted(groups.items(), key=lambda g: g[0][1]):
        members = []
        for code in sorted(codes, key=lambda x: per_pcn[x].lines[0].pcn_name):
            mine = per_pcn[code]
            pcn = h.by_code.get(code)
            entry = {
                "code": code,
                "name": h.name(pcn) if pcn else mine.lines[0].pcn_name,
                "place": place_name,
                "can_open": code in c.reach,
                "funding": c.url(f"/funding/{code}", year=rules.year),
                **row(mine),
            }
            members.append(entry)
            pcns.append(entry)
        places.append(
            {
                "code": place_code,
                "name": place_name,
                "pcns": members,
                **row(GroupTotal([x for code in codes for x in per_pcn[code].lines])),
            }
        )
    grand = row(GroupTotal(list(lines)))
    data = {
        "streams": streams,
        "places": places,
        "pcns": pcns,
        "by_stream": grand["by_stream"],
        "total": grand["total"],
        "unconfirmed": _unconfirmed(lines),
        "arrs": _area_arrs(c, rules, pops, {p["code"]: p["name"] for p in pcns}),
    }
    columns = ["place", "pcn_code", "pcn_name", *ids, "total", "missing"]

    def flat(entry: dict, place: str, code: str, name: str) -> dict:
        out = {"place": place, "pcn_code": code, "pcn_name": name}
        out.update({s: entry["by_stream"][s]["amount"] for s in ids})
        out["total"] = entry["total"]["amount"]
        out["missing"] = "; ".join(entry["total"]["gaps"])
        return out

    summary = []
    for place in places:
        summary += [flat(p, place["name"], p["code"], p["name"]) for p in place["pcns"]]
        if len(places) > 1:  # one place: its subtotal is the total
            summary.append(flat(place, place["name"], "", f"{place['name']} subtotal"))
    summary.append(flat(grand, "", "", f"{h.name(org)} total"))
    sheets = {
        "entitlements": (lambda: [x.as_row() for x in lines], ENTITLEMENT_COLUMNS),
        "pcn-totals": (summary, columns),
        "schedule": (lambda: [p.as_row() for p in schedule(lines, rules)], PAYMENT_COLUMNS),
        "arrs-budgets": (data["arrs"]["pcns"], AREA_ARRS_COLUMNS),
    }
    return data, sheets


@dataclass(frozen=True)
class FundingPageBase(Page):
    """What every funding page shows: whose money, which contract year on which rules, as at
    which date, and the links to its JSON and downloads."""

    org: dict[str, Any]  # `org_ref`
    kind: str  # pcn, practice or area
    year: str
    years: list[str]
    rules: dict[str, Any]
    list_reference_date: dt.date
    as_of: dt.date
    year_note: str | None
    links: dict[str, Any]


@dataclass(frozen=True)
class FundingPage(FundingPageBase):
    """A PCN's or a practice's money: entitlements by stream and how each was worked out,
    the monthly schedule, the ledger, entitlement against the ledger, and a PCN's ARRS."""

    streams: list[dict[str, Any]]
    total: dict[str, Any]  # `_total`
    unconfirmed: list[dict[str, str]]
    schedule: list[dict[str, Any]]
    ledger: dict[str, Any]
    reconciliation: dict[str, Any]
    pcn: dict[str, Any] | None  # a practice's PCN
    arrs: dict[str, Any] | None  # a PCN's ARRS
    obligations: list[dict[str, Any]] | None = None  # a PCN's service obligations
    # a PCN's local outcome schemes (`funding_outcomes.section`)
    outcomes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FundingAreaPage(FundingPageBase):
    """An area's PCNs' totals by stream, grouped by place, and the area's totals."""

    streams: list[dict[str, Any]]
    places: list[dict[str, Any]]
    pcns: list[dict[str, Any]]
    by_stream: dict[str, dict[str, Any]]
    total: dict[str, Any]
    unconfirmed: list[dict[str, str]]
    arrs: dict[str, Any]  # `_area_arrs`: every PCN's ARRS budget and headroom


def _build(c: Ctx, code: str, year: str | None) -> tuple[FundingPageBase, dict]:
    """The page's data, and its tables by part (rows, or a function making them, and columns)."""
    org = c.org(code)  # 403 outside the user's scope, before anything is computed
    rules = _rules(c, year)
    _in_scope_that_year(c, org, rules)
    kind = _kind(org)
    if kind == "area":
        data, sheets = _area(c, org, rules)
    else:
        data, sheets = _pcn_or_practice(c, org, rules)
    page = (FundingAreaPage if kind == "area" else FundingPage)(
        org=org_ref(c, org),
        kind=kind,
        year=rules.year,
        years=known_years(),
        rules={"version": rules.version, "title": _rules_title(rules)},
        list_reference_date=rules.list_reference_date,
        as_of=c.as_of,
        year_note=None if year else _default_year(c.as_of)[1],
        links=_links(c, org.code, rules.year, sheets, kind),
        **data,
    )
    return page, sheets


def _in_scope_that_year(c: Ctx, org, rules: YearRules) -> None:
    """A contract year's money is decided at a date in that year too, not only at the date the
    user chose: a PCN formed in 2025 reaches a practice on 1 August 2025, but must not read
    that practice's 2019/20 entitlements and payments (made while it belonged to another PCN)
    by asking for year=2019/20 with on=2025-08-01. The user's own organisation and
    commissioners' areas (aggregates) are decided at the chosen date only."""
    if c.user.role == COMMISSIONER or org.code == c.user.scope_code:
        return
    year = contract_year(rules.start)
    if year.contains(c.as_of):
        return
    when = min(max(c.as_of, year.first), year.last)
    try:
        scope.require_org(Hierarchy.at(c.db, when), c.user, org.code)
    except scope.Forbidden as exc:
        raise scope.Forbidden(
            f"{exc} Funding for {rules.year} is decided by the organisations as they were in "
            f"that year (on {when.isoformat()}), not only on the date chosen."
        ) from exc


def funding_page(c: Ctx, code: str, year: str | None = None) -> FundingPageBase:
    """What `code` (a PCN, a practice or an area) is owed for the year, and how (memoised per
    scope, date and data version: the ledger and the roster are part of that version)."""
    key = ("funding", code.strip().upper(), year)
    return c.memo(key, lambda: _build(c, code, year)[0])


def _rules_title(rules: YearRules) -> str:
    return rules_title(rules)


def _cover(page: FundingPageBase, rules: YearRules) -> list[tuple[str, object]]:
    """The workbook's first sheet (`export.cover`) for the page's organisation and date."""
    org = page["org"]
    streams = page.get("streams") or []
    used = {s["stream"] for s in streams} if page["kind"] != "area" else set(rules.streams)
    return cover(
        f"{org['name']} ({org['code']})",
        rules,
        page["as_of"],
        Total(page["total"]["amount"], tuple(page["total"]["gaps"])),
        [(u["name"], u["status"]) for u in page.get("unconfirmed") or []],
        used,
    )


# Sheets whose money columns end with a totals row in the workbook ("pcn-totals" carries its
# own place subtotals and grand total).
TOTAL_SHEETS = {"entitlements", "schedule", "ledger", "reconciliation", "arrs", "arrs-budgets"}


def download(c: Ctx, code: str, year: str | None, part: str | None) -> tuple[bytes, str, str]:
    """One part as CSV (`part` given) or every part as an Excel workbook with a cover sheet:
    (content, media type, file name). Both are written by `pcnkit.spreadsheet`."""
    page, lazy = _build(c, code, year)
    sheets = {k: (rows() if callable(rows) else rows, cols) for k, (rows, cols) in lazy.items()}
    stem = f"funding-{page['org']['code']}-{year_slug(page['year'])}"
    if part is None:
        out = io.BytesIO()
        rules = _rules(c, page["year"])
        money = XLSX_MONEY | set(rules.streams)
        write_xlsx(out, sheets, money, cover=_cover(page, rules), totals=TOTAL_SHEETS)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return out.getvalue(), media, f"{stem}.xlsx"
    if part not in sheets:
        raise HTTPException(
            404,
            f"There is no '{part}' table for {page['org']['code']}; "
            f"choose one of: {', '.join(sheets)}.",
        )
    rows, columns = sheets[part]
    return spreadsheet.csv_download(columns, rows), "text/csv; charset=utf-8", f"{stem}-{part}.csv"


# For the page of entitled against actually paid (views.actuals), which shares these.
check_year_scope = _in_scope_that_year
area_entitlements = _entitlements
