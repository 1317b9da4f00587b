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

import pyarrow as pa

from pcnkit import spreadsheet
from pcnkit.access import audit
from pcnkit.errors import NotFoundError, PcnkitError
from pcnkit.population import casefinding, segments, stratify
from pcnkit.population.disclosure import REDACTED
from pcnkit.population.engine import PopulationStore
from pcnkit.population.pack import pack_for_area, pack_for_pcn, practices_in
from pcnkit.registry import kinds
from pcnkit.store.models import Organisation
from pcnkit.web.charts import Series, bar_chart
from pcnkit.web.context import Ctx
from pcnkit.web.views.orgs import org_ref

RISING_RISK = "rising_risk"
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


def _missing(c: Ctx, org: Organisation, problem: str) -> dict:
    return {
        "org": org_ref(c, org),
        "as_of": c.as_of,
        "available": False,
        "problem": problem,
        "commands": COMMANDS,
    }


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
            "limits": "The quota per 10,000 is UNCONFIRMED: " + segments.QUOTA_SOURCE,
        }
    if list_id not in casefinding.LIST_BY_ID:
        raise NotFoundError(f"There is no list '{list_id}'. The lists are: {', '.join(LIST_IDS)}.")
    return casefinding.get(list_id).describe()


def _chart_table(table: dict, chart_id: str) -> dict:
    """A pack table (as the pack shows it) with its chart and the data table's columns."""
    rows = list(table["rows"])
    totals = table.get("totals") or {}
    keys = list(rows[0]) if rows else []
    spec = CHARTS.get(table["name"])
    svg = ""
    if spec and rows:
        label_key, series_spec, unit = spec
        if table["name"].startswith("inequalities_"):
            labels = [f"{r['list']} · {r[label_key]}" for r in rows]
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
    columns = [(k, HEADINGS.get(k, k.replace("_", " ").capitalize()), k not in TEXT_COLUMNS)
               for k in keys]  # fmt: skip
    return {
        **table,
        "id": chart_id,
        "columns": columns,
        "table_rows": rows + ([{k: totals.get(k, "") for k in keys}] if totals else []),
        "svg": svg,
    }


def list_links(c: Ctx, org: Organisation, sizes: dict[str, object]) -> list[dict]:
    """Each list with its size from the pack, and links only for users who may see it."""
    allowed = c.may_see_patients(org)
    return [
        {
            "id": lid,
            "name": _definition(lid)["name"],
            "people": sizes.get("rising_risk_cohort" if lid == RISING_RISK else lid),
            "href": c.url(f"/population/{org.code}/lists/{lid}") if allowed else None,
            "csv": c.url(f"/population/{org.code}/lists/{lid}.csv") if allowed else None,
        }
        for lid in LIST_IDS
    ]


class NoPopulation(PcnkitError):
    """The workspace holds no population store."""


def _pack(c: Ctx, org: Organisation) -> tuple[dict, dict | None, str | None]:
    """The library's pack (as shown) and the stratification summary: safe aggregates only,
    remembered per organisation, date and data version (`Ctx.memo`), since a PCN's pack takes
    seconds on a large population. Returns a copy: callers may change it."""

    def make():
        try:
            store = PopulationStore(c.app.population)
        except PcnkitError as exc:
            raise NoPopulation(str(exc)) from exc
        with store:
            if org.kind == kinds.PCN:
                pack = pack_for_pcn(c.db, store, org.code, c.as_of)
            else:
                pack = pack_for_area(c.db, store, org.code, c.as_of)
            try:
                summary, not_stratified = stratify.read_summary(store), None
            except PcnkitError as exc:
                summary, not_stratified = None, str(exc)
        return pack.to_dict(), summary, not_stratified

    return copy.deepcopy(c.memo(("pack", org.code), make, per_user=False))


def pack_page(c: Ctx, code: str) -> dict:
    """The population pack for an organisation in scope, with the stratification's summary."""
    return c.memo(("population", code.strip().upper()), lambda: _pack_page(c, code))


def _pack_page(c: Ctx, code: str) -> dict:
    org = c.org(code)
    try:
        data, summary, not_stratified = _pack(c, org)
    except NoPopulation as exc:
        return _missing(c, org, f"No population has been loaded for this workspace ({exc}).")
    tables = [
        _chart_table(t, f"chart-{name.replace('_', '-')}") for name, t in data["tables"].items()
    ]
    allowed = c.may_see_patients(org)
    lists_table = data["tables"].get("lists", {"rows": []})
    sizes = {r["list"]: r["patients"] for r in lists_table["rows"]}
    definitions = None
    if summary is not None:
        definitions = {
            "stratified_as_of": summary["as_of"],
            "disclosure": summary["disclosure"],
            "rules": summary["rules"],
            "lists": [casefinding.get(lid).describe() for lid in summary["lists"]],
            "thresholds": summary["thresholds"],
            "model": summary["model"].get("formula"),
            "rising_risk": {
                "quota_per_10000": summary["rising_risk"]["quota_per_10000"],
                "quota_source": summary["rising_risk"]["quota_source"],
                "confirmed": False,
            },
        }
    return {
        "org": org_ref(c, org),
        "as_of": c.as_of,
        "available": True,
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
        "definitions": definitions,
        "patients_visible": allowed,
        "lists": list_links(c, org, sizes) if summary is not None else [],
        "lists_note": None
        if allowed
        else "Patient-level lists are for direct care: only the PCN or practice itself can "
        "open them. This page shows aggregates only, every count through disclosure control.",
    }


# --- patient-level lists ------------------------------------------------------------------


def _scope(c: Ctx, code: str, list_id: str) -> tuple[Organisation, dict, list[str]]:
    """Access first (403), then the list id (404), then the practices as at the date."""
    org = c.patients_org(code)
    definition = _definition(list_id)
    return org, definition, practices_in(c.db, org.code, c.as_of)


def _rows_expr(store: PopulationStore, list_id: str, codes: list[str]):
    if list_id == RISING_RISK:
        return stratify.cohort_for(store, codes)
    return stratify.list_for(store, list_id, codes)


def _reason_columns(list_id: str) -> list[tuple[str, str]]:
    if list_id == RISING_RISK:
        return [
            ("cohort_rank", "Rank in practice"),
            ("tier_rule", "Tier rule"),
            ("rising_risk_reasons", "Why (rising-risk rules that hold)"),
        ]
    detail = casefinding.get(list_id).detail
    return [("criteria_met", "Why (criteria met)")] + [
        (d, d.replace("_", " ").capitalize()) for d in detail
    ]


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
            f"{detail}; as at {c.as_of.isoformat()}",
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


def list_page(c: Ctx, code: str, list_id: str, page: int = 1) -> dict:
    """One page of a patient-level list for a PCN or practice (direct care; audited)."""
    org, definition, codes = _scope(c, code, list_id)
    offset = (page - 1) * PAGE_SIZE
    synthetic, table = _list_table(c, list_id, codes)
    total = table.num_rows if table is not None else 0
    rows = table.slice(offset, PAGE_SIZE).to_pylist() if table is not None else []
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise NotFoundError(f"Page {page} is past the end of the list ({pages} pages).")
    _audit(
        c,
        audit.VIEW_LIST,
        org,
        list_id,
        f"{total} rows for {org.code}; page {page} of {pages} ({len(rows)} rows shown)",
    )
    base = f"/population/{org.code}/lists/{list_id}"
    return {
        "org": org_ref(c, org),
        "as_of": c.as_of,
        "list": definition,
        "synthetic": synthetic,
        "practices": codes,
        "total": total,
        "page": page,
        "pages": pages,
        "page_size": PAGE_SIZE,
        "first_row": offset + 1 if rows else 0,
        "previous": c.url(base, page=page - 1) if page > 1 else None,
        "next": c.url(base, page=page + 1) if page < pages else None,
        "csv": c.url(f"{base}.csv"),
        "reason_columns": _reason_columns(list_id),
        "rows": rows,
    }


def list_csv(c: Ctx, code: str, list_id: str) -> tuple[bytes, str]:
    """The whole list as a CSV file (bytes, see `spreadsheet.csv_download`) and its name (direct
    care; audited as a download)."""
    org, _, codes = _scope(c, code, list_id)
    _, table = _list_table(c, list_id, codes)
    if table is not None:
        fields, rows = table.column_names, table.to_pylist()
    else:
        fields, rows = ["pseudonym", "practice"], []
    content = spreadsheet.csv_download(fields, rows)
    _audit(c, audit.DOWNLOAD_LIST, org, list_id, f"{len(rows)} rows for {org.code} as CSV")
    return content, f"{list_id}-{org.code}-{c.as_of.isoformat()}.csv"
