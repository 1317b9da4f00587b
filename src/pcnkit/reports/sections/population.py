"""Population sections: the population health headlines and the case-finding list sizes, from
the population pack (`pcnkit.population.pack.pack_for_area`), as the web population page reads
it. Every count has passed the pack's disclosure control (`SafeCount`: 1 to 7 suppressed,
others rounded to 5, totals rebuilt from the rounded cells); no patient row is read here.

The population store describes one date, its extract date, whatever date the pack is for: the
practices in scope are the organisation's on that date, as on the web page, and the section
says so when the dates differ.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from pcnkit.errors import PcnkitError
from pcnkit.population import casefinding, codelists, sources
from pcnkit.population.disclosure import REDACTED, SafeCount
from pcnkit.population.engine import PopulationStore
from pcnkit.population.pack import STORE_SOURCE, PackTable, PopulationPack, pack_for_area
from pcnkit.reports.document import (
    SYNTHETIC_WORDS,
    Column,
    Notice,
    Paragraph,
    Section,
    Source,
    Table,
    count,
    long_date,
    not_calculated,
    percent,
)
from pcnkit.reports.packs import PackContext, note_synthetic

# how to load a population, in the words of the web page's "no population" panel
LOAD = (
    "Load a GP extract into pcnkit (or generate a synthetic population), then stratify it for "
    "the risk tiers and case-finding lists (pcnkit's population guide says how)."
)
DISCLOSURE_NOTE = (
    f"Counts are after disclosure control: 0 stays 0, counts of 1 to 7 are shown as {REDACTED}, "
    "others are rounded to the nearest 5; totals are built from the rounded counts and "
    "percentages from the rounded figures, so they may not add up exactly."
)
PARTIAL_NOTE = "†: the total leaves out suppressed cells, so it understates the true figure."
FRAILTY = {"fit": "Fit", "mild": "Mild frailty", "moderate": "Moderate frailty",
           "severe": "Severe frailty"}  # fmt: skip
SETTINGS = {"care_home": "Lives in a care home", "housebound": "Housebound"}
OTHER_GROUPS = {"CVDPP": "Cardiovascular disease primary prevention (2019-20 only)"}
COHORT = "rising_risk_cohort"
COHORT_LABEL = (
    "Rising-risk cohort (proactive care planning: the highest-risk few of the 'Rising risk' "
    "tier, by the risk model)"
)


@dataclass
class Loaded:
    pack: PopulationPack | None
    extract: dt.date | None
    problem: str | None  # why there is no pack: no store, or no practices on the date
    no_store: bool = False


def _load(ctx: PackContext) -> Loaded:
    """The pack for `ctx.org` at the store's extract date (read once per pack: the population
    and case-finding sections share it)."""
    found = ctx.memo.get("population-pack")
    if isinstance(found, Loaded):
        return found
    try:
        store = PopulationStore(ctx.population_folder)
    except PcnkitError as exc:
        result = Loaded(None, None, str(exc), no_store=True)
    else:
        try:
            with store:
                when = store.require_as_of()
                try:
                    result = Loaded(pack_for_area(ctx.session, store, ctx.code, when), when, None)
                except PcnkitError as exc:
                    result = Loaded(None, when, str(exc))
        except PcnkitError as exc:
            result = Loaded(None, None, str(exc), no_store=True)
    ctx.memo["population-pack"] = result
    return result


@cache
def qof_names() -> dict[str, str]:
    """QOF group code -> its name (the QOF registers code list), as the web page names them."""
    names = {c.code: c.term for c in codelists.load("qof_registers").all_codes}
    return {**names, **OTHER_GROUPS}


# --- cells ----------------------------------------------------------------------------------


def _n(cell: object) -> str:
    """A safe count as the pack shows it: the number, or [REDACTED]; † when the total leaves
    suppressed cells out."""
    if not isinstance(cell, SafeCount):
        return not_calculated("no count")
    if cell.redacted:
        return REDACTED
    return count(cell.value) + ("†" if cell.excludes_redacted else "")


def _pct(value: object, numerator: object = None, places: int = 1) -> str:
    if isinstance(value, Decimal):
        return percent(float(value), places)
    if isinstance(numerator, SafeCount) and numerator.redacted:
        return REDACTED
    return not_calculated("no patients in the denominator, or it was suppressed")


def _rate(value: object, numerator: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.1f}"
    if isinstance(numerator, SafeCount) and numerator.redacted:
        return REDACTED
    return not_calculated("no patients in scope")


def _partial(*tables_rows: object) -> tuple[str, ...]:
    cells = [c for c in tables_rows if isinstance(c, SafeCount)]
    return (PARTIAL_NOTE,) if any(c.excludes_redacted for c in cells) else ()


def _sources(table: PackTable) -> tuple[Source, ...]:
    """The pack table's source words as footnotes: the population store with its extract date
    (and SYNTHETIC label, stratification date), then any publication it cites."""
    out = []
    for part in table.source.split("; "):
        if part.startswith(STORE_SOURCE):
            detail = part[len(STORE_SOURCE) :].lstrip(", ")
            out.append([STORE_SOURCE, detail])
        elif part.startswith("stratified as at") and out and out[0][0] == STORE_SOURCE:
            out[0][1] += f"; {part}"
        elif part.startswith("England: "):
            out.append([part.removeprefix("England: "), "England's registers and denominators"])
        else:
            out.append([part, ""])
    return tuple(Source(title, detail) for title, detail in out)


def _cells(rows: list[dict[str, object]]) -> list[object]:
    return [v for r in rows for v in r.values()]


# --- the section ----------------------------------------------------------------------------


def _missing(ctx: PackContext, out: Section, found: Loaded) -> Section:
    if found.no_store:
        return out.add(
            Paragraph(
                f"This workspace holds no population data, so there are no population figures "
                f"for {ctx.name} ({found.problem}). {LOAD}"
            )
        )
    when = long_date(found.extract) if found.extract else "its extract date"
    return out.add(
        Paragraph(
            f"The population data is as at {when} and has no patients for {ctx.name} on that "
            f"date ({found.problem}); it cannot show any other date."
        )
    )


def _dates(ctx: PackContext, pack: PopulationPack) -> list:
    when = long_date(pack.population_as_of)
    blocks: list = []
    if pack.population_as_of != ctx.as_of:
        blocks.append(
            Notice(
                f"This pack is as at {long_date(ctx.as_of)}, but the population data is as at "
                f"{when} (the date of its extract) and cannot show patients on any other date: "
                f"these figures are the patients registered on {when} at the practices that "
                f"belonged to {ctx.name} on that date.",
                "info",
            )
        )
    if pack.synthetic:
        note_synthetic(ctx)
        blocks.append(Notice(SYNTHETIC_WORDS))
    return blocks


def section(ctx: PackContext) -> Section:
    """'Population health': patients, risk tiers and frailty, the rising-risk cohort and
    long-term condition prevalence, disclosure-controlled, from the population pack."""
    out = Section("population", "Population health")
    found = _load(ctx)
    if found.pack is None:
        return _missing(ctx, out, found)
    pack = found.pack
    out.add(*_dates(ctx, pack))
    t = pack.tables
    when = long_date(pack.population_as_of)
    lists = {r["list"]: r for r in t["lists"].rows} if "lists" in t else {}
    care = {r["setting"]: r for r in t["care_settings"].rows}
    practices = len(pack.practices)
    rows = [
        ("Registered patients", _n(pack.patients), ""),
        ("Practices in scope", count(practices), ""),
    ]
    if pack.practices_without_patients:
        rows.append(
            (
                "Practices with no patients in the population data",
                count(len(pack.practices_without_patients)),
                ", ".join(_named(ctx, c) for c in pack.practices_without_patients),
            )
        )
    for key in ("care_home", "housebound"):
        if key in care:
            rows.append((SETTINGS[key], _n(care[key]["patients"]), _pct(care[key]["pct"])))
    if COHORT in lists:
        row = lists[COHORT]
        rows.append(
            (
                COHORT_LABEL,
                _n(row["patients"]),
                f"{_rate(row['per_10000'], row['patients'])} per 10,000 patients",
            )
        )
    headline_sources = _sources(t["lists"] if "lists" in t else t["care_settings"])
    out.add(
        Table(
            f"Population headlines: {ctx.name} ({ctx.code}), patients registered on {when}",
            (Column("Measure"), Column("Count", numeric=True), Column("Share or detail")),
            tuple(rows),
            headline_sources,
            (DISCLOSURE_NOTE, *_partial(pack.patients)),
        )
    )
    if "tiers" in t:
        out.add(_tiers(ctx, t["tiers"]))
        out.add(_efi(ctx, t["efi"]))
    else:
        out.add(
            Paragraph(
                "The population data has not been stratified, so there are no risk tiers, "
                "frailty categories or rising-risk cohort (stratify it in pcnkit to add them)."
            )
        )
    out.add(_ltc(ctx, t["ltc_count"]))
    out.add(_prevalence(ctx, t["prevalence"]))
    return out


def _named(ctx: PackContext, code: str) -> str:
    org = ctx.hierarchy.by_code.get(code)
    return f"{ctx.hierarchy.name(org)} ({code})" if org is not None else code


def _distribution(
    ctx: PackContext, table: PackTable, key: str, label, heading: str, caption: str
) -> Table:
    rows = [(label(r), _n(r["patients"]), _pct(r["pct"], r["patients"])) for r in table.rows]
    totals = table.totals
    shown = list(rows)
    if totals:
        shown.append(("Total", _n(totals["patients"]), _pct(totals["pct"], totals["patients"])))
    return Table(
        f"{caption}: {ctx.name} ({ctx.code})",
        (Column(heading), Column("Patients", numeric=True), Column("%", numeric=True)),
        tuple(shown),
        _sources(table),
        (table.definition, DISCLOSURE_NOTE, *_partial(*_cells(table.rows), *totals.values())),
        frozenset({len(shown) - 1}) if totals else frozenset(),
    )


def _tiers(ctx: PackContext, table: PackTable) -> Table:
    return _distribution(
        ctx, table, "tier", lambda r: str(r["label"]), "Tier", "Patients by risk tier"
    )


def _efi(ctx: PackContext, table: PackTable) -> Table:
    return _distribution(
        ctx,
        table,
        "efi",
        lambda r: FRAILTY.get(str(r["efi"]), str(r["efi"])),
        "Frailty (eFI)",
        "Patients aged 65 and over by frailty",
    )


def _ltc(ctx: PackContext, table: PackTable) -> Table:
    return _distribution(
        ctx,
        table,
        "qof_groups",
        lambda r: f"{r['qof_groups']} condition register{'' if r['qof_groups'] == '1' else 's'}",
        "Long-term conditions",
        "Patients by number of long-term condition (QOF) registers",
    )


def _prevalence(ctx: PackContext, table: PackTable) -> Table:
    names = qof_names()
    rows = tuple(
        (
            f"{names.get(str(r['qof_group']), r['qof_group'])} ({r['qof_group']})",
            _n(r["register"]),
            _n(r["denominator"]),
            _pct(r["pct"], r["register"]),
            _pct(r["england_pct"], places=2)
            if isinstance(r["england_pct"], Decimal)
            else "no England figure",
        )
        for r in table.rows
    )
    return Table(
        f"Long-term condition prevalence: {ctx.name} ({ctx.code}), with England 2019-20",
        (
            Column("Condition (QOF group)"),
            Column("Register", numeric=True),
            Column("Denominator", numeric=True),
            Column("%", numeric=True),
            Column("England %", numeric=True),
        ),
        rows,
        _sources(table),
        (table.definition, DISCLOSURE_NOTE, *_partial(*_cells(table.rows))),
    )


# --- case-finding -----------------------------------------------------------------------------


def case_finding(ctx: PackContext) -> Section:
    """'Case-finding list sizes': how many patients each Network Contract DES case-finding list
    holds for the organisation (counts only, disclosure-controlled), with what each is for."""
    out = Section("case_finding", "Case-finding list sizes")
    found = _load(ctx)
    if found.pack is None:
        return _missing(ctx, out, found)
    pack = found.pack
    out.add(*_dates(ctx, pack))
    if "lists" not in pack.tables:
        return out.add(
            Paragraph(
                "The population data has not been stratified, so the case-finding lists have "
                "not been drawn (stratify the population in pcnkit to draw them)."
            )
        )
    table = pack.tables["lists"]
    sizes = {r["list"]: r for r in table.rows}
    rows = []
    cited: dict[str, None] = {}
    for d in casefinding.LISTS:
        r = sizes.get(d.id)
        if r is None:
            size = rate = not_calculated("not drawn at the last stratification")
        else:
            size, rate = _n(r["patients"]), _rate(r["per_10000"], r["patients"])
        rows.append((d.name, d.description or d.specification, d.specification, size, rate))
        for title in d.source.split("; "):
            cited.setdefault(title.strip(), None)
    out.add(
        Paragraph(
            "Each list names the patients a PCN's case-finding work under the Network Contract "
            "DES looks for; the lists themselves are for direct care and are opened by the PCN "
            "or practice on the population pages. This pack shows how many patients each holds."
        )
    )
    out.add(
        Table(
            f"Case-finding list sizes: {ctx.name} ({ctx.code}), patients registered on "
            f"{long_date(pack.population_as_of)}",
            (
                Column("List"),
                Column("What it is for"),
                Column("DES requirement"),
                Column("Patients", numeric=True),
                Column("Per 10,000 patients", numeric=True),
            ),
            tuple(rows),
            (*_sources(table), *(Source(t, "list definition") for t in cited)),
            (
                "Per 10,000 patients: the list's size over the registered patients in scope, "
                "both after disclosure control.",
                DISCLOSURE_NOTE,
                f"Disclosure rules: {sources.DISCLOSURE}.",
            ),
        )
    )
    return out
