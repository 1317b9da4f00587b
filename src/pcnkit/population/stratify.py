"""Stratification end to end: measures, the risk model, tiers, the rising-risk cohort, every
case-finding list and the safe per-practice summary, written beside the store.

:func:`stratify` runs on whichever engine the store was opened with (DuckDB or Spark): every
step is an Ibis expression, and the few data-dependent numbers (model coefficients, CMS
centiles, the risk cut-off) are computed from the data once and applied as literals, so both
engines give the same answer.

The risk model: unless a saved model is given, the "full" model is fitted and compared with
age + sex, CMS alone and eFI alone on a hold-out (``pcnkit.population.risk.validate``): index
date = as_of - 12 months, predictors before it, outcome in the 12 months after it. The model
fitted on the training part then scores everyone with predictors at ``as_of`` (the next 12
months' risk). On SYNTHETIC data the medicines exist only in the 12 months before as_of, so the
training predictors take medicines from that window (see risk.py's caveat); on real data they
come from the 12 months before the index date.

Outputs under ``<store>/results/`` (patient-level: direct care only, never published):
``stratified/stratified.parquet`` (one row per patient: features, predicted risk, tier, rule),
``cohort/rising_risk.parquet``, ``lists/<list id>.parquet``, ``summary.json`` (aggregates,
every count through disclosure control, plus the model, its metrics and the thresholds) and
``pack-counts.parquet`` (every practice's raw population-pack counts, so that any
organisation's pack is a sum over its practices: ``pcnkit.population.pack``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ibis import _

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError
from pcnkit.population import casefinding, features, measures, pack, risk, segments
from pcnkit.population.disclosure import safe_count, safe_total
from pcnkit.population.engine import PopulationStore
from pcnkit.population.swap import replace_folder

RESULTS = "results"
# where each output sits inside the results folder
STRATIFIED = "stratified/stratified.parquet"
COHORT = "cohort/rising_risk.parquet"
FEATURE_SETS = ("age_sex", "cms", "efi", "full")
DEPLOYED_FEATURE_SET = "full"
EFI_CATEGORIES = ("fit", "mild", "moderate", "severe")


def predictor_columns(table: Any) -> Any:
    """The risk model's predictor names (risk.py) from the measures' columns."""
    import ibis

    return table.mutate(
        polypharmacy=ibis.ifelse(table.polypharmacy_5plus, 1, 0),
        prior_ae=table.ae_attendances_12m,
        prior_admissions=table.emergency_admissions_12m,
        cms=table.cms_general,
        efi=table.efi_approx_score.fill_null(0.0),
    )


def training_frame(store: PopulationStore, index_date: dt.date, medicines_as_of: dt.date):
    """Predictors known at `index_date` (medicines from the 12 months before
    `medicines_as_of`), one row per patient born by then, ordered by pseudonym."""
    import ibis

    base = measures.patient_measures(store, index_date)
    base = base.filter(base.age >= 0)
    if medicines_as_of != index_date:
        poly = measures.polypharmacy(store, medicines_as_of)
        keep = [c for c in base.columns if c not in poly.columns or c == "pseudonym"]
        base = base.select(keep).join(poly, "pseudonym")
    table = predictor_columns(base)
    born = store.patients.filter(store.patients.month_of_birth <= ibis.literal(index_date))
    table = table.semi_join(born, "pseudonym")
    cols = [
        "pseudonym",
        "age",
        "sex",
        "ltc_count",
        "polypharmacy",
        "prior_ae",
        "prior_admissions",
        "care_home",
        "housebound",
        "imd_decile",
        "cms",
        "efi",
    ]
    return table.select(cols).order_by("pseudonym").to_pyarrow()


@dataclass
class Stratification:
    """What `stratify` made: where the results are and the safe summary."""

    store: Path
    results: Path
    as_of: dt.date
    engine: str
    model: risk.LogisticModel
    validation: risk.Validation | None
    thresholds: segments.Thresholds
    quota_per_10000: float
    summary: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)


def _write(expr, path: Path) -> int:
    """Stream an expression's rows into one Parquet file (atomically); return the row count."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    rows = 0
    writer = None
    # the expression's own types, so both engines write identical schemas (DuckDB's batches
    # carry its native types, e.g. a SUM as a 38-digit decimal)
    schema = expr.schema().to_pyarrow()
    try:
        for raw in expr.to_pyarrow_batches(chunk_size=250_000):
            batch = raw.cast(schema)
            if writer is None:
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:
            pq.write_table(expr.to_pyarrow(), tmp, compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return rows


def stratify(
    store: PopulationStore,
    *,
    as_of: dt.date | None = None,
    quota_per_10000: float = segments.DEFAULT_QUOTA_PER_10000,
    model: risk.LogisticModel | None = None,
    risk_fraction: float = segments.RISK_TOP_FRACTION,
    progress: Callable[[str], None] | None = None,
) -> Stratification:
    """Stratify the whole store at `as_of` (default: the store's date); see the module text."""
    as_of = as_of or store.require_as_of()
    if quota_per_10000 < 0:
        raise PcnkitError("the rising-risk quota per 10,000 cannot be negative")
    if not 0 < risk_fraction < 1:
        raise PcnkitError("the predicted-risk top fraction must be between 0 and 1")
    step = progress or (lambda _label: None)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def done(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now

    validation = None
    if model is None:
        step("fitting and validating the risk model")
        index = add_months(as_of, -12)
        meds_at = as_of if store.synthetic else index
        frame = training_frame(store, index, meds_at)
        if frame.num_rows == 0:
            raise PcnkitError(f"no patients in {store.path} were born by {index}")
        done("training measures")
        validation = risk.validate(store, frame, feature_sets=FEATURE_SETS, index_date=index)
        model = validation.models[DEPLOYED_FEATURE_SET]
        done("risk model")

    step("measures and predicted risk")
    table = predictor_columns(features.patient_features(store, as_of))
    table = table.mutate(predicted_risk=risk.score_expression(model, table))
    results = store.path / RESULTS
    staging = store.path / f".{RESULTS}-staging"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        scored_path = staging / "scored.parquet"
        _write(table, scored_path)
        scored = store.con.read_parquet(scored_path.as_posix())
        done("measures and risk")

        step("tiers")
        th = segments.thresholds(scored, risk_fraction)
        tiered_path = staging / STRATIFIED
        n_patients = _write(segments.assign_tiers(scored, th), tiered_path)
        tiered = store.con.read_parquet(tiered_path.as_posix())
        done("tiers")

        step("rising-risk cohort")
        _write(segments.rising_risk_cohort(tiered, quota_per_10000), staging / COHORT)
        cohort = store.con.read_parquet((staging / COHORT).as_posix())
        done("cohort")

        step("case-finding lists")
        list_counts: dict[str, dict[str, int]] = {}
        for definition in casefinding.LISTS:
            members = casefinding.all_members(definition, tiered, as_of)
            path = list_path(staging, definition.id)
            _write(members.order_by(["practice", members.predicted_risk.desc(), "pseudonym"]), path)
            opened = store.con.read_parquet(path.as_posix())
            list_counts[definition.id] = _by_practice(opened)
        done("lists")

        step("summary")
        summary = _summary(
            store,
            tiered,
            cohort,
            list_counts,
            model,
            validation,
            th,
            as_of,
            quota_per_10000,
            n_patients,
        )
        (staging / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
        scored_path.unlink()
        done("summary")

        step("population packs")
        pack.write_practice_counts(store, staging, staging / pack.PACK_COUNTS)
        replace_folder(staging, results)
    except BaseException:
        # nothing half-written: the previous results stay as they were
        shutil.rmtree(staging, ignore_errors=True)
        raise
    done("packs")
    return Stratification(
        store.path,
        results,
        as_of,
        store.backend,
        model,
        validation,
        th,
        quota_per_10000,
        summary,
        seconds,
    )


def _by_practice(table) -> dict[str, int]:
    rows = table.group_by("practice").aggregate(n=_.count()).to_pyarrow().to_pylist()
    return {r["practice"]: int(r["n"]) for r in rows}


def _summary(store, tiered, cohort, list_counts, model, validation, th, as_of, quota, n):
    """Per-practice aggregates (safe counts only) and the model's description."""
    rows = tiered.group_by(["practice", "tier"]).aggregate(n=_.count()).to_pyarrow().to_pylist()
    tiers: dict[str, dict[str, int]] = {}
    for r in rows:
        tiers.setdefault(r["practice"], {})[r["tier"]] = int(r["n"])
    efi_rows = (
        tiered.filter(tiered.efi_approx_category.notnull())
        .group_by(["practice", "efi_approx_category"])
        .aggregate(n=_.count())
        .to_pyarrow()
        .to_pylist()
    )
    efi: dict[str, dict[str, int]] = {}
    for r in efi_rows:
        efi.setdefault(r["practice"], {})[r["efi_approx_category"]] = int(r["n"])
    rules = tiered.group_by("tier_rule").aggregate(n=_.count()).to_pyarrow().to_pylist()
    cohort_rows = (
        cohort.group_by("practice")
        .aggregate(n=_.count(), quota=_.quota.max(), list_size=_.list_size.max())
        .to_pyarrow()
        .to_pylist()
    )
    cohort_by = {r["practice"]: r for r in cohort_rows}
    practices = {}
    for code in sorted(tiers):
        size = sum(tiers[code].values())
        made = cohort_by.get(code, {}).get("n", 0)
        practices[code] = {
            "patients": safe_count(size).marker,
            "tiers": {t: safe_count(tiers[code].get(t, 0)).marker for t in segments.TIERS},
            "efi_65_plus": {
                c: safe_count(efi.get(code, {}).get(c, 0)).marker for c in EFI_CATEGORIES
            },
            "rising_risk_cohort": safe_count(made).marker,
            "rising_risk_quota": segments.quota_for(size, quota),
            "lists": {lid: safe_count(c.get(code, 0)).marker for lid, c in list_counts.items()},
        }
    tier_totals = {
        t: safe_total(safe_count(tiers[c].get(t, 0)) for c in tiers).marker for t in segments.TIERS
    }
    cohort_total = safe_total(safe_count(r["n"]) for r in cohort_rows)
    patients_total = safe_total(safe_count(sum(v.values())) for v in tiers.values())
    return {
        "as_of": as_of.isoformat(),
        "store": store.path.name,
        "synthetic": store.synthetic,
        "label": store.label,
        "engine": store.backend,
        "disclosure": "every count below England level: 1-7 redacted, others rounded to 5; "
        "totals from the rounded cells",
        "patients": patients_total.marker,
        "tiers": tier_totals,
        "tier_rules": {r["tier_rule"]: safe_count(r["n"]).marker for r in rules},
        "rules": [
            {"id": r.id, "tier": r.tier, "label": r.label, "basis": r.basis}
            for r in segments.ALL_RULES
        ],
        "rising_risk": {
            "quota_per_10000": quota,
            "quota_source": segments.QUOTA_SOURCE,
            "cohort": cohort_total.marker,
            "per_10000": (
                round(10000 * cohort_total.value / patients_total.value, 1)
                if cohort_total.value and patients_total.value
                else None
            ),
        },
        "lists": {
            lid: {
                **casefinding.get(lid).describe(),
                "people": safe_total(safe_count(v) for v in c.values()).marker,
            }
            for lid, c in list_counts.items()
        },
        "thresholds": th.to_dict(),
        "model": model.to_dict(),
        "validation": None
        if validation is None
        else {
            "index_date": validation.index_date.isoformat(),
            "train_n": validation.train_n,
            "holdout_n": validation.holdout_n,
            "comparison": validation.rows,
        },
        "practices": practices,
        "rows": n,
    }


# --- reading results ----------------------------------------------------------------------


def results_folder(store: PopulationStore) -> Path:
    folder = store.path / RESULTS
    if not (folder / "summary.json").exists():
        raise PcnkitError(
            f"{store.path} has not been stratified yet: run `pcnkit population stratify` first"
        )
    return folder


def read_summary(store: PopulationStore) -> dict[str, Any]:
    return json.loads((results_folder(store) / "summary.json").read_text())


def list_path(results: Path, list_id: str) -> Path:
    """Where a case-finding list sits in a results folder."""
    return results / "lists" / f"{list_id}.parquet"


def stratified(store: PopulationStore):
    """The stratified per-patient table (Ibis) from the last `stratify` run."""
    path = results_folder(store) / STRATIFIED
    return store.con.read_parquet(path.as_posix())


def cohort_for(store: PopulationStore, practices: list[str]):
    """The rising-risk cohort for a stated scope of practices (direct care only)."""
    codes = sorted({p.strip().upper() for p in practices})
    if not codes:
        raise PcnkitError("name the practice or PCN the rising-risk cohort is for")
    table = store.con.read_parquet((results_folder(store) / COHORT).as_posix())
    return table.filter(table.practice.isin(codes)).order_by(["practice", "cohort_rank"])


def list_for(store: PopulationStore, list_id: str, practices: list[str]):
    """A case-finding list for a stated scope of practices, from the last `stratify` run."""
    casefinding.get(list_id)
    codes = sorted({p.strip().upper() for p in practices})
    if not codes:
        raise PcnkitError(
            "a case-finding list is a direct-care output: name the practice or PCN it is for"
        )
    table = store.con.read_parquet(list_path(results_folder(store), list_id).as_posix())
    return table.filter(table.practice.isin(codes))
