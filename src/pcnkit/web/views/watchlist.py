"""The watch-list page: an area's practices ranked by NHS England's 2015 vulnerable-practice
criteria (`pcnkit.assurance.watchlist`), each flag with its evidence, period and threshold and
whether that threshold is NHS England's or pcnkit's; what could not be assessed; the practices
with no flag last. Its CSV and Excel downloads are the library's `watchlist.table`.

The list is judged on the cached `Assurance` frame (`views.assurance.assurance_of`), so a page
never re-reads observations; the library's answer is memoised per area and date, the page per
user scope and date. It is for commissioners and PCN users: a watch-list ranks practices
against each other, so one practice's users have no list to see."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pcnkit import spreadsheet
from pcnkit.access import users
from pcnkit.access.scope import Forbidden
from pcnkit.assurance import watchlist
from pcnkit.errors import NotFoundError
from pcnkit.registry import kinds
from pcnkit.web.context import Ctx
from pcnkit.web.views.assurance import assurance_of
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

NHS_ENGLAND = "NHS England's criterion"
ROLES = (users.COMMISSIONER, users.PCN)
# the download's columns: the library's table with each practice's name after its code
COLUMNS = [*watchlist.TABLE_COLUMNS[:2], "practice_name", *watchlist.TABLE_COLUMNS[2:]]


@dataclass(frozen=True)
class WatchlistPage(Page):
    """An area's practices on the watch-list as at a date, most flags first."""

    org: dict[str, Any]  # `org_ref`
    as_of: dt.date
    practices: int
    flagged: list[dict[str, Any]]  # practices with at least one flag, ranked
    not_assessed: list[dict[str, Any]]  # no flag, and no criterion could be judged
    no_flags: list[dict[str, Any]]  # no flag on the criteria that could be judged
    criteria: list[dict[str, Any]]  # the key: each criterion, why, its source
    not_assessable: list[str]  # NHS England's factors no file held can assess
    downloads: dict[str, str]


def whose(confirmed: bool) -> str:
    """Whose threshold a flag rests on, in the words the page and CLI use."""
    return NHS_ENGLAND if confirmed else watchlist.NOT_NHS_ENGLAND


def _period(p) -> str:
    return watchlist._period_words(pd.Timestamp(p.start), pd.Timestamp(p.end))


def _flag(f: watchlist.Flag) -> dict[str, Any]:
    return {
        "code": f.code,
        "label": f.label,
        "evidence": f.evidence,
        "period": _period(f.period),
        "period_start": f.period.start,
        "period_end": f.period.end,
        "value": f.value,
        "threshold": f.threshold,
        "confirmed": f.confirmed,
        "whose": whose(f.confirmed),
        "basis": f.basis,
        "severity": f.severity,
    }


def _entry(c: Ctx, rank: int, e: watchlist.WatchEntry, rules: watchlist.Rules) -> dict[str, Any]:
    org = c.hierarchy.by_code.get(e.practice)
    judged = set(e.clear) | {f.label for f in e.flags}
    return {
        "rank": rank,
        "code": e.practice,
        "name": c.hierarchy.name(org) if org else e.practice,
        "url": c.url(f"/org/{e.practice}"),
        "score": e.score,
        "flags": [_flag(f) for f in e.flags],
        "not_assessed": list(e.not_assessed),
        # the criteria not assessed by name (the reasons are in `not_assessed`)
        "not_assessed_criteria": [r.label for r in rules.criteria if r.label not in judged],
        "clear": list(e.clear),
    }


def _criteria(rules: watchlist.Rules) -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "label": r.label,
            "nhs_england": r.nhs_england,
            "why": r.why,
            "source": rules.sources.get(r.source, {}).get("title", r.source),
            "confirmed": r.confirmed,
            "whose": whose(r.confirmed),
        }
        for r in rules.criteria
    ]


def _area(c: Ctx, code: str):
    """The area asked for, after the scope check (403 outside the user's organisations, as
    every page); a single practice is not an area (404, for every user: so a practice user,
    whose scope is one practice, never has a watch-list)."""
    org = c.org(code)
    if org.kind == kinds.PRACTICE:
        raise NotFoundError(
            f"{org.code} is a practice: the watch-list ranks an area's practices. Open it for "
            "the practice's PCN or a larger area."
        )
    # (a practice user's scope holds no area, so this is a second line of defence)
    if c.user.role not in ROLES:
        raise Forbidden("The watch-list is for commissioners and PCN users.")
    return org


def entries(c: Ctx, code: str) -> list[watchlist.WatchEntry]:
    """The library's watch-list for the area's practices (registry membership at the date, as
    the CLI's `pcnkit kpi watchlist AREA`), the same for every user who may open the area."""
    org = c.hierarchy.by_code[code]

    def make():
        practices = [o.code for o in c.hierarchy.descendants(org, kinds.PRACTICE)]
        return watchlist.watchlist(assurance_of(c).frame, practices, c.as_of)

    return c.memo(("watchlist-entries", code), make, per_user=False)


def watchlist_page(c: Ctx, code: str) -> WatchlistPage:
    """The page's data, memoised per user scope and date; the scope check runs when it is made
    and a refusal is never kept."""
    return c.memo(("watchlist", code.strip().upper()), lambda: _watchlist_page(c, code))


def _watchlist_page(c: Ctx, code: str) -> WatchlistPage:
    org = _area(c, code)
    reach = c.reach
    found = [e for e in entries(c, org.code) if e.practice in reach]
    rules = watchlist.load_rules()
    rows = [_entry(c, rank, e, rules) for rank, e in enumerate(found, start=1)]
    base = f"/watchlist/{org.code}"
    return WatchlistPage(
        org=org_ref(c, org),
        as_of=c.as_of,
        practices=len(rows),
        flagged=[r for r in rows if r["score"]],
        not_assessed=[r for r in rows if not r["score"] and not r["clear"]],
        no_flags=[r for r in rows if not r["score"] and r["clear"]],
        criteria=_criteria(rules),
        not_assessable=list(rules.not_assessable),
        downloads={"csv": c.url(f"{base}/download.csv"), "xlsx": c.url(f"{base}/download.xlsx")},
    )


def home_summary(c: Ctx) -> dict[str, Any] | None:
    """A commissioner's home: how many practices in their area are flagged, with the link."""
    if c.user.role != "commissioner" or c.user.scope_code not in c.hierarchy.by_code:
        return None
    org = c.hierarchy.by_code[c.user.scope_code]
    if org.kind == kinds.PRACTICE:
        return None
    page = watchlist_page(c, org.code)
    return {
        "flagged": len(page.flagged),
        "practices": page.practices,
        "url": c.url(f"/watchlist/{org.code}"),
    }


# --- downloads ---------------------------------------------------------------------------------


def records(c: Ctx, code: str) -> list[dict[str, Any]]:
    """The library's table (`watchlist.table`, the CLI's columns) with each practice's name,
    for the practices the user may see; missing cells empty, never 'nan'."""
    reach = c.reach
    found = [e for e in entries(c, code) if e.practice in reach]
    table = watchlist.table(found)
    out = []
    for row in table.astype(object).where(table.notna(), None).to_dict("records"):
        org = c.hierarchy.by_code.get(row["practice"])
        row["practice_name"] = c.hierarchy.name(org) if org else None
        out.append(row)
    return out


def download(c: Ctx, code: str, excel: bool) -> tuple[bytes, str, str]:
    """The watch-list as CSV or an Excel workbook with a cover, written by `pcnkit.spreadsheet`
    (text that would run as a formula is neutralised)."""
    page = watchlist_page(c, code)  # the scope check
    rows = records(c, page.org["code"])
    stem = f"watchlist-{page.org['code']}-{page.as_of.isoformat()}"
    if not excel:
        return spreadsheet.csv_download(COLUMNS, rows), "text/csv; charset=utf-8", f"{stem}.csv"
    cover = [
        ("Watch-list", "Vulnerable practices: NHS England's 2015 criteria, as far as held"),
        ("Area", f"{page.org['name']} ({page.org['code']})"),
        ("As at", page.as_of),
        ("Practices", page.practices),
        ("Flagged", len(page.flagged)),
        ("Thresholds", f"'confirmed' FALSE: {watchlist.NOT_NHS_ENGLAND}"),
        ("Not assessable from the files held", "; ".join(page.not_assessable)),
    ]
    out = io.BytesIO()
    spreadsheet.write_workbook(out, {"watchlist": (rows, COLUMNS)}, money=set(), cover=cover)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return out.getvalue(), media, f"{stem}.xlsx"
