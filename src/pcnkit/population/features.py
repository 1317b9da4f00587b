"""The per-patient facts that segments and case-finding lists read, as one Ibis table.

:func:`patient_features` extends :func:`pcnkit.population.measures.patient_measures` (age, sex,
LTC count, polypharmacy, prior activity, CMS, eFI, ...) with the facts the rules need:

* register flags at the index date (``on_pc``, ``on_ld``, ``on_hyp``, ``on_ckd``, ``on_hf``,
  ``on_ast``): a QOF register row diagnosed on or before ``as_of``;
* medicine flags (``med_<group>``): an issue of the medicine group in the 12 months before
  ``as_of`` (the same half-open window as the measures);
* coded events from the ``events`` table: falls and a structured medication review (SMR) in
  the 12 months, an MDT assessment and a personalised care and support plan (PCSP) since the
  care-home admission, and lower-GI urgent referrals in the 12 months, with and without a
  faecal immunochemical test (FIT) in the 21 days before the referral (CAN-02,
  population-health.md 4.6);
* the latest blood pressure in the 24 months (``latest_sbp``, ``latest_dbp``,
  ``latest_bp_date``): the latest date with a systolic reading, and the highest systolic and
  diastolic readings on that date;
* ``imd_quintile`` (1 = most deprived 20%: deciles 1-2) for the inequalities split.

A store without an ``events`` or ``observations`` table gives 0/false/null for those facts
(and the lists that need them come out empty, saying why). Pure Ibis: the same on DuckDB and
Spark. Patient-level: only the direct-care lists and disclosure-controlled aggregates leave.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pcnkit.dates import add_months
from pcnkit.population import measures
from pcnkit.population.engine import has_table
from pcnkit.population.measures import Store, attach

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

REGISTER_FLAGS = {
    "on_pc": "PC",
    "on_ld": "LD",
    "on_hyp": "HYP",
    "on_ckd": "CKD",
    "on_hf": "HF",
    "on_ast": "AST",
}
# medicine groups the rules read (the SMR code lists' ids and the generator's groups)
MEDICINE_FLAGS = (
    "nsaids",
    "ppis",
    "anticoagulants",
    "antiplatelets",
    "methotrexate",
    "lithium",
    "amiodarone",
    "opioids",
    "gabapentinoids",
    "benzodiazepines",
    "z_drugs",
)
FALLS = "falls"
SMR = "structured_medication_review"
CARE_HOME_ASSESSMENT = "care_home_assessment"
PCSP = "pcsp"
LGI_REFERRAL = "lgi_urgent_referral"
FIT = "fit_test"
FIT_BEFORE_REFERRAL_DAYS = 21  # CAN-02: a FIT result in the 21 days before the referral
BP_WINDOW_MONTHS = 24  # CVD-01: a blood pressure in the prior 2 years


def labels_that_hold(pairs, separator: str = "; "):
    """An Ibis string: the labels of the (condition, label) pairs whose condition holds, in
    order and `separator`-separated ('' when none do). How a row says why it is there."""
    import ibis

    text = ibis.literal("")
    for condition, label in pairs:
        text = text + ibis.ifelse(condition.fill_null(False), label + separator, "")
    return ibis.ifelse(text.length() > 0, text.substr(0, text.length() - len(separator)), "")


def _registers(store: Store, as_of: dt.date) -> tuple[ir.Table, dict[str, object]]:
    import ibis

    c = store.conditions
    c = c.filter(c.diagnosis_date.isnull() | (c.diagnosis_date <= ibis.literal(as_of)))
    agg = c.group_by("pseudonym").aggregate(
        **{flag: (c.qof_group == group).any() for flag, group in REGISTER_FLAGS.items()}
    )
    return agg, dict.fromkeys(REGISTER_FLAGS, False)


def _medicines(store: Store, as_of: dt.date) -> tuple[ir.Table, dict[str, object]]:
    meds = store.table("medications")
    start, end = measures.window_12m(as_of)
    import ibis

    recent = meds.filter((meds.issue_date >= ibis.literal(start)) & (meds.issue_date < end))
    names = {f"med_{g}": g for g in MEDICINE_FLAGS}
    agg = recent.group_by("pseudonym").aggregate(
        **{flag: (recent.medicine_group == g).any() for flag, g in names.items()}
    )
    return agg, dict.fromkeys(names, False)


EVENT_FILLS: dict[str, object] = {
    "falls_12m": False,
    "smr_12m": False,
    "lgi_referrals_12m": 0,
    "lgi_referrals_without_fit_12m": 0,
    "assessed_since_admission": False,
    "pcsp_since_admission": False,
}


def _events(store: Store, patients: ir.Table, as_of: dt.date) -> ir.Table | None:
    if not has_table(store, "events"):
        return None
    import ibis

    ev = store.table("events")
    start, end = measures.window_12m(as_of)
    in_window = (ev.date >= ibis.literal(start)) & (ev.date < ibis.literal(end))
    simple = ev.group_by("pseudonym").aggregate(
        falls_12m=((ev.concept == FALLS) & in_window).any(),
        smr_12m=((ev.concept == SMR) & in_window).any(),
    )
    # lower-GI referrals in the window, each checked for a FIT in the 21 days before it
    ref = ev.filter((ev.concept == LGI_REFERRAL) & in_window).select("pseudonym", ref_date=ev.date)
    ref = ref.distinct()
    fit = ev.filter(ev.concept == FIT).select(fit_pseudonym=ev.pseudonym, fit_date=ev.date)
    matched = ref.join(
        fit,
        [
            ref.pseudonym == fit.fit_pseudonym,
            fit.fit_date <= ref.ref_date,
            fit.fit_date >= ref.ref_date - ibis.interval(days=FIT_BEFORE_REFERRAL_DAYS),
        ],
    )
    with_fit = matched.select("pseudonym", "ref_date").distinct().mutate(has_fit=True)
    checked = ref.left_join(
        with_fit,
        [ref.pseudonym == with_fit.pseudonym, ref.ref_date == with_fit.ref_date],
    ).select(ref.pseudonym, has_fit=with_fit.has_fit.fill_null(False))
    referrals = checked.group_by("pseudonym").aggregate(
        lgi_referrals_12m=checked.count(),
        lgi_referrals_without_fit_12m=ibis.ifelse(checked.has_fit, 0, 1).sum(),
    )
    parts = [simple, referrals]
    if "care_home_since" in patients.columns:
        parts.append(_care_home_events(ev, patients, as_of))
    out = patients.select("pseudonym")
    for part in parts:
        fills = {c: EVENT_FILLS[c] for c in part.columns if c != "pseudonym"}
        out = attach(out, part, fills)
    return out


def _care_home_events(ev: ir.Table, patients: ir.Table, as_of: dt.date) -> ir.Table:
    """MDT assessment and PCSP on or after the care-home admission date (not after as_of)."""
    since = patients.filter(patients.care_home_since.notnull()).select(
        home_pseudonym=patients.pseudonym, since=patients.care_home_since
    )
    home_ev = ev.join(since, ev.pseudonym == since.home_pseudonym)
    home_ev = home_ev.filter((home_ev.date >= home_ev.since) & (home_ev.date <= as_of))
    return home_ev.group_by("pseudonym").aggregate(
        assessed_since_admission=(home_ev.concept == CARE_HOME_ASSESSMENT).any(),
        pcsp_since_admission=(home_ev.concept == PCSP).any(),
    )


def _latest_bp(store: Store, as_of: dt.date) -> ir.Table | None:
    if not has_table(store, "observations"):
        return None
    import ibis

    obs = store.table("observations")
    start = add_months(as_of, -BP_WINDOW_MONTHS)
    obs = obs.filter(
        obs.concept.isin(["systolic_bp", "diastolic_bp"])
        & (obs.date >= ibis.literal(start))
        & (obs.date < ibis.literal(as_of))
    )
    systolic = obs.filter(obs.concept == "systolic_bp")
    latest = systolic.group_by("pseudonym").aggregate(latest_bp_date=systolic.date.max())
    on_day = obs.join(
        latest, [obs.pseudonym == latest.pseudonym, obs.date == latest.latest_bp_date]
    )
    return on_day.group_by([obs.pseudonym, "latest_bp_date"]).aggregate(
        latest_sbp=ibis.ifelse(on_day.concept == "systolic_bp", on_day.value, None).max(),
        latest_dbp=ibis.ifelse(on_day.concept == "diastolic_bp", on_day.value, None).max(),
    )


def patient_features(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """One row per patient: :func:`measures.patient_measures` plus the facts above."""
    import ibis

    as_of = measures._as_of(store, as_of)
    table = measures.patient_measures(store, as_of)
    table = table.mutate(imd_quintile=((table.imd_decile + 1) // 2).cast("int32"))
    registers, fills = _registers(store, as_of)
    table = attach(table, registers, fills)
    medicines, fills = _medicines(store, as_of)
    table = attach(table, medicines, fills)
    patients = store.patients
    if "care_home_since" in patients.columns:
        since = patients.select("pseudonym", "care_home_since")
        table = attach(table, since, {"care_home_since": None})
    else:
        table = table.mutate(care_home_since=ibis.null().cast("date"))
    events = _events(store, patients, as_of)
    if events is not None:
        table = attach(table, events, dict.fromkeys(events.columns[1:]))
    missing = [c for c in EVENT_FILLS if c not in table.columns]
    table = table.mutate(
        **{
            c: ibis.literal(EVENT_FILLS[c], type="boolean" if EVENT_FILLS[c] is False else "int64")
            for c in missing
        }
    )
    bp = _latest_bp(store, as_of)
    if bp is not None:
        table = attach(table, bp, {"latest_bp_date": None, "latest_sbp": None, "latest_dbp": None})
    else:
        table = table.mutate(
            latest_bp_date=ibis.null().cast("date"),
            latest_sbp=ibis.null().cast("float64"),
            latest_dbp=ibis.null().cast("float64"),
        )
    return table
