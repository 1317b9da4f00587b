"""Organisation pages: who an organisation is, its members over time, list sizes and their
sources, configuration findings and a map, as at the request's date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pcnkit.errors import PcnkitError
from pcnkit.registry import kinds, profile, queries
from pcnkit.registry.checks import OUTCOME_HELP, OUTCOME_LABELS, OUTCOMES, run_checks
from pcnkit.store.models import Organisation
from pcnkit.web.context import Ctx
from pcnkit.web.maps import Point, practice_map
from pcnkit.web.views.page import Page

# Kinds shown as "up the hierarchy", nearest first.
UP_ORDER = [
    kinds.PCN,
    kinds.FEDERATION,
    kinds.PLACE,
    kinds.SUB_ICB,
    kinds.GROUPING,
    kinds.ICB,
    kinds.REGION,
    kinds.NATION,
]


def _label(kind: str, as_of: dt.date) -> str:
    return kinds.KINDS[kind].label_at(as_of)


# What each code or word in an organisation page's status columns means (the page's key).
STATUS_KEY = {
    "Member on the date": "yes: the membership covers the page's date; no: it began later or "
    "had ended",
    "From / To": "the first and last day of a membership; 'not known' means no source dates "
    "its start, 'to date' that it has not ended",
    "Quarter average": "NHS Payments to General Practice gives a list averaged over a quarter; "
    "it is rounded to whole patients and used only where no count exists",
    **{OUTCOME_LABELS[o]: OUTCOME_HELP[o] for o in OUTCOMES},
}


def _figure(f: queries.ListFigure | None) -> dict | None:
    if f is None:
        return None
    return {
        "value": f.value,
        "as_of": f.as_of,
        "source": f.cited,
        "source_row": f.source_row,
        "measure": f.measure,
        "average": f.average,
    }


def _patients(a: queries.AreaList | None) -> dict | None:
    """Registered patients of a group of practices: whole patients and the source(s) stated."""
    if a is None:
        return None
    return {
        "value": a.total,
        "practices": a.practices,
        "missing": a.missing,
        "dated": a.dated,
        "source": a.source_text,
        "mixed": a.mixed,
    }


def org_ref(c: Ctx, org: Organisation) -> dict:
    name, label = c.hierarchy.name(org), _label(org.kind, c.as_of)
    return {
        "code": org.code,
        "name": name,
        "kind": org.kind,
        "kind_label": label,
        # the kind in brackets after the name, unless the name already says it ("... (STP)")
        "kind_suffix": None if name.rstrip().endswith(f"({label})") else label,
        "can_open": org.code in c.reach,
    }


@dataclass(frozen=True)
class HomePage(Page):
    """The signed-in user, their role and scope."""

    user: dict[str, str]
    scope: dict[str, Any] | None  # `org_ref`
    as_of: dt.date


def home(c: Ctx) -> HomePage:
    scope = c.hierarchy.by_code.get(c.user.scope_code)
    return HomePage(
        user={"username": c.user.username, "role": c.user.role, "scope": c.user.scope_code},
        scope=org_ref(c, scope) if scope else None,
        as_of=c.as_of,
    )


# Longer than any organisation's name; a longer search is refused before it reaches the
# database (SQLite refuses LIKE patterns over 50,000 characters with an error).
MAX_SEARCH = 200
SEARCH_RESULTS = 50


@dataclass(frozen=True)
class SearchPage(Page):
    """Organisations found by name or code, among those the user may open."""

    query: str
    results: list[dict[str, Any]]  # `org_ref`s
    as_of: dt.date


def search(c: Ctx, text: str) -> SearchPage:
    """Organisations whose name or code contains `text`, among those the user may open (the
    scope is applied before the first 50 are taken)."""
    text = (text or "").strip()
    if len(text) > MAX_SEARCH:
        raise PcnkitError(  # 400, on the normal error page; the text is not repeated
            f"A search can be at most {MAX_SEARCH} characters long (this one has "
            f"{len(text):,}). Search for part of a name, or a code."
        )
    found = []
    if text:
        for org in queries.find(c.db, text, limit=SEARCH_RESULTS, codes=c.reach):
            found.append(org_ref(c, org))
    return SearchPage(query=text, results=found, as_of=c.as_of)


def _up(c: Ctx, org: Organisation) -> list[dict]:
    """Every organisation above, by kind nearest first (a practice's PCN, place, ICB, ...)."""
    h = c.hierarchy
    seen: dict[int, Organisation] = {}
    stack = [org.id]
    while stack:
        for parent in h.parents.get(stack.pop(), []):
            if parent not in seen:
                seen[parent] = h.orgs[parent]
                stack.append(parent)
    order = {k: i for i, k in enumerate(UP_ORDER)}
    ups = sorted(seen.values(), key=lambda o: (order.get(o.kind, 99), o.code))
    return [org_ref(c, o) for o in ups]


def _member_history(c: Ctx, org: Organisation) -> list[dict]:
    """Every membership this organisation has had as a parent: who joined and left, when, and
    the evidence (`queries.members_over_time`)."""
    return [
        {
            "code": m.organisation.code,
            "name": m.name,
            "kind_label": _label(m.organisation.kind, c.as_of),
            "start": m.start,
            "end": m.end,
            "member_on_date": m.current,
            "basis": m.basis,
            "can_open": m.organisation.code in c.reach,
        }
        for m in queries.members_over_time(c.db, org.code, c.as_of)
    ]


MEASURE_LABELS = {
    "registered": "Registered patients",
    "weighted": "Weighted list",
    "adjusted": "Adjusted list",
}


def _list_history(c: Ctx, org: Organisation) -> list[dict]:
    """Every list held for a practice (`queries.list_history`). Registered lists are whole
    patients; a payments file's quarter average says so."""
    out = []
    for held in queries.list_history(c.db, org):
        registered = held.measure == "registered"
        kind = "quarter average" if held.average else "count"
        out.append(
            {
                "measure": MEASURE_LABELS.get(held.measure, held.measure),
                "as_of": profile.long_date(held.as_of),
                "value": queries.whole(held.value) if registered else held.value,
                "kind": kind if registered else "weighted figure",
                "source": held.title,
            }
        )
    return out


def _findings(c: Ctx, org: Organisation) -> list[dict]:
    h = c.hierarchy
    if org.kind == kinds.PRACTICE:
        pcn = h.parent(org, kinds.PCN)
        if pcn is None:
            return []
        found = [f for f in run_checks(c.db, c.as_of, pcn.code).findings if f.code == org.code]
    else:
        found = run_checks(c.db, c.as_of, org.code).findings
    return [
        {
            "check": f.check,
            "check_name": f.check_name,
            "outcome": f.outcome,
            "outcome_label": f.outcome_label,
            "code": f.code,
            "name": f.name,
            "pcn": f.pcn,
            "pcn_name": f.pcn_name,
            "text": f.text,
            "figure": f.figure,
            "figure_date": f.figure_date,
            "can_open": f.code in c.reach,
        }
        for f in found
        if f.code in c.reach or f.code == org.code
    ]


def _finding_groups(findings: list[dict]) -> dict:
    """The findings grouped by PCN (breaches first), with counts by outcome."""
    groups: dict[str | None, dict] = {}
    for f in findings:
        g = groups.setdefault(
            f["pcn"],
            {
                "pcn": f["pcn"],
                "name": f["pcn_name"] or ("Practices in no PCN" if f["pcn"] is None else f["pcn"]),
                "findings": [],
                "can_open": False,
            },
        )
        g["findings"].append(f)
        if f["code"] == f["pcn"]:
            g["can_open"] = f["can_open"]
    counts = {o: sum(1 for f in findings if f["outcome"] == o) for o in OUTCOMES}
    ordered = sorted(
        groups.values(),
        key=lambda g: (
            g["pcn"] is None,
            -sum(1 for f in g["findings"] if f["outcome"] == OUTCOMES[0]),
            g["pcn"] or "",
        ),
    )
    return {
        "counts": [
            {"outcome": o, "label": OUTCOME_LABELS[o], "count": counts[o], "help": OUTCOME_HELP[o]}
            for o in OUTCOMES
        ],
        "groups": ordered,
    }


def _map(c: Ctx, org: Organisation, practices: list[Organisation]) -> dict:
    h = c.hierarchy
    points = []
    for p in practices:
        pcn = h.parent(p, kinds.PCN)
        points.append(Point(p.code, h.name(p), p.latitude, p.longitude, h.name(pcn) if pcn else ""))
    title = f"Map of the practices of {h.name(org)} as at {c.as_of:%d %B %Y}"
    if org.kind == kinds.PRACTICE:
        title = f"Where {h.name(org)} is"
    return {
        "svg": practice_map(points, title, label_points=len(points) <= 30),
        "source": "NHS Choices GP coordinates; outlines are the area each PCN's practices span",
        "points": [
            {"code": p.code, "name": p.name, "latitude": p.lat, "longitude": p.lon, "pcn": p.group}
            for p in points
        ],
    }


@dataclass(frozen=True)
class OrgPage(Page):
    """An organisation as at a date: who it is, the hierarchy up and down, its members over
    time, its lists and their sources, configuration findings and a map."""

    org: dict[str, Any]  # `org_ref`
    as_of: dt.date
    postcode: str | None
    open_date: dt.date | None
    began: dt.date | None
    close_date: dt.date | None
    empty_state: str | None
    up: list[dict[str, Any]]
    members: list[dict[str, Any]]
    member_history: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    lists: dict[str, dict[str, Any] | None]
    list_history: list[dict[str, Any]]
    total: dict[str, Any] | None
    missing_named: list[str]
    roles: list[dict[str, str]]
    pcns: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    finding_groups: dict[str, Any]
    status_key: dict[str, str]
    map: dict[str, Any]
    patients_visible: bool


def org_page(c: Ctx, code: str) -> OrgPage:
    """The organisation page's data (memoised per scope, date and data version)."""
    return c.memo(("org", code.strip().upper()), lambda: _org_page(c, code))


def _org_page(c: Ctx, code: str) -> OrgPage:
    org = c.org(code)
    h = c.hierarchy
    described = profile.describe(c.db, org.code, c.as_of)
    members = [
        {
            "code": m.code,
            "name": m.name,
            "kind_label": m.kind,
            "registered": _figure(m.registered),
            "patients": _patients(m.patients),
            "can_open": m.code in c.reach,
        }
        for m in described.members
    ]
    if org.kind == kinds.PRACTICE:
        practices = [org]
    elif org.kind == kinds.PCN:
        practices = h.members(org, kinds.PRACTICE)
    else:
        practices = h.descendants(org, kinds.PRACTICE)
    findings = _findings(c, org)
    return OrgPage(
        org=org_ref(c, org),
        as_of=c.as_of,
        postcode=org.postcode,
        open_date=org.open_date,
        began=described.began,
        close_date=org.close_date,
        empty_state=described.empty_state,
        up=_up(c, org),
        members=members,
        member_history=[] if org.kind == kinds.PRACTICE else _member_history(c, org),
        memberships=[
            {
                "code": m.parent_code,
                "name": m.parent_name,
                "kind_label": m.parent_kind,
                "start": m.start,
                "end": m.end,
                "member_on_date": m.current,
                "basis": m.basis,
                "can_open": m.parent_code in c.reach,
            }
            for m in described.memberships
        ],
        lists={k: _figure(v) for k, v in described.lists.items()},
        list_history=_list_history(c, org) if org.kind == kinds.PRACTICE else [],
        total=_patients(described.total),
        # practices with no list held, by name and code (the summary names them)
        missing_named=[
            f"{h.name(h.by_code[code])} ({code})" if code in h.by_code else code
            for code in (described.total.missing if described.total else [])
        ],
        roles=[{"role": r, "holder": who} for r, who in described.roles],
        pcns=[org_ref(c, p) for p in h.pcns_in(org)]
        if org.kind not in (kinds.PCN, kinds.PRACTICE)
        else [],
        findings=findings,
        finding_groups=_finding_groups(findings),
        status_key=STATUS_KEY,
        map=_map(c, org, practices),
        patients_visible=c.may_see_patients(org),
    )
