"""Entitled against actually paid, for each PCN of an area (or one PCN), in a year NHS England's
payments files cover, with ARRS money left unclaimed: a thin shell over
`funding.against_actuals.reconcile` and `funding.arrs.budget` with `funding.actuals.paid`.
Nothing here decides an amount or a category; the view groups them by PCN for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import HTTPException

from pcnkit.dates import financial_year_start, year_label
from pcnkit.funding import actuals as actual_payments
from pcnkit.funding import against_actuals
from pcnkit.funding import columns as payment_columns
from pcnkit.funding.rules import known_years, rules_for
from pcnkit.funding.utilisation import (
    BUDGET_INCOMPLETE,
    BUDGET_UNKNOWN,
    NO_BUDGET,
    NO_RECORD,
    PAID_UNKNOWN,
    ZERO_BUDGET,
    percent,
    utilisation,
)
from pcnkit.registry import kinds
from pcnkit.web.context import Ctx
from pcnkit.web.views import funding as funding_views
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

# What each explanation category means, for the page's key.
MEANINGS = {
    "agrees": "What was paid is within 1% of the entitlement.",
    "not_modelled": "A payment pcnkit does not calculate as an entitlement (the Investment and "
    "Impact Fund's achievement, or a stream whose rate is not confirmed).",
    "input_missing": "The stream is paid on an input no open data file holds (care home beds, "
    "the PCN adjusted population): load it to compare.",
    "paid_outside": "Nothing (or only recoveries) was paid through the PCN's practices in this "
    "column: it went to a body outside GP practices, such as a federation, or in another year, "
    "which the payments file does not show.",
    "part_year": "The PCN's membership changed during the year, or it was paid for only some "
    "months (joined, left or opted out part-way).",
    "timing": "The file counts payments made in the year: more than twelve months' worth "
    "means months due in another year were paid in this one.",
    "list_reference_date": "The payment matches the lists of 1 January within the year, not "
    "the list date the rules name.",
    "unconfirmed_rate": "The rate is not confirmed, and the PCN was paid the same multiple of "
    "its entitlement as the median PCN: the rate actually paid was probably different.",
    "local_payment": "Most of the commissioner's PCNs were paid the same multiple of their "
    "entitlement in this column: a local payment or rate of that commissioner's, paid through it.",
    "payee_split": "The network's payments went through several practices; part may have been "
    "paid to a practice the file places in another PCN.",
    "unexplained": "No test explains the difference: check the PCN's inputs and payments.",
}


# Why a PCN's unclaimed ARRS is not known, by `utilisation`'s reason, for the page's key.
WHY = {
    PAID_UNKNOWN: "its network payments went outside GP practices, so the file does not show "
    "its ARRS reimbursement",
    NO_RECORD: "no practice's payments name this PCN in the year",
    BUDGET_UNKNOWN: "the year's ARRS budget rate is not confirmed, so the budget cannot be "
    "calculated",
    BUDGET_INCOMPLETE: "a member practice's list is not held, so the budget is incomplete",
    NO_BUDGET: "it had no member practices in the ARRS months",
    ZERO_BUDGET: "its budget is £0.00",
}


@dataclass(frozen=True)
class ActualsPage(Page):
    """Entitled against actually paid, PCN by PCN, and ARRS money left unclaimed."""

    org: dict[str, Any]
    year: str
    years: list[str]
    source: str  # the payments publication's title
    pcns: list[dict[str, Any]]
    totals: dict[str, Any]  # entitled, paid and difference over the PCNs compared
    summary: list[dict[str, Any]]
    categories: list[dict[str, str]]
    arrs_total: dict[str, Any]
    note: str | None


def _label(year: str) -> str:
    """'2021-22' or '21/22' as '2021/22'; anything else as given (then refused)."""
    try:
        return year_label(financial_year_start(year))
    except ValueError:
        return year.strip()[:20]


def _years(c: Ctx) -> list[str]:
    return [y for y in actual_payments.loaded_years(c.db) if y in known_years()]


def actuals_page(c: Ctx, code: str, year: str | None) -> ActualsPage:
    org = c.org(code)  # 403 outside the user's scope, before anything is computed
    years = _years(c)
    if not years:
        raise HTTPException(
            404,
            "No actual payments are loaded: load NHS Payments to General Practice (2019/20 to "
            "2022/23) into the workspace to compare entitlement with what was paid.",
        )
    if org.kind == kinds.PRACTICE:
        raise HTTPException(404, "Payments are compared for PCNs and areas, not practices.")
    chosen = _label(year) if year else years[-1]
    if chosen not in years:
        raise HTTPException(
            404, f"No payments file is loaded for {chosen}; years loaded: {', '.join(years)}."
        )
    rules = rules_for(chosen)
    funding_views.check_year_scope(c, org, rules)
    key = ("actuals", org.code, rules.year)
    return c.memo(key, lambda: _build(c, org, rules, years))


def _build(c: Ctx, org, rules, years: list[str]) -> ActualsPage:
    found = against_actuals.reconcile(c.db, [rules.year], org.code)
    pops, _lines = funding_views.area_entitlements(c, rules, org.code)
    has_arrs = any(col.kind == "arrs" for col in payment_columns.columns_for(rules.year))
    inside = set(pops.pcn_codes())
    workforce = actual_payments.paid(c.db, rules.year, "PCN Workforce") if has_arrs else {}
    reasons = (
        {}
        if has_arrs
        else dict.fromkeys(inside, f"the {rules.year} payments file has no ARRS column")
    )
    used = utilisation(
        rules, pops, {k: v for k, v in workforce.items() if k in inside}, paid_reasons=reasons
    )
    by_use = {u.pcn_code: u for u in used.pcns} if has_arrs else {}
    # ARRS reimbursement the file shows through the PCN's practices, whether or not it is all
    through = {r.pcn_code: r.paid for r in found.comparisons if r.heading == "PCN Workforce"}
    by_pcn: dict[str, list[against_actuals.Comparison]] = {}
    for row in found.comparisons:
        by_pcn.setdefault(row.pcn_code, []).append(row)
    pcns = []
    for code in sorted(by_pcn):
        rows = by_pcn[code]
        compared = [r for r in rows if r.compared]
        entitled = sum((r.entitled for r in compared), Decimal(0))
        paid = sum((r.paid for r in compared), Decimal(0))
        pcns.append(
            {
                "code": code,
                "name": _name(c, code, rows[0].pcn_name),
                "funding": c.url(f"/funding/{code}", year=rules.year),
                "entitled": entitled if compared else None,
                "paid": paid if compared else None,
                "difference": paid - entitled if compared else None,
                "agree": sum(1 for r in compared if r.category == "agrees"),
                "compared": len(compared),
                "columns": [_row(r) for r in rows],
                "arrs": _arrs(
                    by_use.get(code), None if has_arrs else reasons.get(code), through.get(code)
                ),
            }
        )
    total = used.national
    compared = [p for p in pcns if p["entitled"] is not None]
    totals = {
        key: sum((p[key] for p in compared), Decimal(0))
        for key in ("entitled", "paid", "difference")
    }
    return ActualsPage(
        org=org_ref(c, org),
        year=rules.year,
        years=years,
        source=found.titles.get(rules.year, ""),
        pcns=pcns,
        totals=totals,
        summary=[
            {
                "column": s.heading,
                "pcns": s.pcns,
                "within_1": s.within_1,
                "explained": s.explained,
                "paid": s.paid,
                "entitled": s.entitled if s.pcns else None,
                "confirmed": s.confirmed,
            }
            for s in found.summary()
        ],
        categories=[
            {"id": k, "label": v, "meaning": MEANINGS[k]}
            for k, v in against_actuals.CATEGORIES.items()
            if any(r.category == k for rows in by_pcn.values() for r in rows)
        ],
        arrs_total={
            "budget": total.budget if total.pcns else None,
            "paid": total.paid if total.pcns else None,
            "unclaimed": total.unclaimed if total.pcns else None,
            "over": total.over if total.pcns else None,
            "counted": total.pcns,
            "left_out": sum(total.left_out.values()),
            "why": None if total.pcns else _why_none(pcns),
            "confirmed": used.confirmed,
        },
        note=None if has_arrs else f"The {rules.year} payments file has no ARRS column.",
    )


def _name(c: Ctx, code: str, fallback: str) -> str:
    """The PCN's name as every other page of this date gives it."""
    org = c.hierarchy.by_code.get(code)
    return c.hierarchy.name(org) if org is not None else fallback


def _why_none(pcns: list[dict[str, Any]]) -> str:
    reasons = sorted({p["arrs"]["why"] for p in pcns if p["arrs"]["why"]})
    return "; ".join(reasons) or "no PCN to count"


def _row(r: against_actuals.Comparison) -> dict[str, Any]:
    share = r.share
    return {
        "column": r.heading,
        "entitled": r.entitled,
        # paid outside GP practices: the file cannot say what was paid, so no figure
        "paid": None if r.category == "paid_outside" else r.paid,
        "difference": None if r.category == "paid_outside" else r.difference,
        "percent": None
        if share is None or r.category == "paid_outside"
        else f"{(1 + share) * 100:.1f}%",
        "category": r.category,
        "category_label": against_actuals.CATEGORIES[r.category],
        "explanation": r.explanation,
        "confirmed": r.confirmed,
    }


def _arrs(u, why: str | None = None, through: Decimal | None = None) -> dict[str, Any]:
    """The PCN's ARRS budget, what was reimbursed and what was left unclaimed
    (`funding.utilisation`); unclaimed is not known when it cannot be calculated, with why."""
    if u is None:
        return {
            "budget": None,
            "paid": None,
            "unclaimed": None,
            "over": None,
            "used": None,
            "why": why or "the PCN has no ARRS budget this year",
            "detail": None,
            "partial": None,
            "confirmed": True,
        }
    known = u.used is not None
    return {
        "budget": u.budget,
        # what was reimbursed is known whenever the file shows it (even with no budget)
        "paid": u.paid if u.left_out not in (PAID_UNKNOWN, NO_RECORD) else None,
        "unclaimed": u.unclaimed if known else None,
        "over": u.over if known else None,
        "used": percent(u.used) if known else None,
        "why": None if known else WHY.get(u.left_out, u.left_out or "it cannot be calculated"),
        "detail": None if known else _sentence(u.reason or ""),
        # outside GP practices, yet some ARRS went through them: shown, as perhaps only part
        "partial": through if u.left_out == PAID_UNKNOWN and through else None,
        "confirmed": u.confirmed,
    }


def _sentence(reason: str) -> str:
    """utilisation's 'kind: detail' reason as words for the page's key."""
    kind, _, detail = reason.partition(": ")
    return f"{kind} ({detail})" if detail else kind
