"""Population health pages: the population pack for any organisation (safe aggregates only) and
the patient-level case-finding lists and rising-risk cohort for a PCN or practice (direct care,
audited).

A thin shell: every figure comes from the library (pcnkit.population.pack, .stratify,
.casefinding, .segments); this module only chooses the scope, pages the rows and lays out what
the library returned. Nothing here counts, rounds or selects patients itself.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa

from pcnkit import spreadsheet
from pcnkit.access import audit, scope
from pcnkit.charts import Series, bar_chart
from pcnkit.errors import NotFoundError, PcnkitError
from pcnkit.population import casefinding, codelists, listview, segments, sources, stratify
from pcnkit.population.disclosure import REDACTED
from pcnkit.population.engine import PopulationStore
from pcnkit.population.pack import pack_for_area, practices_of
from pcnkit.registry.checks import long_date
from pcnkit.registry.queries import Hierarchy
from pcnkit.store.models import Organisation
from pcnkit.web.context import Ctx
from pcnkit.web.tables import FRAILTY
from pcnkit.web.views.orgs import org_ref
from pcnkit.web.views.page import Page

RISING_RISK = listview.RISING_RISK
LIST_IDS = (*(d.id for d in casefinding.LISTS), RISING_RISK)
PAGE_SIZE = 100

COMMANDS = {
    "generate": "pcnkit population generate --area CODE --seed N -w WORKSPACE",
    "import": "pcnkit population import EXTRACT_FOLDER --as-of YYYY-MM-DD -w WORKSPACE",
    "stratify": "pcnkit population stratify -w WORKSPACE",
}

HEADINGS = {
    "age_band": "Age band",
    "female": "Female",
    "male": "Male",
    "other": "Other",
    "total": "Total",
    "qof_group": "QOF group",
    "condition": "Condition",
    "denominator_ages": "Denominator ages",
    "register": "Register",
    "denominator": "Denominator",
    "pct": "%",
    "england_pct": "England %",
    "qof_groups": "QOF groups",
    "patients": "Patients",
    "imd_decile": "IMD decile",
    "setting": "Setting",
    "tier": "Tier",
    "label": "Tier name",
    "efi": "eFI category",
    "list": "List",
    "name": "Name",
    "per_10000": "Per 10,000",
    "imd_quintile": "IMD quintile",
    "ethnic_group": "Ethnic group",
    "on_list": "On the list",
    "registered": "Registered",
    "per_1000": "Per 1,000",
}
TEXT_COLUMNS = {
    "condition",
    "age_band",
    "qof_group",
    "denominator_ages",
    "qof_groups",
    "imd_decile",
    "setting",
    "tier",
    "label",
    "efi",
    "list",
    "name",
    "imd_quintile",
    "ethnic_group",
}

# What each pack table's chart draws: (the category column, [(value column, series name)], unit).
CHARTS: dict[str, tuple[str, list[tuple[str, str]], str]] = {
    "age_sex": ("age_band", [("female", "Female"), ("male", "Male"), ("other", "Other")], ""),
    "prevalence": ("qof_group", [("pct", "Local %"), ("england_pct", "England 2019-20 %")], "%"),
    "ltc_count": ("qof_groups", [("patients", "Patients")], ""),
    "deprivation": ("imd_decile", [("patients", "Patients")], ""),
    "care_settings": ("setting", [("patients", "Patients")], ""),
    "tiers": ("label", [("patients", "Patients")], ""),
    "efi": ("efi", [("patients", "Patients aged 65+")], ""),
    "lists": ("name", [("patients", "People")], ""),
    "inequalities_imd_quintile": ("imd_quintile", [("per_1000", "Per 1,000")], ""),
    "inequalities_ethnic_group": ("ethnic_group", [("per_1000", "Per 1,000")], ""),
}


# Plain names for the codes the pack's tables carry (the JSON keeps the codes).
SETTINGS = {"care_home": "Lives in a care home", "housebound": "Housebound"}
LIST_TYPES = {
    "TOTAL": "All ages",
    "06OV": "6 and over",
    "16OV": "16 and over",
    "17OV": "17 and over",
    "18OV": "18 and over",
    "50OV": "50 and over",
    "30_74": "30 to 74",
}
OTHER_GROUPS = {"CVDPP": "Cardiovascular disease primary prevention (2019-20 only)"}
# ONS 5-group ethnic categories (Census 2021 headings), as the extract's codes name them.
ETHNIC_NAMES = {
    "asian": "Asian or Asian British",
    "black": "Black, Black British, Caribbean or African",
    "mixed": "Mixed or multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
    "unknown": "Not recorded",
    "total": "Total",
}
# Columns of the pack's tables that hold codes a reader does not need (names are shown).
HIDDEN = {"tiers": {"tier"}, "lists": {"list"}}


@cache
def qof_names() -> dict[str, str]:
    """QOF group code -> its name (the QOF registers code list)."""
    names = {c.code: c.term for c in codelists.load("qof_registers").all_codes}
    return {**names, **OTHER_GROUPS}


class NoPopulation(PcnkitError):
    """The workspace holds no population store."""


@dataclass(frozen=True)
class NoPackPage(Page):
    """No population to show, why, and the commands that load one."""

    org: dict[str, Any]  # `org_ref`
    as_of: dt.date
    available: bool  # always False
    heading: str
    problem: str
    commands: dict[str, str]


@dataclass(frozen=True)
class NoPracticesPage(NoPackPage):
    """The organisation had no practices on the population's date."""

    data_as_of: dt.date
    date_note: str | None


@dataclass(frozen=True)
class PackPage(Page):
    """The population pack: aggregates only, every count through disclosure control, as at
    the population's extract date, with the stratification's definitions and the lists."""

    org: dict[str, Any]
    available: bool  # always True
    data_as_of: dt.date
    stratified: bool
    not_stratified: str | None
    commands: dict[str, str]
    synthetic: bool
    label: str
    population_as_of: dt.date
    practices: list[str]
    practices_without_patients: list[str]
    patients: int | str
    tables: list[dict[str, Any]]
    definitions: dict[str, Any] | None
    patients_visible: bool
    lists: list[dict[str, Any]]
    lists_note: str | None
    as_of: dt.date
    date_note: str | None


@dataclass(frozen=True)
class ListPage(Page):
    """One page of a patient-level list (direct care; every view audited)."""

    org: dict[str, Any]
    as_of: dt.date
    data_as_of: dt.date
    date_note: str | None
    no_practices: str | None
    list: dict[str, Any]
    synthetic: bool
    practices: list[str]
    practice_names: dict[str, str]
    reasons: list[dict[str, str]]
    view: dict[str, str | None]
    whole_list: int
    total: int
    page: int
    pages: int
    page_size: int
    first_row: int
    previous: str | None
    next: str | None
    csv: str
    clear: str | None
    action: str
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]


def _missing(c: Ctx, org: Organisation, problem: str, heading: str | None = None) -> NoPackPage:
    return NoPackPage(
        org=org_ref(c, org),
        as_of=c.as_of,
        available=False,
        heading=heading or "No population has been loaded",
        problem=problem,
        commands=COMMANDS,
    )


# --- the date patient-level answers are as at ---------------------------------------------


def extract_date(c: Ctx) -> dt.date:
    """The date the population store describes (its extract date), read once per data
    version. Every patient-level answer is as at this date, whatever date the user chose."""

    def make() -> dt.date:
        try:
            with PopulationStore(c.app.population) as store:
                return store.require_as_of()
        except PcnkitError as exc:
            raise NoPopulation(str(exc)) from exc

    return c.memo(("population-extract-date",), make, per_user=False, dated=False)


def data_hierarchy(c: Ctx, when: dt.date) -> Hierarchy:
    """The registry as at the population's date (the request's own when the dates agree)."""
    return c.hierarchy if when == c.as_of else Hierarchy.at(c.db, when)


def date_note(c: Ctx, when: dt.date, name: str) -> str | None:
    """What to tell a user whose chosen date is not the population's date."""
    if c.as_of == when:
        return None
    return (
        f"The date asked for is {long_date(c.as_of)}, but the population data is as at "
        f"{long_date(when)} "
        f"(the date of its extract) and cannot show patients on any other date. This page "
        f"shows the patients registered on {long_date(when)} at the practices that belonged to "
        f"{name} on that date."
    )


def _in_scope(check, when: dt.date):
    """Run a scope check at the population's date; a refusal says which date decided it."""
    try:
        return check()
    except scope.Forbidden as exc:
        raise scope.Forbidden(
            f"{exc} Population data is as at {long_date(when)} (the date of its extract), so "
            "access to it is decided by the organisations as they were on that date."
        ) from exc


def _no_practices(c: Ctx, org: Organisation, when: dt.date, name: str) -> str:
    return (
        f"{name} had no practices on {long_date(when)}, the date of the population data, so "
        "there are no patients to show. The population data cannot show any other date."
    )


# --- the pack -----------------------------------------------------------------------------


def _definition(list_id: str) -> dict:
    """What a list is (404 for an unknown id, naming the valid ones)."""
    if list_id == RISING_RISK:
        return {
            "id": RISING_RISK,
            "name": "Rising-risk cohort (proactive care planning)",
            "specification": "The rising-risk tier's highest predicted risks in each practice, "
            "up to the practice's quota per 10,000 list",
            "source": segments.QUOTA_SOURCE,
            # A person is in the rising-risk tier when any one of its rules holds (and no
            # high-complexity rule does): segments.assign_tiers.
            "all_of": [],
            "any_of": [r.label for r in segments.ALL_RULES if r.tier == segments.RISING],
            "limits": "The quota per 10,000 is UNCONFIRMED: it comes from a local committee "
            "paper, not a published national figure. The list size is the practice's patients "
            "in the population data.",
        }
    if list_id not in casefinding.LIST_BY_ID:
        names = ", ".join(f"{lid} ({_definition(lid)['name']})" for lid in LIST_IDS)
        raise NotFoundError(f"There is no list '{list_id}'. The lists are: {names}.")
    return casefinding.get(list_id).describe()


def _shown_rows(name: str, rows: list[dict]) -> list[dict]:
    """The pack's rows with plain names for the codes they carry."""
    out = []
    list_names = {lid: _definition(lid)["name"] for lid in LIST_IDS if lid != RISING_RISK}
    for row in rows:
        r = dict(row)
        if name == "prevalence" and r.get("qof_group") not in (None, "total"):
            group = r["qof_group"]
            r = {"qof_group": group, "condition": qof_names().get(group, group), **r}
            r["denominator_ages"] = LIST_TYPES.get(r["denominator_ages"], r["denominator_ages"])
        if name == "care_settings":
            r["setting"] = SETTINGS.get(r["setting"], r["setting"])
        if name == "efi":
            r["efi"] = FRAILTY.get(r["efi"], r["efi"])
        if name.startswith("inequalities_"):
            r["list"] = list_names.get(r["list"], r["list"])
            if r.get("imd_quintile") == "total":
                r["imd_quintile"] = "Total"
            if "ethnic_group" in r:
                group = r["ethnic_group"]
                r["ethnic_group"] = ETHNIC_NAMES.get(
                    str(group).lower() if group else "unknown", str(group)
                )
        out.append(r)
    return out


def _heading(key: str) -> str:
    """A column's heading: a percentage column is its count column's heading with %."""
    if key.endswith("_pct") and key[:-4] in HEADINGS:
        return f"{HEADINGS[key[:-4]]} %"
    return HEADINGS.get(key, key.replace("_", " ").capitalize())


def _chart_table(table: dict, chart_id: str) -> dict:
    """A pack table (as the pack shows it) with its chart and the data table's columns."""
    rows = _shown_rows(table["name"], table["rows"])
    totals = table.get("totals") or {}
    keys = [k for k in (list(rows[0]) if rows else []) if k not in HIDDEN.get(table["name"], ())]
    spec = CHARTS.get(table["name"])
    svg = ""
    if spec and rows:
        label_key, series_spec, unit = spec
        if table["name"].startswith("inequalities_"):
            labels = [f"{r['list']}: {r[label_key]}" for r in rows]
        elif table["name"] == "prevalence":
            labels = [f"{r['condition']} ({r['qof_group']})" for r in rows]
        else:
            labels = [str(r[label_key]) for r in rows]
        series = [
            Series(name, [r.get(key) for r in rows])
            for key, name in series_spec
            if key in keys and (key != "other" or any(r.get(key) not in ("0", 0) for r in rows))
        ]
        svg = bar_chart(
            chart_id,
            table["title"],
            f"{table['definition']} The same numbers are in the table below; "
            f"{REDACTED} marks a suppressed count.",
            labels,
            series,
            unit,
        )
    columns = [(k, _heading(k), k not in TEXT_COLUMNS) for k in keys]
    total_row = {k: "Total" if totals.get(k) == "total" else totals.get(k, "") for k in keys}
    if totals and "Total" not in total_row.values():
        # The total's label sits in a hidden code column (the tiers' "tier"): show it in the
        # first text column instead, so the total row says what it is.
        text_keys = [k for k in keys if k in TEXT_COLUMNS]
        if text_keys:
            total_row[text_keys[0]] = "Total"
    return {
        **table,
        "id": chart_id,
        "columns": columns,
        "table_rows": rows + ([total_row] if totals else []),
        "svg": svg,
    }


def _pack(c: Ctx, org: Organisation, when: dt.date) -> tuple[dict, dict | None, str | None]:
    """The library's pack (as shown) and the stratification summary: safe aggregates only.
    A stratified store holds every practice's pack counts (written by `stratify`), so the
    pack is a sum over the organisation's practices; it is remembered per organisation and
    data version (`Ctx.memo`) all the same. Dated by the data, not by the date the user
    chose, so another date costs nothing. Returns a copy: callers may change it."""

    def make():
        try:
            store = PopulationStore(c.app.population)
        except PcnkitError as exc:
            raise NoPopulation(str(exc)) from exc
        with store:
            pack = pack_for_area(c.db, store, org.code, when)
            try:
                summary, not_stratified = stratify.read_summary(store), None
            except PcnkitError as exc:
                summary, not_stratified = None, str(exc)
        return pack.to_dict(), summary, not_stratified

    key = ("pack", org.code, when)
    return copy.deepcopy(c.memo(key, make, per_user=False, dated=False))


FACTORS = {
    "female": "Female (against male)",
    "ltc_count": "Each long-term condition (QOF register)",
    "polypharmacy": "5 or more medicine groups in 12 months",
    "prior_ae": "Each A&E attendance in the last 12 months",
    "prior_admissions": "Each emergency admission in the last 12 months",
    "care_home": "Lives in a care home",
    "housebound": "Housebound",
    "imd_decile": "Each deprivation decile less deprived",
    "cms": "Each point of the Cambridge Multimorbidity Score",
    "efi": "Electronic frailty index score (from 0 to 1: the odds ratio is for 0 against 1)",
}


def _factor_name(name: str) -> str:
    """A risk-model factor in words (age bands against the 18-44 band)."""
    if name.startswith("age_"):
        return f"Aged {name[4:]} (against 18-44)"
    return FACTORS.get(name, name.replace("_", " ").capitalize())


def _rounded(value: object, places: int) -> object:
    return round(value, places) if isinstance(value, float) else value


def _definitions(summary: dict) -> dict:
    th = summary["thresholds"]
    fraction = th.get("predicted_risk_top_fraction")
    cut = th.get("predicted_risk_cut_off")
    return {
        "stratified_as_of": dt.date.fromisoformat(summary["as_of"]),
        "disclosure": "Every count below England level: counts of 1 to 7 are suppressed, "
        f"others rounded to the nearest 5; totals are built from the rounded counts. Source: "
        f"{sources.DISCLOSURE}.",
        # the rules' words as the library gives them now (a store stratified by an older
        # version may carry older wording for the same rules)
        "rules": [
            {
                "id": r["id"],
                "tier": segments.TIER_LABELS.get(r["tier"], r["tier"]),
                "label": segments.RULE_BY_ID[r["id"]].label,
                "basis": segments.RULE_BY_ID[r["id"]].basis,
            }
            if r["id"] in segments.RULE_BY_ID
            else {**r, "tier": segments.TIER_LABELS.get(r["tier"], r["tier"])}
            for r in summary["rules"]
        ],
        "lists": [casefinding.get(lid).describe() for lid in summary["lists"]],
        "thresholds": {
            **th,
            "predicted_risk_cut_off": _rounded(cut, 3),
            "predicted_risk_top_percent": None if fraction is None else round(100 * fraction),
        },
        "model": summary["model"].get("formula"),
        "model_factors": [
            {"factor": _factor_name(f["name"]), "odds_ratio": f"{f['odds_ratio']:.2f}"}
            for f in summary["model"].get("features", [])
        ],
        "rising_risk": {
            "quota_per_10000": summary["rising_risk"]["quota_per_10000"],
            "quota_source": segments.QUOTA_SOURCE,
            "confirmed": False,
        },
    }


def pack_page(c: Ctx, code: str) -> PackPage | NoPackPage:
    """The population pack for an organisation in scope, with the stratification's summary:
    scope, practices and patients as at the population's extract date (ARCHITECTURE principle
    8), and a note when the user chose another date."""
    try:
        when = extract_date(c)
    except NoPopulation as exc:
        org = c.org(code)
        return _missing(c, org, f"No population has been loaded for this workspace ({exc}).")
    h = data_hierarchy(c, when)
    org = _in_scope(lambda: scope.require_org(h, c.user, code), when)
    name = h.name(org)
    if not practices_of(h, org.code):
        return NoPracticesPage(
            **_missing(
                c, org, _no_practices(c, org, when, name), f"No practices on {long_date(when)}"
            ),
            data_as_of=when,
            date_note=date_note(c, when, name),
        )
    data = c.memo(("population", org.code, when), lambda: _pack_page(c, h, org, when), dated=False)
    allowed = data["patients_visible"]
    return PackPage(
        **{
            **data,
            "as_of": c.as_of,
            "date_note": date_note(c, when, name),
            "lists": [
                {
                    **item,
                    "href": c.url(f"/population/{org.code}/lists/{item['id']}")
                    if allowed
                    else None,
                    "csv": c.url(f"/population/{org.code}/lists/{item['id']}.csv")
                    if allowed
                    else None,
                }
                for item in data["lists"]
            ],
        }
    )


def _pack_page(c: Ctx, h: Hierarchy, org: Organisation, when: dt.date) -> dict | NoPackPage:
    try:
        data, summary, not_stratified = _pack(c, org, when)
    except NoPopulation as exc:
        return _missing(c, org, f"No population has been loaded for this workspace ({exc}).")
    tables = [
        _chart_table(t, f"chart-{name.replace('_', '-')}") for name, t in data["tables"].items()
    ]
    allowed = scope.may_see_patients(h, c.user, org)
    lists_table = data["tables"].get("lists", {"rows": []})
    sizes = {r["list"]: r["patients"] for r in lists_table["rows"]}
    lists = [
        {
            "id": lid,
            "name": _definition(lid)["name"],
            "people": sizes.get("rising_risk_cohort" if lid == RISING_RISK else lid),
        }
        for lid in LIST_IDS
    ]
    return {
        "org": {**org_ref(c, org), "name": h.name(org)},
        "available": True,
        "data_as_of": when,
        "stratified": summary is not None,
        "not_stratified": not_stratified,
        "commands": COMMANDS,
        "synthetic": data["synthetic"],
        "label": data["label"],
        "population_as_of": dt.date.fromisoformat(data["population_as_of"]),
        "practices": data["practices"],
        "practices_without_patients": data["practices_without_patients"],
        "patients": data["patients"],
        "tables": tables,
        "definitions": _definitions(summary) if summary is not None else None,
        "patients_visible": allowed,
        "lists": lists if summary is not None else [],
        "lists_note": None
        if allowed
        else "Patient-level lists are for direct care: only the PCN or practice itself can "
        "open them. This page shows aggregates only, every count through disclosure control.",
    }


# --- patient-level lists ------------------------------------------------------------------


def _scope(c: Ctx, code: str, list_id: str) -> tuple[Organisation, dict, list[str]]:
    """Access first (403), then the list id (404), then the practices: all decided at the
    population's extract date, the date the list's patients are as at (never the date the
    user typed: a membership that starts later must not open earlier patients)."""
    try:
        when = extract_date(c)
    except NoPopulation as exc:
        c.patients_org(code)
        _definition(list_id)
        raise NotFoundError(
            f"No population has been loaded ({exc}). Run: {COMMANDS['generate']}"
        ) from exc
    h = data_hierarchy(c, when)
    org = _in_scope(lambda: c.patients_org(code, h), when)
    definition = _definition(list_id)
    return org, definition, practices_of(h, org.code)


def _rows_expr(store: PopulationStore, list_id: str, codes: list[str]):
    if list_id == RISING_RISK:
        return stratify.cohort_for(store, codes)
    return stratify.list_for(store, list_id, codes)


def _audit(c: Ctx, action: str, org: Organisation, list_id: str, detail: str) -> None:
    """Committed in its own transaction before the list is returned: if the audit log cannot
    be written, the request fails and nobody sees the list."""
    with c.app.ws.transaction() as session:
        audit.record(
            session,
            c.user.username,
            action,
            f"list {list_id} for {org.code}",
            c.app.now(),
            f"{detail}; patients as at {extract_date(c).isoformat()} "
            f"(date chosen {c.as_of.isoformat()})",
        )


def _list_table(c: Ctx, list_id: str, codes: list[str]) -> tuple[bool, pa.Table | None]:
    """The whole list for these practices, in the library's order, and whether the population
    is synthetic; kept in memory per data version so that paging does not query again."""

    def make():
        try:
            with PopulationStore(c.app.population) as store:
                table = _rows_expr(store, list_id, codes).to_pyarrow() if codes else None
                return store.synthetic, table
        except PcnkitError as exc:
            raise NotFoundError(
                f"No stratified population for these lists ({exc}). Run: {COMMANDS['stratify']}"
            ) from exc

    key = (list_id, tuple(codes), str(c.app.ws.path), c.stamp)
    return c.app.list_tables.get(key, make)


@dataclass(frozen=True)
class ListView:
    """How the user asked to see a list: one practice, one reason, a sort column and order."""

    practice: str | None = None
    reason: str | None = None
    sort: str | None = None
    order: str | None = None

    def params(self) -> dict[str, str | None]:
        return {"practice": self.practice, "reason": self.reason, "sort": self.sort,
                "order": self.order}  # fmt: skip


def _arranged(table: pa.Table | None, list_id: str, view: ListView) -> pa.Table | None:
    if table is None:
        if view.practice:
            raise PcnkitError(f"Nobody on this list is registered at practice '{view.practice}'.")
        return None
    return listview.arrange(
        table,
        list_id,
        practice=view.practice,
        reason=view.reason,
        sort=view.sort,
        order=view.order,
    )


def _sort_links(c: Ctx, base: str, list_id: str, view: ListView) -> list[dict]:
    """Each column's heading with a link that sorts by it (again: the other way round)."""
    out = []
    for col in listview.columns(list_id):
        current = view.sort == col.key
        order = "desc" if current and view.order != "desc" else "asc"
        params = {**view.params(), "sort": col.key, "order": order}
        out.append(
            {
                "key": col.key,
                "heading": col.heading,
                "numeric": col.numeric,
                "href": c.url(base, **params),
                "sorted": ("descending" if view.order == "desc" else "ascending")
                if current
                else None,
            }
        )
    return out


def list_page(
    c: Ctx, code: str, list_id: str, page: int = 1, view: ListView | None = None
) -> ListPage:
    """One page of a patient-level list for a PCN or practice (direct care; audited),
    filtered and sorted as asked."""
    view = view or ListView()
    org, definition, codes = _scope(c, code, list_id)
    when = extract_date(c)
    offset = (page - 1) * PAGE_SIZE
    synthetic, whole = _list_table(c, list_id, codes)
    table = _arranged(whole, list_id, view)
    total = table.num_rows if table is not None else 0
    rows = table.slice(offset, PAGE_SIZE).to_pylist() if table is not None else []
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFoundError(f"Page {page} is past the end of the list ({pages} pages).")
    shown = ", ".join(f"{k} {v}" for k, v in view.params().items() if v)
    _audit(
        c,
        audit.VIEW_LIST,
        org,
        list_id,
        f"{total} rows for {org.code}{f' ({shown})' if shown else ''}; page {page} of {pages} "
        f"({len(rows)} rows shown)",
    )
    h = data_hierarchy(c, when)
    name = h.name(org)
    base = f"/population/{org.code}/lists/{list_id}"
    params = view.params()
    return ListPage(
        org={**org_ref(c, org), "name": name},
        as_of=c.as_of,
        data_as_of=when,
        date_note=date_note(c, when, name),
        no_practices=None if codes else _no_practices(c, org, when, name),
        list=definition,
        synthetic=synthetic,
        practices=codes,
        practice_names={p: h.name(h.get(p)) for p in codes},
        reasons=[{"id": r.id, "label": r.label} for r in listview.reasons(list_id)],
        view=params,
        whole_list=whole.num_rows if whole is not None else 0,
        total=total,
        page=page,
        pages=pages,
        page_size=PAGE_SIZE,
        first_row=offset + 1 if rows else 0,
        previous=c.url(base, page=page - 1, **params) if page > 1 else None,
        next=c.url(base, page=page + 1, **params) if page < pages else None,
        csv=c.url(f"{base}.csv", **params),
        clear=c.url(base) if any(params.values()) else None,
        action=base,
        columns=_sort_links(c, base, list_id, view),
        rows=rows,
    )


def list_csv(c: Ctx, code: str, list_id: str, view: ListView | None = None) -> tuple[bytes, str]:
    """The list as a CSV file (bytes, see `spreadsheet.csv_download`; filtered and sorted as
    asked, the whole list by default) and its name (direct care; audited as a download)."""
    view = view or ListView()
    org, _, codes = _scope(c, code, list_id)
    _, whole = _list_table(c, list_id, codes)
    table = _arranged(whole, list_id, view)
    if table is not None:
        fields, rows = table.column_names, table.to_pylist()
    else:
        fields, rows = ["pseudonym", "practice"], []
    content = spreadsheet.csv_download(fields, rows)
    _audit(c, audit.DOWNLOAD_LIST, org, list_id, f"{len(rows)} rows for {org.code} as CSV")
    return content, f"{list_id}-{org.code}-{extract_date(c).isoformat()}.csv"
