"""The population health pack: who a practice, PCN or area looks after, as safe aggregates.

For a scope (one practice, a list of practices, a PCN's members or an area's practices as at a
date) the pack holds five tables, each computed by Ibis expressions on the population store
(:mod:`pcnkit.population.engine`) and fetched only as aggregates:

a. ``age_sex``: the age/sex pyramid in five-year bands (0-4 ... 85-89, 90+) by sex;
b. ``prevalence``: register prevalence by QOF group, beside England 2019-20;
c. ``ltc_count``: patients by the number of QOF groups they are on (0, 1, 2, 3, 4+);
d. ``deprivation``: patients by the IMD decile of their LSOA (1 = most deprived);
e. ``care_settings``: care-home residents and housebound patients.

Disclosure control (``disclosure.py``): every count cell is made safe (0 stays 0, 1-7 are
redacted, 8+ round to the nearest 5) before it leaves this module; totals are rebuilt from the
safe cells (the pack's patient count is the pyramid's total, built from its rounded cells) and
percentages from the safe numerator and denominator. Prevalence denominators for groups with an
age-restricted denominator (e.g. DM, 17+) are themselves safe counts. Not yet done (the note's
rules 4-5): re-suppression of cells that overlapping tables could recover, e.g. the 17+
denominator against the 15-19 band.

Definitions and their limits:
- The store is a snapshot of registered patients at its extract date (``store.as_of``); ages
  are whole years at that date. The pack's ``as_of`` chooses which practices are in scope (the
  registry's membership on that date); it does not re-age or de-register anyone.
- A register is the number of distinct patients in scope with at least one condition row of
  that QOF group (the store's register, as the extract or generator defined it). The
  denominator is the patients in scope within the group's QOF denominator ages
  (``PATIENT_LIST_TYPE``: TOTAL, 17OV, 18OV, ...), as in England's figures, so the local and
  England percentages compare like with like.
- The LTC count counts every QOF group in the conditions table, including risk-factor groups
  (OB, NDH, CVDPP) and palliative care (PC); it is a register count, not a clinical
  multimorbidity measure.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from pcnkit.errors import PcnkitError
from pcnkit.population import disclosure, sources
from pcnkit.population.disclosure import SafeCount, safe_count, safe_percent, safe_total
from pcnkit.population.engine import PopulationStore, age_at
from pcnkit.population.qof import LIST_TYPE_AGES
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy

# England's figures are a copy of shared/domain/PHM-qof-prevalence-england.csv (research note
# section 6.2), computed from NHS Digital's PREVALENCE_1920 file.
ENGLAND_SOURCE = sources.QOF_ENGLAND
# group -> (denominator age group, England register, England denominator): a copy of the
# 2019-20 rows of PHM-qof-prevalence-england.csv (the tests check it against the file).
ENGLAND_2019_20: dict[str, tuple[str, int, int]] = {
    "AF": ("TOTAL", 1239401, 60407685),
    "AST": ("TOTAL", 3916150, 60407685),
    "CAN": ("TOTAL", 1891019, 60407685),
    "CHD": ("TOTAL", 1868564, 60407685),
    "CKD": ("18OV", 1949865, 48146685),
    "COPD": ("TOTAL", 1170786, 60407685),
    "CVDPP": ("30_74", 402425, 33862119),
    "DEM": ("TOTAL", 474537, 60407685),
    "DEP": ("18OV", 5565443, 48146685),
    "DM": ("17OV", 3455176, 48783947),
    "EP": ("18OV", 384519, 48146685),
    "HF": ("TOTAL", 541301, 60407685),
    "HYP": ("TOTAL", 8514885, 60407685),
    "LD": ("TOTAL", 308237, 60407685),
    "MH": ("TOTAL", 562831, 60407685),
    "OB": ("18OV", 5061690, 48146685),
    "OST": ("50OV", 187810, 21994258),
    "PAD": ("TOTAL", 360923, 60407685),
    "PC": ("TOTAL", 288671, 60407685),
    "RA": ("16OV", 379688, 49442794),
    "STIA": ("TOTAL", 1086155, 60407685),
}
# Groups with no 2019-20 England row: their denominator ages from later years (2020-21).
OTHER_DENOMINATORS = {"NDH": "18OV"}
AGE_BANDS = (*(f"{5 * i}-{5 * i + 4}" for i in range(18)), "90+")
SEXES = (("F", "female"), ("M", "male"))
LTC_BANDS = ("0", "1", "2", "3", "4+")
IMD_DECILES = tuple(range(1, 11))
STORE_SOURCE = "Patient records in this workspace's population data"


@dataclass
class PackTable:
    """One table of the pack: safe rows (counts as SafeCount), safe totals, and what it is."""

    name: str
    title: str
    definition: str
    source: str
    rows: list[dict[str, object]]
    totals: dict[str, object] = field(default_factory=dict)

    def shown(self) -> list[dict[str, object]]:
        """The rows as displayed: counts as numbers or ``[REDACTED]``, percentages as text."""
        return [_shown(row) for row in self.rows]

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "definition": self.definition,
            "source": self.source,
            "rows": self.shown(),
            "totals": _shown(self.totals),
        }


def _shown(row: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in row.items():
        if isinstance(value, SafeCount):
            out[key] = value.marker
        elif isinstance(value, Decimal):
            out[key] = str(value)
        else:
            out[key] = value
    return out


@dataclass
class PopulationPack:
    """The population health pack for one scope. Every count in it has passed disclosure."""

    scope: str
    as_of: dt.date
    population_as_of: dt.date
    practices: list[str]
    practices_without_patients: list[str]
    patients: SafeCount
    synthetic: bool
    label: str | None
    tables: dict[str, PackTable]

    def to_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "as_of": self.as_of.isoformat(),
            "population_as_of": self.population_as_of.isoformat(),
            "practices": list(self.practices),
            "practices_without_patients": list(self.practices_without_patients),
            "patients": self.patients.marker,
            "synthetic": self.synthetic,
            "label": self.label,
            "tables": {name: t.to_dict() for name, t in self.tables.items()},
        }


# --- scopes -------------------------------------------------------------------------------


def practices_in(session: Session, code: str, as_of: dt.date) -> list[str]:
    """The practices an organisation stands for on `as_of`: a practice itself, a PCN's member
    practices, or every practice below an area (place, sub-ICB, ICB, ...)."""
    return practices_of(Hierarchy.at(session, as_of), code)


def practices_of(h: Hierarchy, code: str) -> list[str]:
    """`practices_in` on a hierarchy already built (at the date it was built for)."""
    org = h.get(code)
    if org.kind == kinds.PRACTICE:
        return [org.code]
    if org.kind == kinds.PCN:
        found = h.members(org, kinds.PRACTICE)
    else:
        found = h.descendants(org, kinds.PRACTICE)
    return [p.code for p in found]


def pack_for_pcn(
    session: Session, store: PopulationStore, pcn_code: str, as_of: dt.date
) -> PopulationPack:
    """The pack for a PCN: its member practices in the registry as at `as_of`."""
    org = Hierarchy.at(session, as_of).get(pcn_code)
    if org.kind != kinds.PCN:
        raise PcnkitError(f"{org.code} is a {org.kind}, not a PCN; use pack_for_area instead")
    return population_pack(
        store, practices_in(session, org.code, as_of), as_of=as_of, scope=org.code
    )


def pack_for_area(
    session: Session, store: PopulationStore, code: str, as_of: dt.date
) -> PopulationPack:
    """The pack for any organisation: a practice, a PCN, or an area's practices at `as_of`."""
    codes = practices_in(session, code, as_of)
    return population_pack(store, codes, as_of=as_of, scope=code.strip().upper())


# --- the pack -----------------------------------------------------------------------------


def population_pack(
    store: PopulationStore,
    practices: str | Iterable[str],
    *,
    as_of: dt.date,
    scope: str | None = None,
) -> PopulationPack:
    """The pack for the patients of `practices` (one code or several) in `store`."""
    codes = sorted({practices.strip().upper()} if isinstance(practices, str) else
                   {c.strip().upper() for c in practices})  # fmt: skip
    if not codes:
        raise PcnkitError(f"no practices in scope {scope or '(empty list)'} on {as_of}")
    ages_at = store.require_as_of()
    counts = read_practice_counts(store, codes)
    if counts is None:  # not stratified yet, or stratified before packs were precomputed
        counts = _sum(practice_counts(store, codes))
    present = counts.pop(("practices", None), {})
    source = f"{STORE_SOURCE}, extract as at {ages_at.day} {ages_at:%B %Y}"
    if store.synthetic:
        source += " (SYNTHETIC DATA: no row describes a real person)"

    pyramid = _age_sex(counts.get(("age_sex", None), {}), source)
    total = pyramid.totals["total"]
    assert isinstance(total, SafeCount)
    tables = {
        "age_sex": pyramid,
        "prevalence": _prevalence(counts, total, source),
        "ltc_count": _ltc_count(counts.get(("ltc", None), {}), total, source),
        "deprivation": _deprivation(counts.get(("decile", None), {}), total, source),
        "care_settings": _care_settings(counts.get(("care", None), {}), total, source),
    }
    tables.update(_stratified_tables(store, counts, total, source))
    return PopulationPack(
        scope=scope or (codes[0] if len(codes) == 1 else f"{len(codes)} practices"),
        as_of=as_of,
        population_as_of=ages_at,
        practices=codes,
        practices_without_patients=[c for c in codes if not present.get(c)],
        patients=total,
        synthetic=store.synthetic,
        label=store.label,
        tables=tables,
    )


def _fetch(expr) -> list[dict[str, object]]:
    """Run an aggregate expression and return its rows (aggregates only, never patients)."""
    return expr.to_pyarrow().to_pylist()


def _distribution(
    labels: Iterable[object], raw: dict[object, int], key: str, total: SafeCount
) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Safe count and percentage of the pack's patients for each label, and a safe total."""
    rows: list[dict[str, object]] = []
    for label in labels:
        cell = safe_count(raw.get(label, 0), f"{key} {label}")
        rows.append({key: label, "patients": cell, "pct": safe_percent(cell, total)})
    column = safe_total(r["patients"] for r in rows)  # type: ignore[misc]
    return rows, {key: "total", "patients": column, "pct": safe_percent(column, total)}


def _age_sex(raw: dict, source: str) -> PackTable:
    fields = [name for _, name in SEXES] + ["other"]
    rows = [
        {
            "age_band": label,
            **{name: raw.get((i, code), 0) for code, name in SEXES},
            "other": raw.get((i, "U"), 0),
        }
        for i, label in enumerate(AGE_BANDS)
    ]
    table = disclosure.safe_table(rows, fields, total_field="total")
    grand = table.totals["total"]
    out_rows = []
    for row in table.rows:
        out = {"age_band": row["age_band"]}
        for f in [*fields, "total"]:
            out[f] = row[f]
            out[f"{f}_pct"] = safe_percent(row[f], grand)  # type: ignore[arg-type]
        out_rows.append(out)
    totals = {"age_band": "total"}
    for f in [*fields, "total"]:
        totals[f] = table.totals[f]
        totals[f"{f}_pct"] = safe_percent(table.totals[f], grand)  # type: ignore[arg-type]
    return PackTable(
        "age_sex",
        "Registered patients by age and sex",
        "Patients in scope by whole years of age at the extract date in five-year bands (90+ "
        "open), and sex as recorded (F female, M male, anything else or missing as other). "
        "Percentages are of all patients in scope, from the rounded cells.",
        source,
        out_rows,
        totals,
    )


def _denominator_ages(group: str) -> tuple[str, tuple[int, int | None]]:
    list_type = ENGLAND_2019_20[group][0] if group in ENGLAND_2019_20 else None
    list_type = list_type or OTHER_DENOMINATORS.get(group, "TOTAL")
    return list_type, LIST_TYPE_AGES[list_type]


def _prevalence(counts: dict, total: SafeCount, source: str) -> PackTable:
    registers = counts.get(("register", None), {})
    eligible = counts.get(("eligible", None), {})
    groups = sorted(set(registers) | set(ENGLAND_2019_20))
    rows = []
    for group in groups:
        list_type, _ = _denominator_ages(group)
        register = safe_count(registers.get(group, 0), f"register {group}")
        if list_type == "TOTAL":
            denominator = total
        else:
            denominator = safe_count(eligible.get(list_type, 0), f"denominator {list_type}")
        england = ENGLAND_2019_20.get(group)
        england_pct = (
            (Decimal(100) * england[1] / england[2]).quantize(Decimal("0.01")) if england else None
        )
        rows.append(
            {
                "qof_group": group,
                "denominator_ages": list_type,
                "register": register,
                "denominator": denominator,
                "pct": safe_percent(register, denominator),
                "england_pct": england_pct,
            }
        )
    return PackTable(
        "prevalence",
        "Register prevalence by QOF group, with England 2019-20",
        "Register: patients in scope on the condition's QOF register. Denominator: patients "
        "in scope of the ages QOF counts for that register (for example 17 and over for "
        "diabetes; all ages is every patient in scope). Local percentages are built from "
        "the rounded register and denominator. England: register "
        "over denominator for 2019-20 (unrounded national figures).",
        f"{source}; England: {ENGLAND_SOURCE}",
        rows,
    )


def _ltc_count(raw: dict, total: SafeCount, source: str) -> PackTable:
    rows, totals = _distribution(LTC_BANDS, raw, "qof_groups", total)
    return PackTable(
        "ltc_count",
        "Patients by number of QOF groups (long-term conditions)",
        "Patients in scope by the number of QOF registers they are on (0, 1, 2, 3, 4+). "
        "Every register counts, including the risk-factor registers (obesity, non-diabetic "
        "hyperglycaemia, CVD primary prevention) and palliative care. "
        "Percentages are of all patients in scope.",
        source,
        rows,
        totals,
    )


def _deprivation(raw: dict, total: SafeCount, source: str) -> PackTable:
    labels: list[object] = [*IMD_DECILES, "unknown"]
    rows, totals = _distribution(labels, raw, "imd_decile", total)
    return PackTable(
        "deprivation",
        "Patients by deprivation decile (IMD)",
        "Patients in scope by the English Index of Multiple Deprivation decile of their home "
        "LSOA (1 = most deprived tenth of LSOAs in England, 10 = least); missing or out-of-range "
        "deciles as unknown. Percentages are of all patients in scope.",
        source,
        rows,
        totals,
    )


def _care_settings(raw: dict, total: SafeCount, source: str) -> PackTable:
    rows = []
    for key in ("care_home", "housebound"):
        cell = safe_count(raw.get(key, 0), key)
        rows.append({"setting": key, "patients": cell, "pct": safe_percent(cell, total)})
    return PackTable(
        "care_settings",
        "Care-home residents and housebound patients",
        "Patients in scope flagged as living in a care home, and patients flagged housebound "
        "(as recorded in the extract). Percentages are of all patients in scope.",
        source,
        rows,
    )


def _stratified_tables(store, counts: dict, total: SafeCount, source: str):
    """Tier sizes, eFI categories (65+), the rising-risk cohort and the case-finding list sizes
    from the store's last stratification (none when it has not been stratified)."""
    from pcnkit.population import casefinding, segments, stratify

    if not (store.path / stratify.RESULTS / "summary.json").exists():
        return {}
    summary = stratify.read_summary(store)
    stratified_on = dt.date.fromisoformat(summary["as_of"])
    source = f"{source}; stratified as at {stratified_on.day} {stratified_on:%B %Y}"
    tiers = counts.get(("tier", None), {})
    rows, totals = _distribution(segments.TIERS, tiers, "tier", total)
    for row in rows:
        row["label"] = segments.TIER_LABELS[row["tier"]]
    out = {
        "tiers": PackTable(
            "tiers",
            "Triangle of care",
            "Each patient in one tier by the first rule that holds (high complexity, rising "
            "risk, well); the rules are listed under Definitions and sources.",
            source,
            rows,
            totals,
        )
    }
    efi = counts.get(("efi", None), {})
    older_total = safe_count(sum(efi.values()), "patients aged 65+")
    rows, totals = _distribution(("fit", "mild", "moderate", "severe"), efi, "efi", older_total)
    out["efi"] = PackTable(
        "efi",
        "Frailty (eFI categories, aged 65+)",
        "An approximate electronic Frailty Index (eFI) from the deficits this data can show: "
        "deficits counted out of 36; fit 0-4, mild 5-8, moderate 9-12, severe 13+. "
        "Percentages are of patients aged 65 and over.",
        source,
        rows,
        totals,
    )
    on_lists = counts.get(("list", None), {})
    lists = {"rising_risk_cohort": on_lists.get("rising_risk_cohort", 0)}
    lists.update({d.id: on_lists.get(d.id, 0) for d in casefinding.LISTS})
    names = {"rising_risk_cohort": "Rising-risk cohort (proactive care planning)"}
    names.update({d.id: d.name for d in casefinding.LISTS})
    rows = []
    for key, n in lists.items():
        cell = safe_count(n, key)
        rows.append(
            {
                "list": key,
                "name": names[key],
                "patients": cell,
                "per_10000": disclosure.safe_rate(cell, total, per=10000),
            }
        )
    for by, title in (("imd_quintile", "IMD quintile"), ("ethnic_group", "ethnic group")):
        split_rows = []
        registered = counts.get(("registered", by), {})
        for definition in casefinding.LISTS:
            on = counts.get(("on_list", f"{definition.id}:{by}"), {})
            for row in casefinding.inequality_rows(on, registered, by):
                split_rows.append({"list": definition.id, **row})
        out[f"inequalities_{by}"] = PackTable(
            f"inequalities_{by}",
            f"Case-finding lists by {title}",
            f"Each list's people and the registered patients in scope by {title}"
            + (" (IMD quintile 1 = most deprived 20%)" if by == "imd_quintile" else "")
            + ", with the rate per 1,000 from the safe counts: the inequalities split.",
            f"{source}; {sources.INEQUALITIES}",
            split_rows,
            {},
        )
    out["lists"] = PackTable(
        "lists",
        "Rising-risk cohort and case-finding lists",
        f"People on each list (rate per 10,000 patients in scope). The cohort quota is "
        f"{summary['rising_risk']['quota_per_10000']} per 10,000 per practice: "
        f"{segments.QUOTA_SOURCE}.",
        source,
        rows,
        {},
    )
    return out


# --- the counts behind a pack -------------------------------------------------------------

# Raw counts per practice, precomputed when a store is stratified (results/PACK_COUNTS), so a
# pack is a sum over its practices' rows instead of scans of the patient tables. Every count
# is additive over practices (each patient is registered at one practice); disclosure control
# is applied after the sum, to the scope's totals, exactly as when counting the scope directly.
PACK_COUNTS = "pack-counts.parquet"
SPLITS = ("imd_quintile", "ethnic_group")
PACK_COUNTS_ROW_GROUP = 20_000  # rows (a few hundred per practice): a pack reads a few groups


def _sum(rows: Iterable[tuple[str, str, str | None, object, int]]) -> dict:
    """(practice, measure, part, key, n) rows summed over practices into
    {(measure, part): {key: n}}, with the practices that have patients under
    ("practices", None)."""
    out: dict = {}
    for practice, measure, part, key, n in rows:
        cell = out.setdefault((measure, part), {})
        cell[key] = cell.get(key, 0) + int(n)
        if measure == "age_sex" and n:
            out.setdefault(("practices", None), {})[practice] = True
    return out


def practice_counts(
    store: PopulationStore, codes: list[str] | None = None, results=None
) -> list[tuple[str, str, str | None, object, int]]:
    """Every raw count a pack needs, per practice: (practice, measure, part, key, n) rows for
    `codes` (None: every practice in the store). The stratified counts come from the
    results folder `results` (default: the store's results, when it has been stratified).
    Raw counts are not safe: they stay inside the store folder, like the results."""
    from pcnkit.population import stratify

    ibis = _ibis()
    count = ibis._.count()
    patients = store.patients
    if codes is not None:
        patients = patients.filter(patients.practice.isin(codes))
    patients = patients.mutate(age=age_at(patients, store.require_as_of()))
    conditions = store.conditions.join(patients.select("pseudonym", "practice"), "pseudonym")
    out: list[tuple[str, str, str | None, object, int]] = []

    def add(measure: str, part: str | None, expr, keys: list[str], mapped=lambda k: k) -> None:
        for r in _fetch(expr):
            key = tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]] if keys else None
            out.append((r["practice"], measure, part, mapped(key), int(r["n"] or 0)))

    sex_codes = dict(SEXES)
    band = ibis.least(patients.age // 5, len(AGE_BANDS) - 1).cast("int32")
    sex = patients.sex.upper().fill_null("U")
    add(
        "age_sex",
        None,
        patients.mutate(band=band, sex_code=sex)
        .group_by(["practice", "band", "sex_code"])
        .agg(n=count),
        ["band", "sex_code"],
        lambda k: (k[0], k[1] if k[1] in sex_codes else "U"),
    )
    add(
        "register",
        None,
        conditions.group_by(["practice", "qof_group"]).agg(n=conditions.pseudonym.nunique()),
        ["qof_group"],
    )
    for list_type, (low, high) in sorted(LIST_TYPE_AGES.items()):
        if list_type == "TOTAL":
            continue
        cond = patients.age >= low
        if high is not None:
            cond = cond & (patients.age <= high)
        expr = patients.group_by("practice").agg(n=ibis.ifelse(cond, 1, 0).sum())
        add("eligible", None, expr, [], lambda _k, lt=list_type: lt)
    per_patient = conditions.group_by("pseudonym").agg(k=conditions.qof_group.nunique())
    joined = patients.select("pseudonym", "practice").left_join(per_patient, "pseudonym")
    bucket = ibis.least(joined.k.fill_null(0), len(LTC_BANDS) - 1).cast("int32")
    add(
        "ltc",
        None,
        joined.mutate(bucket=bucket).group_by(["practice", "bucket"]).agg(n=count),
        ["bucket"],
        lambda k: LTC_BANDS[k],
    )
    decile = patients.lsoa_imd_decile.cast("int32")
    add(
        "decile",
        None,
        patients.mutate(decile=decile).group_by(["practice", "decile"]).agg(n=count),
        ["decile"],
        lambda k: k if k in IMD_DECILES else "unknown",
    )
    for flag in ("care_home", "housebound"):
        expr = patients.group_by("practice").agg(
            n=ibis.ifelse(patients[flag].fill_null(False), 1, 0).sum()
        )
        add("care", None, expr, [], lambda _k, f=flag: f)

    folder = results
    if folder is None and (store.path / stratify.RESULTS / "summary.json").exists():
        folder = store.path / stratify.RESULTS
    if folder is None:
        return out
    from pcnkit.population import casefinding

    def read(path):
        table = store.con.read_parquet(path.as_posix())
        return table if codes is None else table.filter(table.practice.isin(codes))

    table = read(folder / stratify.STRATIFIED)
    add("tier", None, table.group_by(["practice", "tier"]).agg(n=count), ["tier"])
    older = table.filter(table.efi_approx_category.notnull())
    add(
        "efi",
        None,
        older.group_by(["practice", "efi_approx_category"]).agg(n=count),
        ["efi_approx_category"],
    )
    cohort = read(folder / stratify.COHORT)
    add("list", None, cohort.group_by("practice").agg(n=count), [], lambda _k: "rising_risk_cohort")
    for by in SPLITS:
        add("registered", by, table.group_by(["practice", by]).agg(n=count), [by])
    for definition in casefinding.LISTS:
        members = read(stratify.list_path(folder, definition.id))
        expr = members.group_by("practice").agg(n=count)
        add("list", None, expr, [], lambda _k, i=definition.id: i)
        for by in SPLITS:
            expr = members.group_by(["practice", by]).agg(n=count)
            add("on_list", f"{definition.id}:{by}", expr, [by])
    return out


def write_practice_counts(store: PopulationStore, results, path) -> None:
    """Precompute every practice's pack counts (`practice_counts`) into a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = practice_counts(store, None, results)
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 5
    table = pa.table(
        {
            "practice": pa.array(columns[0], pa.string()),
            "measure": pa.array(columns[1], pa.string()),
            "part": pa.array(columns[2], pa.string()),
            "key": pa.array([json.dumps(k) for k in columns[3]], pa.string()),
            "n": pa.array(columns[4], pa.int64()),
        }
    )
    table = table.sort_by([("practice", "ascending")])
    pq.write_table(table, path, compression="zstd", row_group_size=PACK_COUNTS_ROW_GROUP)


def read_practice_counts(store: PopulationStore, codes: list[str]) -> dict | None:
    """The precomputed counts of `codes`, summed (as `_sum`); None when the store's results
    have none."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from pcnkit.population import stratify

    path = store.path / stratify.RESULTS / PACK_COUNTS
    if not (store.path / stratify.RESULTS / "summary.json").exists() or not path.exists():
        return None
    # the file is sorted by practice: read only the row groups whose practices overlap
    # `codes` (by the footer's statistics), without the dataset machinery
    file = pq.ParquetFile(path)
    wanted = []
    for i in range(file.metadata.num_row_groups):
        stats = file.metadata.row_group(i).column(0).statistics
        known = stats is not None and stats.has_min_max
        if not known or any(stats.min <= c <= stats.max for c in codes):
            wanted.append(i)
    table = file.read_row_groups(wanted)
    table = table.filter(pc.is_in(table.column("practice"), pa.array(list(codes), pa.string())))
    keys = [_key(k) for k in table.column("key").to_pylist()]
    return _sum(
        zip(
            table.column("practice").to_pylist(),
            table.column("measure").to_pylist(),
            table.column("part").to_pylist(),
            keys,
            table.column("n").to_pylist(),
            strict=True,
        )
    )


def _key(text: str) -> object:
    key = json.loads(text)
    return tuple(key) if isinstance(key, list) else key


def _ibis():
    import ibis

    return ibis
