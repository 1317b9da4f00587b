"""The population stratification pipeline written the obvious way in plain pandas.

An independent re-implementation of ``pcnkit.population.stratify.stratify`` (measures,
features, predicted risk, tiers, the rising-risk cohort, the case-finding lists and per-practice
tier counts), used two ways:

* ``tests/population/test_pandas_reference.py`` checks that the library (Ibis on DuckDB) and
  this code agree patient by patient on a small synthetic population;
* ``benchmarks/population_benchmark.py`` times it against the library on the same data.

It reads the store's Parquet tables with pyarrow/pandas and uses only boolean masks, groupby
and merge: no Ibis and none of the library's measure functions. Only constants and mappings are
imported from the library (the CMS weights, the QOF -> CMS/eFI maps, the eFI bands, the
feature names of the risk model), plus the fitted ``LogisticModel`` itself, so both sides score
with the same coefficients. The data-dependent thresholds (CMS 90th centile per ten-year age
band, the top-5% risk cut-off) are recomputed here the same way unless given.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pcnkit.population.casefinding import EHCH_WORKING_DAYS, LIST_BY_ID
from pcnkit.population.features import (
    BP_WINDOW_MONTHS,
    FIT_BEFORE_REFERRAL_DAYS,
    MEDICINE_FLAGS,
    REGISTER_FLAGS,
)
from pcnkit.population.measures import (
    CMS_FROM_QOF,
    EFI_CATEGORIES,
    EFI_DEFICITS,
    EFI_FROM_EVENTS,
    EFI_FROM_PATIENT_FLAGS,
    EFI_FROM_QOF,
    EFI_MIN_AGE,
    EFI_POLYPHARMACY_MIN,
    cms_weights,
)
from pcnkit.population.risk import AGE_BANDS, PRIOR_CAP, LogisticModel
from pcnkit.population.segments import CMS_CENTILE, RISK_TOP_FRACTION

HIGH, RISING, WELL = "high_complexity", "rising_risk", "well"
# (rule id, tier) in the order the rules are evaluated (population-health.md 3.2)
RULE_ORDER = (
    ("hc_palliative", HIGH),
    ("hc_care_home", HIGH),
    ("hc_severe_frailty", HIGH),
    ("hc_organ_failure", HIGH),
    ("hc_complex_adult", HIGH),
    ("rr_moderate_frailty", RISING),
    ("rr_multimorbidity", RISING),
    ("rr_cms_top_decile", RISING),
    ("rr_polypharmacy", RISING),
    ("rr_recent_use", RISING),
    ("rr_predicted_risk", RISING),
    ("well_ltc_stable", WELL),
)
# The rules' parameters come from the library, so each lives in one place; the logic below is
# written again, independently.
REGISTERS = REGISTER_FLAGS
MEDICINES = MEDICINE_FLAGS
LIST_IDS = tuple(LIST_BY_ID)
FIT_DAYS = FIT_BEFORE_REFERRAL_DAYS
BP_MONTHS = BP_WINDOW_MONTHS


@dataclass
class PandasThresholds:
    cms_by_band: dict[int, float]
    risk: float


@dataclass
class PandasResult:
    """What the pandas pipeline made (all patient-level; the benchmark only counts them)."""

    stratified: pd.DataFrame  # one row per patient, indexed by pseudonym
    cohort: pd.DataFrame  # practice, cohort_rank, pseudonym, predicted_risk, quota, list_size
    lists: dict[str, pd.DataFrame]  # list id -> members (practice, pseudonym, predicted_risk)
    practice_tiers: pd.DataFrame  # practice x tier counts
    thresholds: PandasThresholds
    seconds: dict[str, float] = field(default_factory=dict)


# --- reading ------------------------------------------------------------------------------


def read_table(folder: Path, name: str, columns: list[str]) -> pd.DataFrame | None:
    """All the Parquet files of one table folder (None when the store has no such table),
    dates as datetime64."""
    files = sorted((Path(folder) / name).glob("*.parquet"))
    if not files:
        return None
    table = pa.concat_tables([pq.read_table(f, columns=columns) for f in files])
    return table.to_pandas(date_as_object=False)


# --- measures and features ----------------------------------------------------------------


def _per_patient(index: pd.Index, values: pd.Series, fill) -> pd.Series:
    return values.reindex(index).fillna(fill)


def _has(index: pd.Index, pseudonyms) -> np.ndarray:
    return index.isin(pd.Index(pseudonyms).unique())


def features(folder: Path, as_of: dt.date) -> pd.DataFrame:
    """One row per patient (index pseudonym) with the measures and the rule/list facts."""
    at = pd.Timestamp(as_of)
    start = at - pd.DateOffset(months=12)  # 29 Feb -> 28 Feb, as the library's window
    patients = read_table(
        folder,
        "patients",
        [
            "pseudonym",
            "practice",
            "sex",
            "month_of_birth",
            "lsoa_imd_decile",
            "ethnic_group",
            "care_home",
            "care_home_since",
            "housebound",
        ],
    )
    p = patients.set_index("pseudonym")
    idx = p.index
    born = p["month_of_birth"]
    before_birthday = (born.dt.month > at.month) | (
        (born.dt.month == at.month) & (born.dt.day > at.day)
    )
    out = pd.DataFrame(index=idx)
    out["practice"] = p["practice"]
    out["sex"] = p["sex"]
    out["age"] = (at.year - born.dt.year - before_birthday.astype(int)).astype("int64")
    out["ethnic_group"] = p["ethnic_group"]
    out["imd_decile"] = p["lsoa_imd_decile"].astype("int64")
    out["care_home"] = p["care_home"].fillna(False).astype(bool)
    out["housebound"] = p["housebound"].fillna(False).astype(bool)
    out["care_home_since"] = p["care_home_since"]

    # conditions diagnosed on or before as_of (or undated)
    cond = read_table(folder, "conditions", ["pseudonym", "qof_group", "diagnosis_date"])
    cond = cond[cond["diagnosis_date"].isna() | (cond["diagnosis_date"] <= at)]
    out["ltc_count"] = _per_patient(idx, cond.groupby("pseudonym")["qof_group"].nunique(), 0)
    out["ltc_count"] = out["ltc_count"].astype("int64")
    for flag, group in REGISTERS.items():
        out[flag] = _has(idx, cond.loc[cond["qof_group"] == group, "pseudonym"])

    # medicines issued in [as_of - 12 months, as_of)
    meds = read_table(folder, "medications", ["pseudonym", "medicine_group", "issue_date"])
    meds = meds[(meds["issue_date"] >= start) & (meds["issue_date"] < at)]
    groups = meds.groupby("pseudonym")["medicine_group"].nunique()
    out["medicine_groups_12m"] = _per_patient(idx, groups, 0).astype("int64")
    out["polypharmacy_5plus"] = out["medicine_groups_12m"] >= 5
    out["polypharmacy_10plus"] = out["medicine_groups_12m"] >= 10
    for g in MEDICINES:
        out[f"med_{g}"] = _has(idx, meds.loc[meds["medicine_group"] == g, "pseudonym"])

    # hospital activity in the window
    hosp = read_table(folder, "hospital", ["pseudonym", "kind", "date"])
    hosp = hosp[(hosp["date"] >= start) & (hosp["date"] < at)]
    for column, kind in (
        ("emergency_admissions_12m", "emergency_admission"),
        ("ae_attendances_12m", "ae"),
    ):
        counts = hosp[hosp["kind"] == kind].groupby("pseudonym").size()
        out[column] = _per_patient(idx, counts, 0).astype("int64")

    # partial CMS: each mapped condition once, weights summed in hundredths (exact)
    cents = {c: int(w * 100) for c, w in cms_weights("general").items()}
    cms = cond.assign(condition=cond["qof_group"].map(CMS_FROM_QOF)).dropna(subset=["condition"])
    cms = cms.drop_duplicates(["pseudonym", "condition"])
    cms_sum = cms["condition"].map(cents).groupby(cms["pseudonym"]).sum()
    out["cms_general"] = _per_patient(idx, cms_sum, 0).astype("int64") / 100.0

    # events (coded deficits, falls, SMR, referrals, care-home reviews)
    events = read_table(folder, "events", ["pseudonym", "concept", "date"])
    deficits = cond.assign(deficit=cond["qof_group"].map(EFI_FROM_QOF)).dropna(subset=["deficit"])[
        ["pseudonym", "deficit"]
    ]
    if events is not None:
        coded = events[
            events["concept"].isin(EFI_FROM_EVENTS)
            & (events["date"].isna() | (events["date"] <= at))
        ]
        deficits = pd.concat(
            [deficits, coded[["pseudonym", "concept"]].rename(columns={"concept": "deficit"})]
        )
    coded_count = _per_patient(idx, deficits.groupby("pseudonym")["deficit"].nunique(), 0)
    flag_count = sum(out[flag].astype(int) for flag in EFI_FROM_PATIENT_FLAGS)
    poly = (out["medicine_groups_12m"] >= EFI_POLYPHARMACY_MIN).astype(int)
    total = (coded_count + flag_count + poly).astype("int64")
    eligible = out["age"] >= EFI_MIN_AGE
    out["efi_approx_deficits"] = total.where(eligible).astype("Int64")
    out["efi_approx_score"] = (total / EFI_DEFICITS).where(eligible)
    category = pd.Series(EFI_CATEGORIES[-1][0], index=idx, dtype=object)
    for name, _low, high in reversed(EFI_CATEGORIES):
        if high is not None:
            category[total <= high] = name
    out["efi_approx_category"] = category.where(eligible)
    out["imd_quintile"] = (out["imd_decile"] + 1) // 2

    out["falls_12m"] = False
    out["smr_12m"] = False
    out["lgi_referrals_12m"] = 0
    out["lgi_referrals_without_fit_12m"] = 0
    out["assessed_since_admission"] = False
    out["pcsp_since_admission"] = False
    if events is not None:
        window = events[(events["date"] >= start) & (events["date"] < at)]
        out["falls_12m"] = _has(idx, window.loc[window["concept"] == "falls", "pseudonym"])
        out["smr_12m"] = _has(
            idx, window.loc[window["concept"] == "structured_medication_review", "pseudonym"]
        )
        refs = window.loc[window["concept"] == "lgi_urgent_referral", ["pseudonym", "date"]]
        refs = refs.drop_duplicates().rename(columns={"date": "ref_date"})
        fits = events.loc[events["concept"] == "fit_test", ["pseudonym", "date"]]
        pairs = refs.merge(fits.rename(columns={"date": "fit_date"}), on="pseudonym")
        pairs = pairs[
            (pairs["fit_date"] <= pairs["ref_date"])
            & (pairs["fit_date"] >= pairs["ref_date"] - pd.Timedelta(days=FIT_DAYS))
        ]
        with_fit = pairs[["pseudonym", "ref_date"]].drop_duplicates().assign(has_fit=True)
        refs = refs.merge(with_fit, on=["pseudonym", "ref_date"], how="left")
        refs["no_fit"] = refs["has_fit"].isna().astype(int)
        out["lgi_referrals_12m"] = _per_patient(idx, refs.groupby("pseudonym").size(), 0)
        out["lgi_referrals_without_fit_12m"] = _per_patient(
            idx, refs.groupby("pseudonym")["no_fit"].sum(), 0
        )
        since = out.loc[out["care_home_since"].notna(), ["care_home_since"]]
        home = events.merge(since, left_on="pseudonym", right_index=True)
        home = home[(home["date"] >= home["care_home_since"]) & (home["date"] <= at)]
        out["assessed_since_admission"] = _has(
            idx, home.loc[home["concept"] == "care_home_assessment", "pseudonym"]
        )
        out["pcsp_since_admission"] = _has(idx, home.loc[home["concept"] == "pcsp", "pseudonym"])
    out["lgi_referrals_12m"] = out["lgi_referrals_12m"].astype("int64")
    out["lgi_referrals_without_fit_12m"] = out["lgi_referrals_without_fit_12m"].astype("int64")

    # latest blood pressure in [as_of - 24 months, as_of)
    out["latest_bp_date"] = pd.NaT
    out["latest_sbp"] = np.nan
    out["latest_dbp"] = np.nan
    obs = read_table(folder, "observations", ["pseudonym", "concept", "value", "date"])
    if obs is not None:
        bp_start = at - pd.DateOffset(months=BP_MONTHS)
        obs = obs[
            obs["concept"].isin(["systolic_bp", "diastolic_bp"])
            & (obs["date"] >= bp_start)
            & (obs["date"] < at)
        ]
        latest = obs[obs["concept"] == "systolic_bp"].groupby("pseudonym")["date"].max()
        on_day = obs.merge(latest.rename("latest_bp_date"), left_on="pseudonym", right_index=True)
        on_day = on_day[on_day["date"] == on_day["latest_bp_date"]]
        by = on_day.groupby(["pseudonym", "concept"])["value"].max().unstack("concept")
        out["latest_bp_date"] = latest.reindex(idx)
        if "systolic_bp" in by:
            out["latest_sbp"] = by["systolic_bp"].reindex(idx)
        if "diastolic_bp" in by:
            out["latest_dbp"] = by["diastolic_bp"].reindex(idx)
    return out


# --- risk, thresholds and tiers -----------------------------------------------------------


def predicted_risk(table: pd.DataFrame, model: LogisticModel) -> pd.Series:
    """1 / (1 + exp(-z)), z = intercept + sum(coefficient x feature), terms added in order."""
    predictors = {
        "polypharmacy": table["polypharmacy_5plus"].astype(float),
        "prior_ae": np.minimum(table["ae_attendances_12m"], PRIOR_CAP).astype(float),
        "prior_admissions": np.minimum(table["emergency_admissions_12m"], PRIOR_CAP).astype(float),
        "cms": table["cms_general"].astype(float),
        "efi": table["efi_approx_score"].fillna(0.0).astype(float),
        "female": (table["sex"] == "F").astype(float),
    }
    z = np.full(len(table), float(model.intercept))
    for name, coefficient in zip(model.names, model.coefficients, strict=True):
        if name.startswith("age_"):
            lo, hi = next((lo, hi) for b, lo, hi in AGE_BANDS if b == name[4:])
            inside = table["age"] >= lo
            if hi is not None:
                inside &= table["age"] <= hi
            value = inside.astype(float).to_numpy()
        elif name in predictors:
            value = predictors[name].to_numpy()
        else:
            value = table[name].astype(float).to_numpy()
        z = z + float(coefficient) * value
    return pd.Series(1.0 / (1.0 + np.exp(-z)), index=table.index)


def compute_thresholds(table: pd.DataFrame, risk_fraction: float = RISK_TOP_FRACTION):
    """CMS 90th centile (nearest rank) per ten-year band; the risk at rank ceil(f x n) from the
    top (ties by pseudonym)."""
    band = (table["age"] // 10) * 10
    cms = {}
    for b, values in table["cms_general"].groupby(band):
        ordered = np.sort(values.to_numpy())
        rank = max(1, math.ceil(CMS_CENTILE * len(ordered)))
        cms[int(b)] = float(ordered[rank - 1])
    k = max(1, math.ceil(risk_fraction * len(table)))
    ranked = table[["predicted_risk"]].reset_index()
    ranked = ranked.sort_values(["predicted_risk", "pseudonym"], ascending=[False, True])
    return PandasThresholds(cms, float(ranked["predicted_risk"].iloc[k - 1]))


def _frail(table: pd.DataFrame, *levels: str) -> pd.Series:
    return table["efi_approx_category"].isin(levels)


def assign_tiers(table: pd.DataFrame, th: PandasThresholds) -> pd.DataFrame:
    t = table
    band = (t["age"] // 10) * 10
    cut = band.map(th.cms_by_band)
    conditions = {
        "hc_palliative": t["on_pc"],
        "hc_care_home": t["care_home"],
        "hc_severe_frailty": _frail(t, "severe"),
        "hc_organ_failure": (t["on_hf"] | t["on_ckd"]) & (t["emergency_admissions_12m"] >= 2),
        "hc_complex_adult": (t["age"] >= 18)
        & (_frail(t, "moderate", "severe") | (t["ltc_count"] >= 3) | t["on_pc"])
        & ((t["emergency_admissions_12m"] >= 2) | (t["ae_attendances_12m"] >= 3) | t["housebound"]),
        "rr_moderate_frailty": _frail(t, "moderate"),
        "rr_multimorbidity": t["ltc_count"] >= 3,
        "rr_cms_top_decile": (t["cms_general"] > cut) & (t["cms_general"] > 0),
        "rr_polypharmacy": t["medicine_groups_12m"] >= 10,
        "rr_recent_use": (t["emergency_admissions_12m"] >= 1) | (t["ae_attendances_12m"] >= 3),
        "rr_predicted_risk": t["predicted_risk"] >= th.risk,
        "well_ltc_stable": t["ltc_count"] >= 1,
    }
    masks = [conditions[rule].fillna(False).astype(bool).to_numpy() for rule, _ in RULE_ORDER]
    out = t.copy()
    out["tier_rule"] = np.select(masks, [r for r, _ in RULE_ORDER], default="well_healthy")
    out["tier"] = np.select(masks, [tier for _, tier in RULE_ORDER], default=WELL)
    return out


def quota(list_size: int, per_10000: float) -> int:
    exact = Decimal(list_size) * Decimal(str(per_10000)) / Decimal(10000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rising_risk_cohort(tiered: pd.DataFrame, per_10000: float) -> pd.DataFrame:
    sizes = tiered.groupby("practice").size().rename("list_size")
    pool = tiered.loc[tiered["tier"] == RISING, ["practice", "predicted_risk"]].reset_index()
    pool = pool.sort_values(["practice", "predicted_risk", "pseudonym"], ascending=[1, 0, 1])
    pool["cohort_rank"] = pool.groupby("practice").cumcount() + 1
    pool = pool.merge(sizes, left_on="practice", right_index=True)
    pool["quota"] = pool["list_size"].map(lambda n: quota(int(n), per_10000))
    return pool[pool["cohort_rank"] <= pool["quota"]].reset_index(drop=True)


# --- case-finding lists -------------------------------------------------------------------


def list_masks(t: pd.DataFrame, as_of: dt.date) -> dict[str, pd.Series]:
    new_since = pd.Timestamp(
        np.busday_offset(np.datetime64(as_of), -EHCH_WORKING_DAYS, roll="forward")
    )
    severe = _frail(t, "severe")
    smr_any = (
        t["care_home"]
        | t["on_ld"]
        | (t["medicine_groups_12m"] >= 10)
        | ((t["age"] >= 65) & t["med_nsaids"] & ~t["med_ppis"])
        | (t["med_anticoagulants"] & t["med_nsaids"])
        | (t["med_anticoagulants"] & t["med_antiplatelets"] & ~t["med_ppis"])
        | (t["on_hf"] & t["med_nsaids"])
        | (t["on_ckd"] & t["med_nsaids"])
        | t["med_methotrexate"]
        | t["med_lithium"]
        | t["med_amiodarone"]
        | (severe & (t["housebound"] | (t["emergency_admissions_12m"] >= 1) | t["falls_12m"]))
        | t["med_opioids"]
        | t["med_gabapentinoids"]
        | t["med_benzodiazepines"]
        | t["med_z_drugs"]
    )
    new_unassessed = (t["care_home_since"] >= new_since).fillna(False) & ~t[
        "assessed_since_admission"
    ]
    return {
        "smr": ~t["smr_12m"] & smr_any,
        "ehch": t["care_home"] & (new_unassessed | ~t["pcsp_since_admission"] | ~t["smr_12m"]),
        "proactive_care": ~t["care_home"] & _frail(t, "moderate", "severe"),
        "cvd_hypertension": (t["age"] >= 18)
        & ~t["on_hyp"]
        & ~t["on_pc"]
        & ((t["latest_sbp"] >= 140) | (t["latest_dbp"] >= 90)).fillna(False),
        "cancer_lgi_no_fit": t["lgi_referrals_without_fit_12m"] >= 1,
    }


# --- the whole pipeline -------------------------------------------------------------------


def run(
    folder: Path,
    as_of: dt.date,
    model: LogisticModel,
    *,
    thresholds: PandasThresholds | None = None,
    quota_per_10000: float = 50,
    risk_fraction: float = RISK_TOP_FRACTION,
) -> PandasResult:
    """Stratify the store in `folder` at `as_of` with `model` (see the module text)."""
    import time

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def done(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 3)
        clock = now

    table = features(Path(folder), as_of)
    done("features")
    table["predicted_risk"] = predicted_risk(table, model)
    th = thresholds or compute_thresholds(table, risk_fraction)
    tiered = assign_tiers(table, th)
    done("risk and tiers")
    cohort = rising_risk_cohort(tiered, quota_per_10000)
    done("cohort")
    lists = {}
    for list_id, mask in list_masks(tiered, as_of).items():
        members = tiered.loc[mask.to_numpy(), ["practice", "predicted_risk"]].reset_index()
        lists[list_id] = members.sort_values(
            ["practice", "predicted_risk", "pseudonym"], ascending=[1, 0, 1]
        ).reset_index(drop=True)
    done("lists")
    practice_tiers = (
        tiered.groupby(["practice", "tier"]).size().unstack("tier", fill_value=0).astype(int)
    )
    done("aggregates")
    return PandasResult(tiered, cohort, lists, practice_tiers, th, seconds)
