"""Case-finding lists for the Network Contract DES service specifications, each row with the
criteria the person meets, and every list split by IMD quintile and ethnic group.

A list is a :class:`CaseFindingList`: ``required`` criteria (all must hold) and ``any_of``
criteria (at least one must hold, when there are any). ``criteria_met`` on each row names every
criterion of the list that holds for the person, so a clinician sees why they are there. The
definitions are ours, built on the sources in population-health.md section 4 (cited on each
list); each carries embedded test patients (:mod:`pcnkit.population.testpatients`) that the
test suite checks.

Lists are direct-care outputs (population-health.md 5.2 rule 6): :func:`case_finding_list`
returns rows only for a stated practice or PCN scope (a non-empty list of practice codes).
:func:`inequalities` gives the disclosure-controlled split for any scope.

What the data cannot show is stated on each list (``limits``), e.g. bank holidays are not
known, so "7 working days" counts Monday to Friday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ibis import _

from pcnkit.errors import PcnkitError
from pcnkit.population import disclosure, sources
from pcnkit.population.disclosure import safe_count, safe_total
from pcnkit.population.engine import _need_ibis
from pcnkit.population.features import labels_that_hold
from pcnkit.population.testpatients import TestPatient

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

EHCH_WORKING_DAYS = 7


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The date `n` working days (Monday-Friday; bank holidays not known) before `day`."""
    out = day
    while n > 0:
        out -= dt.timedelta(days=1)
        if out.weekday() < 5:
            n -= 1
    return out


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    condition: Callable[[Any, dt.date], Any]


@dataclass(frozen=True)
class CaseFindingList:
    id: str
    name: str
    specification: str
    source: str
    required: tuple[Criterion, ...]
    any_of: tuple[Criterion, ...]
    detail: tuple[str, ...]  # extra columns shown on each row
    limits: str
    test_patients: tuple[TestPatient, ...]

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return (*self.required, *self.any_of)

    def selects(self, t: ir.Table, as_of: dt.date):
        ibis = _need_ibis()
        condition = ibis.literal(True)
        for c in self.required:
            condition = condition & c.condition(t, as_of).fill_null(False)
        if self.any_of:
            some = ibis.literal(False)
            for c in self.any_of:
                some = some | c.condition(t, as_of).fill_null(False)
            condition = condition & some
        return condition

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "specification": self.specification,
            "source": self.source,
            "all_of": [c.label for c in self.required],
            "any_of": [c.label for c in self.any_of],
            "limits": self.limits,
        }


def _c(id: str, label: str, condition) -> Criterion:
    return Criterion(id, label, condition)


def _frail(t, *levels):
    return t.efi_approx_category.isin(list(levels)).fill_null(False)


NO_SMR = _c("no_smr_12m", "no structured medication review in 12 months", lambda t, d: ~t.smr_12m)

SMR = CaseFindingList(
    id="smr",
    name="Structured medication review: priority groups",
    specification="Network Contract DES - Structured Medication Review and Medicines "
    "Optimisation (from October 2020)",
    source=f"{sources.SMR}; {sources.PINCER}",
    required=(NO_SMR,),
    any_of=(
        _c("care_home", "lives in a care home", lambda t, d: t.care_home),
        _c("learning_disability", "on the learning disability register", lambda t, d: t.on_ld),
        _c(
            "polypharmacy_10",
            "10 or more medicines in 12 months",
            lambda t, d: t.medicine_groups_12m >= 10,
        ),
        _c(
            "pincer_nsaid_65_no_ppi",
            "65+ on an NSAID without a PPI",
            lambda t, d: (t.age >= 65) & t.med_nsaids & ~t.med_ppis,
        ),
        _c(
            "pincer_anticoagulant_nsaid",
            "anticoagulant with an NSAID",
            lambda t, d: t.med_anticoagulants & t.med_nsaids,
        ),
        _c(
            "pincer_anticoagulant_antiplatelet_no_ppi",
            "anticoagulant with an antiplatelet, without a PPI",
            lambda t, d: t.med_anticoagulants & t.med_antiplatelets & ~t.med_ppis,
        ),
        _c("pincer_hf_nsaid", "heart failure with an NSAID", lambda t, d: t.on_hf & t.med_nsaids),
        _c("pincer_ckd_nsaid", "CKD with an NSAID", lambda t, d: t.on_ckd & t.med_nsaids),
        _c(
            "high_risk_monitored",
            "on methotrexate, lithium or amiodarone",
            lambda t, d: t.med_methotrexate | t.med_lithium | t.med_amiodarone,
        ),
        _c(
            "severe_frailty_and_risk",
            "severe frailty and housebound, an emergency admission or a fall in 12 months",
            lambda t, d: (
                _frail(t, "severe")
                & (t.housebound | (t.emergency_admissions_12m >= 1) | t.falls_12m)
            ),
        ),
        _c(
            "addictive_medicines",
            "on an opioid, gabapentinoid, benzodiazepine or Z-drug",
            lambda t, d: (
                t.med_opioids | t.med_gabapentinoids | t.med_benzodiazepines | t.med_z_drugs
            ),
        ),
    ),
    detail=("medicine_groups_12m", "efi_approx_category"),
    limits="Medicines are groups, not products; a 'current repeat' is an issue in 12 months. "
    "PINCER monitoring rules (blood tests) need results this data does not hold, so "
    "methotrexate, lithium and amiodarone are listed for any use. People with an SMR coded "
    "in 12 months (SNOMED 1239511000000100) are left off (our rule).",
    test_patients=(
        TestPatient(
            "smr-care-home",
            True,
            age=85,
            patient={"care_home": True},
            criteria=("care_home", "no_smr_12m"),
        ),
        TestPatient(
            "smr-nsaid-no-ppi",
            True,
            age=72,
            medicines=("nsaids",),
            criteria=("pincer_nsaid_65_no_ppi",),
        ),
        TestPatient("smr-nsaid-with-ppi", False, age=72, medicines=("nsaids", "ppis")),
        TestPatient("smr-nsaid-64", False, age=64, medicines=("nsaids", "ppis")),
        TestPatient(
            "smr-anticoag-nsaid",
            True,
            age=50,
            medicines=("anticoagulants", "nsaids", "ppis"),
            criteria=("pincer_anticoagulant_nsaid",),
        ),
        TestPatient("smr-ld", True, age=30, conditions=("LD",), criteria=("learning_disability",)),
        TestPatient(
            "smr-opioid", True, age=40, medicines=("opioids",), criteria=("addictive_medicines",)
        ),
        TestPatient(
            "smr-reviewed",
            False,
            age=40,
            medicines=("opioids",),
            events=(("structured_medication_review", 60),),
        ),
        TestPatient(
            "smr-reviewed-long-ago",
            True,
            age=40,
            medicines=("opioids",),
            events=(("structured_medication_review", 400),),
        ),
        TestPatient("smr-nothing", False, age=80, conditions=("HYP",), medicines=("statins",)),
    ),
)

EHCH = CaseFindingList(
    id="ehch",
    name="Enhanced health in care homes: residents needing action",
    specification="Network Contract DES - Enhanced Health in Care Homes",
    source=sources.EHCH,
    required=(_c("care_home", "lives in a care home", lambda t, d: t.care_home),),
    any_of=(
        _c(
            "new_admission_no_assessment",
            f"admitted in the last {EHCH_WORKING_DAYS} working days without an MDT assessment",
            lambda t, d: (
                (t.care_home_since >= working_days_before(d, EHCH_WORKING_DAYS))
                & ~t.assessed_since_admission
            ),
        ),
        _c(
            "no_pcsp",
            "no personalised care and support plan since admission",
            lambda t, d: ~t.pcsp_since_admission,
        ),
        NO_SMR,
    ),
    detail=("care_home_since",),
    limits="Care-home residence is the patient flag (an address match to the CQC register or a "
    "'lives in care home' code in a real extract). Working days are Monday to Friday; bank "
    "holidays are not known. Home alignment to PCNs is not in the data.",
    test_patients=(
        TestPatient(
            "ehch-new-unassessed",
            True,
            age=86,
            patient={"care_home": True, "care_home_since": "days:3"},
            events=(("pcsp", 1), ("structured_medication_review", 1)),
            criteria=("new_admission_no_assessment",),
        ),
        TestPatient(
            "ehch-new-assessed",
            False,
            age=86,
            patient={"care_home": True, "care_home_since": "days:3"},
            events=(("care_home_assessment", 2), ("pcsp", 1), ("structured_medication_review", 1)),
        ),
        TestPatient(
            "ehch-old-no-pcsp",
            True,
            age=90,
            patient={"care_home": True, "care_home_since": "days:400"},
            events=(("care_home_assessment", 390), ("structured_medication_review", 10)),
            criteria=("no_pcsp",),
        ),
        # a plan made before the admission does not count
        TestPatient(
            "ehch-plan-before-admission",
            True,
            age=90,
            patient={"care_home": True, "care_home_since": "days:100"},
            events=(
                ("care_home_assessment", 90),
                ("pcsp", 120),
                ("structured_medication_review", 10),
            ),
            criteria=("no_pcsp",),
        ),
        TestPatient("ehch-at-home", False, age=90),
    ),
)

PROACTIVE = CaseFindingList(
    id="proactive_care",
    name="Proactive care: moderate or severe frailty, living at home",
    specification="Network Contract DES - Anticipatory / Proactive care (NHSE guidance Dec 2023)",
    source=f"{sources.PROACTIVE}; {sources.EFI_CONTRACT}",
    required=(_c("at_home", "living at home (not in a care home)", lambda t, d: ~t.care_home),),
    any_of=(
        _c(
            "moderate_frailty",
            "moderate frailty (eFI 9-12 of 36)",
            lambda t, d: _frail(t, "moderate"),
        ),
        _c("severe_frailty", "severe frailty (eFI 13+ of 36)", lambda t, d: _frail(t, "severe")),
    ),
    detail=("efi_approx_deficits", "efi_approx_category", "housebound"),
    limits="An approximate eFI from the deficits this data can show; clinical "
    "judgement completes the cohort (NHS England proactive care guidance).",
    test_patients=(
        TestPatient(
            "pc-moderate",
            True,
            age=80,
            conditions=("RA", "AF", "STIA", "CKD", "DM", "HF", "HYP", "CHD", "DEM"),
            criteria=("moderate_frailty", "at_home"),
        ),
        TestPatient(
            "pc-moderate-care-home",
            False,
            age=80,
            patient={"care_home": True},
            conditions=("RA", "AF", "STIA", "CKD", "DM", "HF", "HYP", "CHD", "DEM"),
        ),
        TestPatient("pc-mild", False, age=80, conditions=("RA", "AF", "STIA", "CKD", "DM")),
        TestPatient(
            "pc-64",
            False,
            age=64,
            conditions=("RA", "AF", "STIA", "CKD", "DM", "HF", "HYP", "CHD", "DEM"),
        ),
    ),
)

CVD = CaseFindingList(
    id="cvd_hypertension",
    name="CVD prevention: raised blood pressure, not on the hypertension register",
    specification="Network Contract DES - CVD Prevention and Diagnosis (IIF CVD-01, 2022/23)",
    source=f"{sources.CVD}; {sources.NICE_HYPERTENSION}",
    required=(
        _c("adult", "aged 18 or over", lambda t, d: t.age >= 18),
        _c("not_on_hyp", "not on the hypertension register", lambda t, d: ~t.on_hyp),
        _c("not_palliative", "not on the palliative care register", lambda t, d: ~t.on_pc),
        _c(
            "latest_bp_raised",
            "latest clinic blood pressure in 24 months at or above 140/90",
            lambda t, d: (t.latest_sbp >= 140) | (t.latest_dbp >= 90),
        ),
    ),
    any_of=(),
    detail=("latest_sbp", "latest_dbp", "latest_bp_date"),
    limits="Clinic readings only (the data holds no home or ABPM readings, whose threshold is "
    "135/85). End-of-life exclusion uses the palliative care register.",
    test_patients=(
        TestPatient(
            "cvd-150-85",
            True,
            age=55,
            bp=((150, 85, 30),),
            criteria=("latest_bp_raised", "not_on_hyp"),
        ),
        TestPatient("cvd-130-90", True, age=55, bp=((130, 90, 30),)),
        TestPatient("cvd-139-89", False, age=55, bp=((139, 89, 30),)),
        # high once, normal since: the latest reading decides
        TestPatient("cvd-came-down", False, age=55, bp=((160, 95, 300), (128, 80, 20))),
        TestPatient("cvd-on-register", False, age=55, conditions=("HYP",), bp=((160, 95, 30),)),
        TestPatient("cvd-palliative", False, age=80, conditions=("PC",), bp=((160, 95, 30),)),
        TestPatient("cvd-17", False, age=17, bp=((150, 95, 30),)),
        TestPatient("cvd-too-old-reading", False, age=55, bp=((160, 95, 800),)),
    ),
)

CANCER = CaseFindingList(
    id="cancer_lgi_no_fit",
    name="Early cancer diagnosis: lower-GI urgent referrals without a FIT",
    specification="Network Contract DES - Early Cancer Diagnosis (IIF CAN-02)",
    source=sources.CANCER,
    required=(
        _c(
            "lgi_referral_without_fit",
            "lower-GI urgent suspected-cancer referral in 12 months with no FIT in the 21 days "
            "before it",
            lambda t, d: t.lgi_referrals_without_fit_12m >= 1,
        ),
    ),
    any_of=(),
    detail=("lgi_referrals_12m", "lgi_referrals_without_fit_12m"),
    limits="FIT results are counted whatever their value; the FBC that goes with a low FIT is "
    "not in the data.",
    test_patients=(
        TestPatient(
            "can-no-fit",
            True,
            age=66,
            events=(("lgi_urgent_referral", 40),),
            criteria=("lgi_referral_without_fit",),
        ),
        TestPatient(
            "can-fit-10-days-before",
            False,
            age=66,
            events=(("lgi_urgent_referral", 40), ("fit_test", 50, 4.0)),
        ),
        TestPatient(
            "can-fit-21-days-before",
            False,
            age=66,
            events=(("lgi_urgent_referral", 40), ("fit_test", 61, 12.0)),
        ),
        TestPatient(
            "can-fit-22-days-before",
            True,
            age=66,
            events=(("lgi_urgent_referral", 40), ("fit_test", 62, 12.0)),
        ),
        TestPatient(
            "can-fit-after",
            True,
            age=66,
            events=(("lgi_urgent_referral", 40), ("fit_test", 35, 12.0)),
        ),
        TestPatient("can-old-referral", False, age=66, events=(("lgi_urgent_referral", 400),)),
        TestPatient(
            "can-two-one-without",
            True,
            age=70,
            events=(
                ("lgi_urgent_referral", 40),
                ("fit_test", 45, 3.0),
                ("lgi_urgent_referral", 200),
            ),
        ),
    ),
)

LISTS: tuple[CaseFindingList, ...] = (SMR, EHCH, PROACTIVE, CVD, CANCER)
LIST_BY_ID = {c.id: c for c in LISTS}
ROW_COLUMNS = ("pseudonym", "practice", "age", "sex", "ethnic_group", "imd_quintile")


def get(list_id: str) -> CaseFindingList:
    try:
        return LIST_BY_ID[list_id]
    except KeyError:
        raise PcnkitError(
            f"unknown case-finding list '{list_id}'; choose one of {', '.join(LIST_BY_ID)}"
        ) from None


def criteria_met(definition: CaseFindingList, t: ir.Table, as_of: dt.date):
    """The labels of the list's criteria that hold, '; '-separated."""
    return labels_that_hold((c.condition(t, as_of), c.label) for c in definition.criteria)


def criteria_ids(definition: CaseFindingList, t: ir.Table, as_of: dt.date):
    """The ids of the list's criteria that hold, ','-separated (for machines and tests)."""
    return labels_that_hold(((c.condition(t, as_of), c.id) for c in definition.criteria), ",")


def all_members(definition: CaseFindingList, features: ir.Table, as_of: dt.date) -> ir.Table:
    """Everyone on the list in `features` (any scope): the row columns, ``criteria_met``,
    ``criteria_ids``, ``predicted_risk`` when present and the list's detail columns."""
    rows = features.filter(definition.selects(features, as_of))
    extra = [c for c in ("predicted_risk", *definition.detail) if c in rows.columns]
    return rows.select(
        *ROW_COLUMNS,
        criteria_met=criteria_met(definition, rows, as_of),
        criteria_ids=criteria_ids(definition, rows, as_of),
        **{c: rows[c] for c in extra},
    )


def case_finding_list(
    definition: CaseFindingList | str,
    features: ir.Table,
    as_of: dt.date,
    practices: Iterable[str],
) -> ir.Table:
    """The list for a stated scope of practices (a direct-care output: never for 'everyone').
    Ordered by practice, then predicted risk (highest first) when known, then pseudonym."""
    definition = get(definition) if isinstance(definition, str) else definition
    codes = sorted({p.strip().upper() for p in practices})
    if not codes:
        raise PcnkitError(
            "a case-finding list is a direct-care output: name the practice or PCN it is for"
        )
    scoped = features.filter(features.practice.isin(codes))
    rows = all_members(definition, scoped, as_of)
    order = ["practice"]
    if "predicted_risk" in rows.columns:
        order.append(rows.predicted_risk.desc())
    return rows.order_by([*order, "pseudonym"])


def inequalities(members: ir.Table, features: ir.Table, by: str) -> list[dict[str, object]]:
    """The list split by ``imd_quintile`` or ``ethnic_group``: for each group, people on the
    list, registered patients and the rate per 1,000, all through disclosure control (rates
    from the safe counts; suppressed when either count is redacted)."""
    if by not in ("imd_quintile", "ethnic_group"):
        raise PcnkitError("split a list by 'imd_quintile' or 'ethnic_group'")
    on = {
        r[by]: r["n"] for r in members.group_by(by).aggregate(n=_.count()).to_pyarrow().to_pylist()
    }
    reg = {
        r[by]: r["n"] for r in features.group_by(by).aggregate(n=_.count()).to_pyarrow().to_pylist()
    }
    return inequality_rows(on, reg, by)


def inequality_rows(on: dict, reg: dict, by: str) -> list[dict[str, object]]:
    """`inequalities` from raw counts by group: people on the list (`on`) and registered
    patients (`reg`)."""
    groups = sorted(set(reg) | set(on), key=lambda g: (g is None, str(g)))
    rows = []
    for g in groups:
        listed = safe_count(on.get(g, 0), f"list count for {by} {g}")
        registered = safe_count(reg.get(g, 0), f"registered count for {by} {g}")
        rows.append(
            {
                by: g,
                "on_list": listed,
                "registered": registered,
                "per_1000": disclosure.safe_rate(listed, registered, per=1000),
            }
        )
    total_on = safe_total(r["on_list"] for r in rows)
    total_reg = safe_total(r["registered"] for r in rows)
    rows.append(
        {
            by: "total",
            "on_list": total_on,
            "registered": total_reg,
            "per_1000": disclosure.safe_rate(total_on, total_reg, per=1000),
        }
    )
    return rows


def check_test_patients(as_of: dt.date) -> list[str]:
    """Run every list's embedded test patients; return the failures (none = pass)."""
    from pcnkit.population import features
    from pcnkit.population.testpatients import build_store

    failures = []
    for definition in LISTS:
        store = build_store(list(definition.test_patients), as_of)
        table = features.patient_features(store, as_of)
        rows = all_members(definition, table, as_of).to_pyarrow().to_pylist()
        got = {r["pseudonym"]: set(r["criteria_ids"].split(",")) for r in rows}
        for case in definition.test_patients:
            if (case.name in got) != case.expect:
                failures.append(
                    f"{definition.id}/{case.name}: expected {'in' if case.expect else 'out'}"
                )
            elif case.expect and not set(case.criteria) <= got[case.name]:
                missing = sorted(set(case.criteria) - got[case.name])
                failures.append(f"{definition.id}/{case.name}: criteria not met: {missing}")
    return failures
