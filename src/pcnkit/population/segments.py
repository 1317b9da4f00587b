"""The triangle of care: every person in exactly one tier, with the rule that put them there;
and the rising-risk cohort offered proactive care planning.

The rule set is population-health.md 3.2 ("our synthesis, not a national standard"), built on
SNEE, CIPHA and NCL's published segmentations (S18-S20) and NHSE's B2H organ-failure example
(S16). Rules are evaluated top-down and the first that holds names the tier (``tier_rule``):

High complexity
  ``hc_palliative``      on the palliative care register (QOF PC)
  ``hc_care_home``       lives in a care home
  ``hc_severe_frailty``  severe frailty (eFI 13+ of 36 deficits, 65+)
  ``hc_organ_failure``   heart failure or CKD with 2+ emergency admissions in 12 months. An
                         APPROXIMATION: the source's marker is CKD stage 4-5 with repeated
                         admissions; QOF's CKD register holds stages 3a-5 and no stage.
  ``hc_complex_adult``   NCL "complex adults" v2.2, the parts this data holds: 18+, one
                         complexity criterion (moderate/severe frailty, 3+ LTCs, palliative) AND
                         one activity criterion (2+ emergency admissions, 3+ A&E attendances,
                         housebound). GP appointments, outpatient specialties, homelessness and
                         substance misuse are not in the data.
Rising risk (the proactive care-planning pool)
  ``rr_moderate_frailty``  moderate frailty (eFI 9-12, 65+)
  ``rr_multimorbidity``    3+ long-term conditions (QOF groups)
  ``rr_cms_top_decile``    Cambridge Multimorbidity Score above the 90th centile of the person's
                           ten-year age band in the data being stratified (the band's
                           threshold is reported)
  ``rr_polypharmacy``      10+ distinct medicine groups in 12 months
  ``rr_recent_use``        an emergency admission, or 3+ A&E attendances, in 12 months
  ``rr_predicted_risk``    predicted 12-month emergency-admission risk in the top
                           ``RISK_TOP_FRACTION`` (5%) of the population stratified
Well
  ``well_ltc_stable``  1+ long-term conditions, none of the above
  ``well_healthy``     everyone else

The rising-risk cohort (:func:`rising_risk_cohort`): the rising-risk tier ranked by predicted
risk within each practice (ties by pseudonym), the top ``quota`` per practice, where quota =
round-half-up(list size x per_10000 / 10000), default 50 per 10,000 (NW London's figure,
``004_e31b2e947ae02ce1.txt``; no public source found, population-health.md 7 - shown as
unconfirmed). The list size is the practice's patients in the store.

The thresholds that depend on the data (CMS centiles, the risk cut-off) are computed from
aggregates in Python, so both engines apply the same literal numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ibis import _

from pcnkit.errors import PcnkitError
from pcnkit.population import sources
from pcnkit.population.features import labels_that_hold
from pcnkit.population.testpatients import TestPatient

if TYPE_CHECKING:  # pragma: no cover
    import ibis.expr.types as ir

HIGH, RISING, WELL = "high_complexity", "rising_risk", "well"
TIERS = (HIGH, RISING, WELL)
TIER_LABELS = {HIGH: "High complexity", RISING: "Rising risk", WELL: "Well / stable"}
RISK_TOP_FRACTION = 0.05
CMS_CENTILE = 0.90
CMS_BAND_YEARS = 10
DEFAULT_QUOTA_PER_10000 = 50
QUOTA_SOURCE = (
    f"{sources.RISING_RISK_QUOTA}. UNCONFIRMED: a local committee paper, not a published "
    "national figure"
)


@dataclass(frozen=True)
class Thresholds:
    """The data-dependent cut-offs, computed once from aggregates (see `thresholds`)."""

    cms_by_band: dict[int, float]  # ten-year band start -> the 90th-centile CMS in that band
    risk: float  # predicted risk at or above which a person is in the top RISK_TOP_FRACTION
    risk_fraction: float = RISK_TOP_FRACTION

    def to_dict(self) -> dict[str, Any]:
        return {
            "cms_90th_centile_by_age_band": {
                f"{b}-{b + CMS_BAND_YEARS - 1}": v for b, v in sorted(self.cms_by_band.items())
            },
            "predicted_risk_cut_off": self.risk,
            "predicted_risk_top_fraction": self.risk_fraction,
        }


@dataclass(frozen=True)
class Rule:
    id: str
    tier: str
    label: str
    basis: str
    condition: Callable[[Any, Thresholds], Any]


def _frailty(t, *levels: str):
    return t.efi_approx_category.isin(list(levels)).fill_null(False)


def _cms_top(t, th: Thresholds):
    import ibis

    band = (t.age // CMS_BAND_YEARS) * CMS_BAND_YEARS
    cut = band.cases(*[(b, ibis.literal(v)) for b, v in sorted(th.cms_by_band.items())], else_=None)
    return ((t.cms_general > cut) & (t.cms_general > 0)).fill_null(False)


RULES: tuple[Rule, ...] = (
    Rule(
        "hc_palliative",
        HIGH,
        "on the palliative care register",
        f"{sources.SEGMENTATION_SNEE}; {sources.SEGMENTATION_CIPHA}",
        lambda t, th: t.on_pc,
    ),
    Rule(
        "hc_care_home",
        HIGH,
        "lives in a care home",
        f"{sources.SEGMENTATION_SNEE} ('Age well')",
        lambda t, th: t.care_home,
    ),
    Rule(
        "hc_severe_frailty",
        HIGH,
        "severe frailty (eFI 13+ of 36)",
        f"{sources.SEGMENTATION_SNEE}; {sources.EFI}",
        lambda t, th: _frailty(t, "severe"),
    ),
    Rule(
        "hc_organ_failure",
        HIGH,
        "heart failure or CKD with 2+ emergency admissions in 12 months (approximation)",
        sources.SEGMENTATION_NHSE,
        lambda t, th: (t.on_hf | t.on_ckd) & (t.emergency_admissions_12m >= 2),
    ),
    Rule(
        "hc_complex_adult",
        HIGH,
        "complex adult: 18+, complexity (moderate/severe frailty, 3+ LTCs or palliative) and "
        "activity (2+ emergency admissions, 3+ A&E attendances or housebound)",
        f"{sources.COMPLEX_ADULTS} (the parts this data holds)",
        lambda t, th: (
            (t.age >= 18)
            & (_frailty(t, "moderate", "severe") | (t.ltc_count >= 3) | t.on_pc)
            & ((t.emergency_admissions_12m >= 2) | (t.ae_attendances_12m >= 3) | t.housebound)
        ),
    ),
    Rule(
        "rr_moderate_frailty",
        RISING,
        "moderate frailty (eFI 9-12 of 36)",
        f"{sources.COMPLEX_ADULTS}; {sources.PCNKIT_RULES}",
        lambda t, th: _frailty(t, "moderate"),
    ),
    Rule(
        "rr_multimorbidity",
        RISING,
        "3 or more long-term conditions",
        f"{sources.COMPLEX_ADULTS}; {sources.PCNKIT_RULES}",
        lambda t, th: t.ltc_count >= 3,
    ),
    Rule(
        "rr_cms_top_decile",
        RISING,
        "Cambridge Multimorbidity Score in the top decile for their age band",
        f"{sources.CMS}; {sources.PCNKIT_RULES}",
        _cms_top,
    ),
    Rule(
        "rr_polypharmacy",
        RISING,
        "10 or more medicines in 12 months",
        f"{sources.SMR}; {sources.PCNKIT_RULES}",
        lambda t, th: t.medicine_groups_12m >= 10,
    ),
    Rule(
        "rr_recent_use",
        RISING,
        "an emergency admission or 3+ A&E attendances in 12 months",
        f"{sources.COMPLEX_ADULTS}; {sources.PCNKIT_RULES}",
        lambda t, th: (t.emergency_admissions_12m >= 1) | (t.ae_attendances_12m >= 3),
    ),
    Rule(
        "rr_predicted_risk",
        RISING,
        "predicted 12-month emergency admission risk in the top 5%",
        f"{sources.PCNKIT_RISK}; {sources.PCNKIT_RULES}",
        lambda t, th: t.predicted_risk >= th.risk,
    ),
    Rule(
        "well_ltc_stable",
        WELL,
        "1 or more long-term conditions, stable",
        sources.SEGMENTATION_SNEE,
        lambda t, th: t.ltc_count >= 1,
    ),
)
WELL_HEALTHY = Rule(
    "well_healthy", WELL, "no long-term condition", sources.SEGMENTATION_SNEE, lambda t, th: True
)
ALL_RULES = (*RULES, WELL_HEALTHY)
RULE_BY_ID = {r.id: r for r in ALL_RULES}


def _nearest_rank(counts: list[tuple[float, int]], q: float) -> float:
    """The q-quantile (nearest rank, lower) of a distribution given as (value, count)."""
    total = sum(n for _, n in counts)
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value, n in sorted(counts):
        seen += n
        if seen >= rank:
            return value
    return sorted(counts)[-1][0]


def thresholds(features: ir.Table, risk_fraction: float = RISK_TOP_FRACTION) -> Thresholds:
    """The CMS centile per ten-year band and the risk cut-off, from aggregates of `features`
    (which must have ``predicted_risk``). The risk cut-off is the value at rank
    ceil(fraction x n) from the top, so ties at the cut-off are all in."""
    if not 0 < risk_fraction < 1:
        raise PcnkitError("the predicted-risk top fraction must be between 0 and 1")
    band = (features.age // CMS_BAND_YEARS) * CMS_BAND_YEARS
    rows = (
        features.mutate(band=band)
        .group_by(["band", "cms_general"])
        .aggregate(n=_.count())
        .to_pyarrow()
        .to_pylist()
    )
    by_band: dict[int, list[tuple[float, int]]] = {}
    for r in rows:
        by_band.setdefault(int(r["band"]), []).append((float(r["cms_general"]), int(r["n"])))
    cms = {b: _nearest_rank(c, CMS_CENTILE) for b, c in sorted(by_band.items())}
    n = int(features.count().to_pyarrow().as_py())
    k = max(1, math.ceil(risk_fraction * n))
    top = features.order_by([features.predicted_risk.desc(), features.pseudonym]).limit(
        1, offset=k - 1
    )
    value = top.select("predicted_risk").to_pyarrow().column(0).to_pylist()
    return Thresholds(cms, float(value[0]) if value else 1.0, risk_fraction)


def assign_tiers(features: ir.Table, th: Thresholds) -> ir.Table:
    """`features` with ``tier``, ``tier_rule`` (the first rule that held) and
    ``rising_risk_reasons`` (every rising-risk rule that holds, '; '-separated, for anyone)."""
    import ibis

    rule = ibis.cases(
        *[(r.condition(features, th).fill_null(False), r.id) for r in RULES],
        else_=WELL_HEALTHY.id,
    )
    tier = rule.cases(*[(r.id, r.tier) for r in ALL_RULES], else_=WELL)
    reasons = labels_that_hold(
        (r.condition(features, th), r.label) for r in RULES if r.tier == RISING
    )
    return features.mutate(tier_rule=rule, tier=tier, rising_risk_reasons=reasons)


def quota_for(list_size: int, per_10000: int | float = DEFAULT_QUOTA_PER_10000) -> int:
    """round-half-up(list size x per_10000 / 10000)."""
    exact = Decimal(list_size) * Decimal(str(per_10000)) / Decimal(10000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def rising_risk_cohort(
    tiered: ir.Table, per_10000: int | float = DEFAULT_QUOTA_PER_10000
) -> ir.Table:
    """The rising-risk tier's top `per_10000` per 10,000 list in each practice, by predicted
    risk: pseudonym, practice, cohort_rank, quota, list_size, predicted_risk, tier_rule,
    rising_risk_reasons and the person's details. Patient-level: direct care only."""
    import ibis

    if per_10000 < 0:
        raise PcnkitError("the rising-risk quota per 10,000 cannot be negative")
    sizes = tiered.group_by("practice").aggregate(list_size=tiered.count())
    scale = ibis.literal(Decimal(str(per_10000)), type="decimal(12, 4)")
    quota = (
        (
            sizes.list_size.cast("decimal(18, 4)") * scale / 10000
            + ibis.literal(Decimal("0.5"), type="decimal(12, 4)")
        )
        .floor()
        .cast("int64")
    )
    sizes = sizes.mutate(quota=quota)
    pool = tiered.filter(tiered.tier == RISING)
    ranked = pool.mutate(
        cohort_rank=ibis.row_number().over(
            group_by=pool.practice, order_by=[pool.predicted_risk.desc(), pool.pseudonym]
        )
        + 1
    )
    joined = ranked.join(sizes, ranked.practice == sizes.practice)
    chosen = joined.filter(joined.cohort_rank <= joined.quota)
    return chosen.select(
        ranked.pseudonym,
        ranked.practice,
        "cohort_rank",
        "quota",
        "list_size",
        ranked.predicted_risk,
        ranked.tier_rule,
        ranked.rising_risk_reasons,
        ranked.age,
        ranked.sex,
        ranked.ethnic_group,
        ranked.imd_quintile,
    ).order_by(["practice", "cohort_rank"])


# --- embedded test patients ----------------------------------------------------------------

SEVERE_GROUPS = ("RA", "AF", "STIA", "CKD", "DM", "HF", "HYP", "CHD", "DEM", "OST", "PAD", "COPD")
FIVE_MEDICINES = ("statins", "ppis", "laxatives", "levothyroxine", "other_analgesics")
TEN_MEDICINES = (*FIVE_MEDICINES, "digoxin", "nitrates", "mras", "bph_drugs", "antihistamines")


def _case(name, tier, rule, **kw) -> TestPatient:
    return TestPatient(name, True, tier=tier, rule=rule, **kw)


TEST_PATIENTS: tuple[TestPatient, ...] = (
    _case("palliative-young", HIGH, "hc_palliative", age=45, conditions=("PC",)),
    _case("care-home", HIGH, "hc_care_home", age=88, patient={"care_home": True}),
    # 12 QOF deficits + polypharmacy = 13: severe
    _case(
        "severe-frail",
        HIGH,
        "hc_severe_frailty",
        age=84,
        conditions=SEVERE_GROUPS,
        medicines=FIVE_MEDICINES,
    ),
    _case(
        "hf-two-admissions",
        HIGH,
        "hc_organ_failure",
        age=60,
        conditions=("HF",),
        hospital=(("emergency_admission", 20), ("emergency_admission", 200)),
    ),
    _case(
        "complex-adult",
        HIGH,
        "hc_complex_adult",
        age=50,
        conditions=("DM", "DEP", "OB"),
        hospital=(("ae", 10), ("ae", 40), ("ae", 300)),
    ),
    # complex adult needs 18+: a 17-year-old with the same facts is rising risk instead
    _case(
        "complex-but-17",
        RISING,
        "rr_multimorbidity",
        age=17,
        conditions=("AST", "EP", "OB"),
        hospital=(("ae", 10), ("ae", 40), ("ae", 300)),
    ),
    # 9 QOF deficits, no medicines: moderate frailty
    _case("moderate-frail", RISING, "rr_moderate_frailty", age=80, conditions=SEVERE_GROUPS[:9]),
    _case("three-ltcs", RISING, "rr_multimorbidity", age=55, conditions=("HYP", "DM", "AST")),
    _case("ten-medicines", RISING, "rr_polypharmacy", age=60, medicines=TEN_MEDICINES),
    _case(
        "one-admission", RISING, "rr_recent_use", age=30, hospital=(("emergency_admission", 100),)
    ),
    # an admission 13 months ago is outside the 12-month window: well
    _case("old-admission", WELL, "well_healthy", age=30, hospital=(("emergency_admission", 400),)),
    _case("two-ltcs", WELL, "well_ltc_stable", age=50, conditions=("HYP", "AST")),
    _case("healthy", WELL, "well_healthy", age=25),
)

TEST_PATIENTS = (
    *TEST_PATIENTS,
    # 45 with CHD and diabetes: two LTCs, but a CMS above the (test) centile for 40-49
    _case("cms-top", RISING, "rr_cms_top_decile", age=45, conditions=("CHD", "DM")),
    _case("predicted-high", RISING, "rr_predicted_risk", age=40),
)
# Fixed thresholds and risks for the test patients (real runs compute them from the data).
TEST_THRESHOLDS = Thresholds({b: (0.5 if b == 40 else 99.0) for b in range(0, 120, 10)}, 0.5)
TEST_RISKS = {"predicted-high": 0.6}


def check_test_patients(as_of: dt.date) -> list[str]:
    """Run every embedded test patient through the tiers; return the failures (none = pass)."""
    import ibis

    from pcnkit.population import features
    from pcnkit.population.testpatients import build_store

    store = build_store(list(TEST_PATIENTS), as_of)
    table = features.patient_features(store, as_of)
    risk = table.pseudonym.cases(*TEST_RISKS.items(), else_=0.01)
    table = table.mutate(predicted_risk=ibis.ifelse(risk.isnull(), 0.01, risk).cast("float64"))
    got = {
        r["pseudonym"]: (r["tier"], r["tier_rule"])
        for r in assign_tiers(table, TEST_THRESHOLDS).to_pyarrow().to_pylist()
    }
    return [
        f"{case.name}: expected {case.tier}/{case.rule}, got {got.get(case.name)}"
        for case in TEST_PATIENTS
        if got.get(case.name) != (case.tier, case.rule)
    ]
