"""Patient-level population measures, each an Ibis expression over the population store.

Every measure is built from the store's tables (``patients``, ``conditions``, ``medications``,
``hospital``; see :mod:`pcnkit.population.synthetic` for their columns) and returns ONE ROW PER
PATIENT in ``patients``: ``pseudonym`` plus the measure's columns, with 0 (or false) for a
patient the source table says nothing about. Nothing is executed here, so the same definitions
run on DuckDB and on Spark (tests/population/test_engines.py). The results are patient-level:
aggregate them and pass them through :mod:`pcnkit.population.disclosure` before anything leaves.

Conventions
-----------
* ``as_of`` is the index date (by default the date the store describes, ``store.as_of``).
* "The 12 months before as_of" is the half-open window ``[as_of - 12 months, as_of)``: an event
  dated exactly 12 calendar months before ``as_of`` counts, an event on ``as_of`` itself (or
  later) does not. 12 calendar months back from 29 February is 28 February. This matches the
  synthetic generator, which dates activity in ``[as_of - 365 days, as_of)``.
* A condition counts at ``as_of`` when its ``diagnosis_date`` is on or before ``as_of`` (or
  unknown): a code-based deficit "is present from its first ever code up to the index date"
  (population-health.md 1.3). Without ``as_of``, ``ltc_count`` and ``cms`` count every row of
  the conditions table (the registers as extracted).

The measures
------------
* :func:`ltc_count` - distinct QOF register groups (population-health.md 2.2).
* :func:`polypharmacy` - distinct medicine groups issued in the 12 months; flags 5+ and 10+
  (section 4.1: NCL's thresholds, >=5 polypharmacy, >=10 severe).
* :func:`prior_activity` - emergency admissions and A&E attendances in the 12 months.
* :func:`cms` - a PARTIAL Cambridge Multimorbidity Score from the QOF groups that map to CMS
  conditions (:data:`CMS_FROM_QOF`); five CMS conditions and the anxiety half of "anxiety or
  depression" have no QOF source (:data:`CMS_WITHOUT_QOF_SOURCE`), so it underestimates.
* :func:`efi_approx` - an APPROXIMATE electronic Frailty Index from the 15 of the 36 deficits
  QOF, the patient flags and medicines can show (:data:`EFI_FROM_QOF`,
  :data:`EFI_FROM_PATIENT_FLAGS`, polypharmacy) plus, when the store has an ``events`` table,
  the 21 coded deficits of :data:`EFI_FROM_EVENTS`; it underestimates frailty. 65+ only.
* :func:`patient_measures` - all of the above with age, sex, practice, ethnic group, IMD decile,
  care home and housebound, one row per patient.

:data:`MEASURE_DEFINITIONS` gives every output column's plain-English definition and source.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError
from pcnkit.population import codelists
from pcnkit.population.engine import age_at, has_table

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir


class Store(Protocol):
    """What the measures need: a :class:`~pcnkit.population.engine.PopulationStore`, or any
    object with the same tables (tests use Ibis memtables)."""

    as_of: dt.date | None

    @property
    def patients(self) -> ir.Table: ...

    @property
    def conditions(self) -> ir.Table: ...

    def table(self, name: str) -> ir.Table: ...


# --- mapping tables (data) ----------------------------------------------------------------

# QOF register group -> CMS condition id (cms_conditions code list). Only where the meaning
# matches; every CMS condition is one flag, so two groups mapping to one condition count once.
CMS_FROM_QOF: dict[str, str] = {
    "DEM": "dementia",
    "CAN": "cancer",  # QOF CAN is all-time (since 2003); the CMS window is believed 5 years
    "COPD": "copd",
    "AF": "atrial_fibrillation",
    "HF": "heart_failure",
    "EP": "epilepsy",  # QOF EP is 18+ on drug treatment for epilepsy: "treated epilepsy"
    "STIA": "stroke_tia",
    "DM": "diabetes",
    "MH": "psychosis",  # schizophrenia, bipolar affective disorder and other psychoses
    "CKD": "ckd",  # QOF CKD is stages 3a-5 (eGFR < 60)
    "DEP": "anxiety_depression",  # depression only: anxiety has no QOF register
    "CHD": "chd",
    "RA": "ra_connective_tissue",  # rheumatoid arthritis only, not other connective tissue
    "AST": "asthma",
    "HYP": "hypertension",
}

# CMS conditions no QOF register records (the score cannot see them).
CMS_WITHOUT_QOF_SOURCE: tuple[str, ...] = (
    "constipation",  # treated constipation: a prescription rule (not read)
    "painful_condition",  # a prescription rule (not read)
    "alcohol_problems",
    "ibs",
    "hearing_loss",
)
# CMS conditions mapped only in part.
CMS_PARTIAL_SOURCES: dict[str, str] = {
    "anxiety_depression": "depression (DEP) only; anxiety has no QOF register",
    "ra_connective_tissue": "rheumatoid arthritis (RA) only; other connective tissue disorders "
    "have no QOF register",
    "cancer": "QOF CAN holds cancers diagnosed since April 2003, not only the last 5 years",
}
# QOF groups that map to no CMS condition.
QOF_NOT_IN_CMS: tuple[str, ...] = ("LD", "NDH", "OB", "OST", "PAD", "PC")

# QOF register group -> eFI deficit id (efi_deficits code list), where the group's condition
# is in the deficit's code set (gm-sde efi-* sets). Each deficit counts once.
EFI_FROM_QOF: dict[str, str] = {
    "RA": "arthritis",  # deficit 3 (the arthritis set includes rheumatoid arthritis)
    "AF": "atrial_fibrillation",  # deficit 4
    "STIA": "stroke_tia",  # deficit 5 cerebrovascular disease
    "CKD": "ckd",  # deficit 6
    "DM": "diabetes",  # deficit 7
    "HF": "heart_failure",  # deficit 14
    "HYP": "hypertension",  # deficit 17
    "CHD": "chd",  # deficit 19 ischaemic heart disease
    "DEM": "cognitive_problems",  # deficit 20 memory & cognitive problems
    "OST": "osteoporosis",  # deficit 22
    "PAD": "pvd",  # deficit 25 peripheral vascular disease
    "COPD": "respiratory_disease",  # deficit 28
    "AST": "respiratory_disease",  # deficit 28 (one deficit with COPD)
}
# patients column (true/false) -> eFI deficit id.
EFI_FROM_PATIENT_FLAGS: dict[str, str] = {
    "housebound": "housebound",  # deficit 16
    # deficit 27: gm-sde efi-care-requirement holds "Lives in care home" (248171000000108) and
    # "Lives in nursing home" (160734000)
    "care_home": "care_requirement",
}
EFI_POLYPHARMACY_DEFICIT = "polypharmacy"  # deficit 26, from the medications table
# eFI deficits read from the events table (concept = the deficit id; present from the first
# event dated on or before as_of): the 21 that QOF registers, the patient flags and
# polypharmacy cannot show. Real extracts must map SNOMED codes to these ids with the gm-sde
# efi-* code sets, which the efi_deficits code list does not hold yet (codes: []).
EFI_FROM_EVENTS: tuple[str, ...] = (
    "activity_limitation",  # deficit 1
    "anaemia",  # 2
    "dizziness",  # 8
    "dyspnoea",  # 9
    "falls",  # 10
    "foot_problems",  # 11
    "fragility_fracture",  # 12
    "hearing_loss",  # 13
    "heart_valve_disease",  # 15
    "hypotension",  # 18
    "mobility_problems",  # 21
    "parkinsons",  # 23
    "peptic_ulcer",  # 24
    "skin_ulcer",  # 29
    "sleep_disturbance",  # 30
    "social_vulnerability",  # 31
    "thyroid_disorders",  # 32
    "urinary_incontinence",  # 33
    "urinary_system_disease",  # 34
    "vision_problems",  # 35
    "weight_loss",  # 36
)
EFI_EVENTS_TABLE = "events"
EFI_POLYPHARMACY_MIN = 5
EFI_DEFICITS = 36
EFI_MIN_AGE = 65
# Deficit count bands (population-health.md 1.1: use counts, not a rounded score).
EFI_CATEGORIES: tuple[tuple[str, int, int | None], ...] = (
    ("fit", 0, 4),
    ("mild", 5, 8),
    ("moderate", 9, 12),
    ("severe", 13, None),
)

POLYPHARMACY_THRESHOLDS = (5, 10)
WINDOW_MONTHS = 12
EMERGENCY_ADMISSION = "emergency_admission"
AE_ATTENDANCE = "ae"


def efi_detectable_deficits(events: bool = False) -> tuple[str, ...]:
    """The eFI deficits efi_approx can detect, in the code list's order: 15 from QOF registers,
    patient flags and medicines, and with `events` (a store with an events table) also the
    21 of :data:`EFI_FROM_EVENTS`."""
    found = (
        set(EFI_FROM_QOF.values())
        | set(EFI_FROM_PATIENT_FLAGS.values())
        | {EFI_POLYPHARMACY_DEFICIT}
        | (set(EFI_FROM_EVENTS) if events else set())
    )
    return tuple(g.id for g in codelists.load("efi_deficits").groups if g.id in found)


def efi_undetectable_deficits(events: bool = False) -> tuple[str, ...]:
    """The eFI deficits the data cannot show (without `events`: no coded SNOMED events), in
    order. With an events table none is wholly undetectable, but see EFI_APPROX_DEFINITION for
    the deficits that are detected only in part."""
    found = set(efi_detectable_deficits(events))
    return tuple(g.id for g in codelists.load("efi_deficits").groups if g.id not in found)


CMS_DEFINITION = (
    "PARTIAL Cambridge Multimorbidity Score (Payne et al. 2020, 20 conditions, general "
    "weights from the cms_conditions code list; population-health.md 2.1): the sum of the "
    "weights of the CMS conditions present, where a condition is present when the patient is "
    "on a QOF register that maps to it (AF, AST, CAN, CHD, CKD, COPD, DEM, DEP, DM, EP, HF, "
    "HYP, MH, RA, STIA). Five CMS conditions have no QOF source and are never counted "
    "(treated constipation, painful condition, alcohol problems, irritable bowel syndrome, "
    "hearing loss), anxiety counts only through depression, connective tissue disorders only "
    "through rheumatoid arthritis, and cancer is all-time rather than the CMS window, so the "
    "score underestimates the full CMS. Not the published CMS code definitions."
)

EFI_APPROX_DEFINITION = (
    "APPROXIMATE electronic Frailty Index (after Clegg et al. 2016; population-health.md 1): "
    "deficits present / 36, for people aged 65+ at as_of (null below 65), banded by deficit "
    "count as fit 0-4, mild 5-8, moderate 9-12, severe 13+. Only 15 of the 36 deficits can be "
    "seen in this data: 12 from QOF registers diagnosed on or before as_of (arthritis <- RA, "
    "atrial fibrillation <- AF, cerebrovascular disease <- STIA, CKD <- CKD, diabetes <- DM, "
    "heart failure <- HF, hypertension <- HYP, ischaemic heart disease <- CHD, memory & "
    "cognitive problems <- DEM, osteoporosis <- OST, peripheral vascular disease <- PAD, "
    "respiratory disease <- COPD or AST), housebound <- the housebound flag, requirement for "
    "care <- the care-home flag, and polypharmacy <- 5+ distinct medicine groups issued in the "
    "12 months before as_of (the eFI counts distinct products in a rolling 12 months; groups "
    "are coarser). When the store has an events table, the other 21 deficits (activity "
    "limitation, anaemia, dizziness, dyspnoea, falls, foot problems, fragility fracture, "
    "hearing impairment, heart valve disease, hypotension/syncope, mobility problems, "
    "parkinsonism, peptic ulcer, skin ulcer, sleep disturbance, social vulnerability, thyroid "
    "disease, urinary incontinence, urinary system disease, visual impairment, weight loss) "
    "count too, each once, from its first event (concept = the deficit id) dated on or before "
    "as_of, so all 36 can be seen; without an events table they cannot, and the count is of "
    "15. Still only in part: arthritis is rheumatoid arthritis only (no osteoarthritis "
    "register), memory problems are dementia only, respiratory disease is the COPD and asthma "
    "registers, housebound and requirement for care are flags rather than the efi code sets, "
    "none of the value rules (Barthel, haemoglobin, eGFR/ACR, TSH, ABPM, 6CIT, DXA, ABPI, "
    "MUST, COPD exacerbations) is applied, and the events' concept ids are not yet mapped "
    "from SNOMED codes (the gm-sde code sets are not in the efi_deficits code list), so on a "
    "real extract without that mapping it still UNDERESTIMATES frailty. It is not the eFI; do "
    "not use it alone to meet the contract's frailty identification."
)

MEASURE_DEFINITIONS: dict[str, str] = {
    "pseudonym": "The patient's pseudonym in the population store.",
    "practice": "The patient's registered practice code.",
    "sex": "Sex as recorded in the patients table.",
    "age": "Whole years of age at as_of, from month of birth (engine.age_at).",
    "ethnic_group": "ONS 5-group ethnic group as recorded in the patients table.",
    "imd_decile": "Index of Multiple Deprivation decile of the patient's LSOA (1 = most "
    "deprived), from the patients table's lsoa_imd_decile.",
    "care_home": "Lives in a care home (patients table flag; null read as false).",
    "housebound": "Housebound (patients table flag; null read as false).",
    "ltc_count": "Number of distinct QOF register groups the patient is on (all 21 groups of "
    "the qof_registers code list, including OB, NDH, LD and PC), counting conditions diagnosed "
    "on or before as_of when as_of is given; 0 for none. Simple count as in "
    "population-health.md 2.2 (multimorbidity = 2+).",
    "medicine_groups_12m": "Number of distinct medicine groups with at least one issue in the "
    "12 months before as_of ([as_of - 12 months, as_of)); 0 for none.",
    "polypharmacy_5plus": "medicine_groups_12m >= 5 (polypharmacy; population-health.md 4.1, "
    "NCL threshold).",
    "polypharmacy_10plus": "medicine_groups_12m >= 10 (severe polypharmacy; the SMR priority "
    "cohort 'especially 10+ medications', population-health.md 4.1).",
    "emergency_admissions_12m": "Number of emergency admissions (hospital kind "
    "'emergency_admission') dated in the 12 months before as_of ([as_of - 12 months, as_of)).",
    "ae_attendances_12m": "Number of A&E attendances (hospital kind 'ae') dated in the 12 "
    "months before as_of ([as_of - 12 months, as_of)).",
    "cms_general": CMS_DEFINITION,
    "efi_approx_deficits": "Number of the detectable eFI deficits present: 15 without an "
    "events table, 36 with one (see efi_approx_score); null below 65.",
    "efi_approx_score": EFI_APPROX_DEFINITION,
    "efi_approx_category": "fit / mild / moderate / severe from efi_approx_deficits (0-4, 5-8, "
    "9-12, 13+: population-health.md 1.1, which bands on the count to avoid the 0.36 rounding "
    "trap); null below 65. Approximate: see efi_approx_score.",
}


# --- helpers ------------------------------------------------------------------------------


def window_12m(as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The 12-month look-back window as (first day included, first day excluded)."""
    return add_months(as_of, -WINDOW_MONTHS), as_of


def _as_of(store: Store, as_of: dt.date | None) -> dt.date:
    if as_of is not None:
        return as_of
    if getattr(store, "as_of", None) is None:
        raise PcnkitError(
            "the measure needs an index date: pass as_of=, or open the store with as_of="
        )
    return store.as_of  # type: ignore[return-value]


def attach(base: ir.Table, agg: ir.Table, fills: dict[str, object]) -> ir.Table:
    """`base` (one row per patient) with `agg`'s columns (at most one row per pseudonym),
    missing values filled from `fills` (a fill of None leaves them null)."""
    import ibis

    joined = base.left_join(agg, base.pseudonym == agg.pseudonym)
    return joined.select(
        *[base[c] for c in base.columns],
        *[
            (agg[c] if fill is None else ibis.coalesce(agg[c], fill)).name(c)
            for c, fill in fills.items()
        ],
    )


def _patients(store: Store) -> ir.Table:
    return store.patients.select("pseudonym")


def _conditions_at(store: Store, as_of: dt.date | None) -> ir.Table:
    conditions = store.conditions
    if as_of is None:
        return conditions
    import ibis

    return conditions.filter(
        conditions.diagnosis_date.isnull() | (conditions.diagnosis_date <= ibis.literal(as_of))
    )


def _in_window(column: ir.DateValue, as_of: dt.date) -> ir.BooleanValue:
    import ibis

    start, end = window_12m(as_of)
    return (column >= ibis.literal(start)) & (column < ibis.literal(end))


def _map(column: ir.StringValue, mapping: dict[str, str]) -> ir.StringValue:
    return column.cases(*mapping.items(), else_=None)


# --- the measures -------------------------------------------------------------------------


def ltc_count(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """pseudonym, ltc_count: distinct QOF groups per patient (0 for none). With `as_of`, only
    conditions diagnosed on or before it (or with no date) count."""
    conditions = _conditions_at(store, as_of)
    agg = conditions.group_by("pseudonym").aggregate(ltc_count=conditions.qof_group.nunique())
    return attach(_patients(store), agg, {"ltc_count": 0})


def polypharmacy(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """pseudonym, medicine_groups_12m, polypharmacy_5plus, polypharmacy_10plus.

    Distinct medicine groups with an issue in ``[as_of - 12 months, as_of)``: an issue exactly
    12 calendar months before as_of counts; one on as_of does not."""
    as_of = _as_of(store, as_of)
    meds = store.table("medications")
    recent = meds.filter(_in_window(meds.issue_date, as_of))
    agg = recent.group_by("pseudonym").aggregate(
        medicine_groups_12m=recent.medicine_group.nunique()
    )
    counted = attach(_patients(store), agg, {"medicine_groups_12m": 0})
    low, high = POLYPHARMACY_THRESHOLDS
    return counted.mutate(
        polypharmacy_5plus=counted.medicine_groups_12m >= low,
        polypharmacy_10plus=counted.medicine_groups_12m >= high,
    )


def prior_activity(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """pseudonym, emergency_admissions_12m, ae_attendances_12m: hospital events dated in
    ``[as_of - 12 months, as_of)`` (0 for none)."""
    import ibis

    as_of = _as_of(store, as_of)
    hospital = store.table("hospital")
    recent = hospital.filter(_in_window(hospital.date, as_of))
    agg = recent.group_by("pseudonym").aggregate(
        emergency_admissions_12m=ibis.ifelse(recent.kind == EMERGENCY_ADMISSION, 1, 0).sum(),
        ae_attendances_12m=ibis.ifelse(recent.kind == AE_ATTENDANCE, 1, 0).sum(),
    )
    return attach(_patients(store), agg, {"emergency_admissions_12m": 0, "ae_attendances_12m": 0})


def cms_weights(variant: str = "general") -> dict[str, Decimal]:
    """CMS condition id -> weight for `variant`, from the cms_conditions code list."""
    cms_list = codelists.load("cms_conditions")
    if variant not in cms_list.weight_variants:
        raise PcnkitError(
            f"unknown CMS weight variant '{variant}'; use one of {cms_list.weight_variants}"
        )
    weights = {g.id: g.weights[variant] for g in cms_list.groups}
    missing = sorted(c for c in set(CMS_FROM_QOF.values()) if weights.get(c) is None)
    if missing:
        raise PcnkitError(
            f"the cms_conditions code list has no '{variant}' weight for {missing}; "
            "use variant='general' or 'mortality'"
        )
    return weights  # type: ignore[return-value]


def cms(store: Store, as_of: dt.date | None = None, *, variant: str = "general") -> ir.Table:
    """pseudonym, cms_<variant>: a PARTIAL Cambridge Multimorbidity Score (see
    :data:`CMS_DEFINITION`): the sum of the `variant` weights (default general) of the CMS
    conditions mapped from the patient's QOF groups (:data:`CMS_FROM_QOF`), each condition once;
    0 for none. The conditions in :data:`CMS_WITHOUT_QOF_SOURCE` are never counted, so it
    underestimates the full 20-condition score. Summed as exact decimals, returned as float64.
    """
    import ibis

    weights = cms_weights(variant)
    conditions = _conditions_at(store, as_of)
    mapped = (
        conditions.select("pseudonym", condition=_map(conditions.qof_group, CMS_FROM_QOF))
        .filter(lambda t: t.condition.notnull())
        .distinct()
    )
    weight_of = {c: weights[c] for c in sorted(set(CMS_FROM_QOF.values()))}
    weight = mapped.condition.cases(
        *[(c, ibis.literal(w, type="decimal(6, 2)")) for c, w in weight_of.items()],
        else_=None,
    )
    column = f"cms_{variant}"
    agg = mapped.group_by("pseudonym").aggregate(**{column: weight.sum()})
    out = attach(_patients(store), agg, {column: ibis.literal(Decimal("0"), "decimal(6, 2)")})
    return out.mutate(**{column: out[column].cast("float64")})


cms.definition = CMS_DEFINITION  # type: ignore[attr-defined]


def efi_approx(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """pseudonym, efi_approx_deficits, efi_approx_score, efi_approx_category.

    An APPROXIMATE electronic Frailty Index (see :data:`EFI_APPROX_DEFINITION`): the number of
    the detectable eFI deficits present at `as_of` (QOF groups via :data:`EFI_FROM_QOF`,
    housebound and care-home flags via :data:`EFI_FROM_PATIENT_FLAGS`, polypharmacy as 5+
    distinct medicine groups in the 12 months and, when the store has an ``events`` table,
    the deficits of :data:`EFI_FROM_EVENTS` from their first event on or before `as_of`),
    over 36, banded on the count (fit 0-4, mild 5-8, moderate 9-12, severe 13+). People under
    65 at `as_of` get nulls.

    Without an events table the eFI's other 21 deficits (falls, dizziness, visual
    impairment, ...) cannot be detected and this underestimates frailty badly; with one,
    several deficits are still seen only in part (no value rules, RA-only arthritis, ...), so
    it still UNDERESTIMATES frailty: it is not the eFI.
    """
    import ibis

    as_of = _as_of(store, as_of)
    patients = store.patients
    conditions = _conditions_at(store, as_of)
    mapped = conditions.select("pseudonym", deficit=_map(conditions.qof_group, EFI_FROM_QOF))
    mapped = mapped.filter(mapped.deficit.notnull())
    poly = polypharmacy(store, as_of)
    base = patients.select(
        "pseudonym",
        age=age_at(patients, as_of),
        flag_deficits=sum(
            (ibis.ifelse(patients[flag].fill_null(False), 1, 0) for flag in EFI_FROM_PATIENT_FLAGS),
            ibis.literal(0),
        ),
    )
    if has_table(store, EFI_EVENTS_TABLE):
        events = store.table(EFI_EVENTS_TABLE)
        events = events.filter(
            events.concept.isin(EFI_FROM_EVENTS)
            & (events.date.isnull() | (events.date <= ibis.literal(as_of)))
        )
        mapped = mapped.union(events.select("pseudonym", deficit=events.concept))
    coded = mapped.group_by("pseudonym").aggregate(qof_deficits=mapped.deficit.nunique())
    with_coded = attach(base, coded, {"qof_deficits": 0})
    joined = with_coded.left_join(poly, with_coded.pseudonym == poly.pseudonym)
    total = (
        joined.qof_deficits
        + joined.flag_deficits
        + ibis.ifelse(joined.medicine_groups_12m >= EFI_POLYPHARMACY_MIN, 1, 0)
    )
    eligible = joined.age >= EFI_MIN_AGE
    null_int = ibis.null().cast("int64")
    deficits = ibis.ifelse(eligible, total.cast("int64"), null_int)
    bands = [(deficits <= high, name) for name, _low, high in EFI_CATEGORIES if high is not None]
    category = ibis.cases(*bands, else_=EFI_CATEGORIES[-1][0])
    return joined.select(
        with_coded.pseudonym,
        efi_approx_deficits=deficits,
        efi_approx_score=ibis.ifelse(
            eligible, deficits.cast("float64") / EFI_DEFICITS, ibis.null().cast("float64")
        ),
        efi_approx_category=ibis.ifelse(eligible, category, ibis.null().cast("string")),
    )


efi_approx.definition = EFI_APPROX_DEFINITION  # type: ignore[attr-defined]


def patient_measures(store: Store, as_of: dt.date | None = None) -> ir.Table:
    """One row per patient: pseudonym, practice, sex, age, ethnic_group, imd_decile, care_home,
    housebound, ltc_count, medicine_groups_12m, polypharmacy_5plus, polypharmacy_10plus,
    emergency_admissions_12m, ae_attendances_12m, cms_general, efi_approx_deficits,
    efi_approx_score, efi_approx_category (see :data:`MEASURE_DEFINITIONS`). Conditions count
    when diagnosed on or before `as_of`; activity in the 12 months before it."""
    as_of = _as_of(store, as_of)
    patients = store.patients
    table = patients.select(
        "pseudonym",
        "practice",
        "sex",
        age=age_at(patients, as_of),
        ethnic_group=patients.ethnic_group,
        imd_decile=patients.lsoa_imd_decile.cast("int32"),
        care_home=patients.care_home.fill_null(False),
        housebound=patients.housebound.fill_null(False),
    )
    parts = (
        ltc_count(store, as_of),
        polypharmacy(store, as_of),
        prior_activity(store, as_of),
        cms(store, as_of),
        efi_approx(store, as_of),
    )
    for part in parts:
        joined = table.left_join(part, table.pseudonym == part.pseudonym)
        table = joined.select(
            *[table[c] for c in table.columns],
            *[part[c] for c in part.columns if c != "pseudonym"],
        )
    return table
