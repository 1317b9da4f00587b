"""A deterministic synthetic patient-level population, calibrated to real practice registers.

EVERYTHING THIS MODULE WRITES IS SYNTHETIC. No row describes a real person. Every file name
starts with ``synthetic-``, every Parquet file carries ``pcnkit.synthetic=true`` in its schema
metadata and a ``synthetic`` column that is always true, and the report says so.

The generating model (issue 4; domain notes, population-health.md section 6)
------------------------------------------------------------------------------
For each practice, from a :class:`PracticeSpec` (its registered list and its QOF registers):

1. **Patients.** Exactly ``list_size`` patients. Age band and sex are drawn from
   ``AGE_SEX_STRUCTURE``, an England-like structure that is an ASSUMPTION: approximate
   five-year-band shares rounded from the ONS mid-2019 population estimates for England, quoted
   from memory rather than from a file in this repository (65+ is about 18.5%). Registered
   lists differ from the resident population (list inflation in young adults, for instance);
   NHS Digital's "Patients registered at a GP practice" by age and sex should replace it
   (calibration step 1 in section 6.4). The age in years is uniform within the band (90+ runs to
   104 with falling weights); the month of birth is uniform within the year, stored as the first
   of the month.
2. **Deprivation.** Each practice gets a centre IMD decile (uniform 1-10, since England's LSOA
   deciles hold roughly equal populations by construction); each patient's decile is the centre
   plus a triangular offset of at most 2, clipped to 1-10. An ASSUMPTION that mimics practices'
   local catchments; the real practice-level IMD files should replace it.
3. **Ethnic group** (ONS 5-group): ``ETHNIC_GROUPS``, England, Census 2021, rounded (white 81.0%,
   asian 9.6%, black 4.2%, mixed 3.0%, other 2.2%). Independent of age, sex and practice, which
   is an ASSUMPTION (younger people and London practices are more diverse); no "not stated".
4. **Registration start**: the later of a few weeks after birth and ``as_of`` minus an
   exponential duration with a mean of 8 years (ASSUMPTION).
5. **Long-term conditions.** For each QOF group with a (scaled) register of k, exactly k
   patients are chosen, without replacement, among those old enough for the group's register
   denominator (e.g. 17+ for DM), with probability weights proportional to the prevalence for
   the patient's age band and sex (Efraimidis-Spirakis weighted sampling). So each practice's
   count for each group equals its register exactly (only if k exceeds the eligible patients is
   it capped; the report shows any shortfall). Weights come from ``ANCHORS`` where an age/sex
   curve was sourced (HYP and DM: Health Survey for England 2019; COPD: the PHE model, all via
   diagonalworks/ucl-population-health; a copy of PHM-age-sex-prevalence-anchors.csv, checked by
   the tests). For every other group the curve in ``ASSUMED_SHAPES`` is an ASSUMPTION of rough
   shape only (e.g. dementia and AF rising steeply with age), not data, multiplied by
   ``SHAPE_OLD_AGE_TILT`` (x1.5 at 65-74, x2.2 at 75-84, x3 at 85+; ASSUMPTION: multimorbidity
   accumulates with age; the sourced ANCHORS are left alone).
   **Comorbidity** comes from a latent frailty/multimorbidity factor: each patient has
   z ~ Normal(0, 1), drawn from its own stage generator ("latent") so the draws above do not
   move, and every condition weight is multiplied by exp(LATENT_LAMBDA x z), LATENT_LAMBDA =
   0.8 (ASSUMPTION), so conditions cluster in the same people while each register count stays
   exact (the sampling is still Efraimidis-Spirakis on the weights). At 2% of BHR (seed 7) the
   mean number of QOF groups is 0.31 at 18-44, 0.63 at 45-64, 1.06 at 65-74, 1.56 at 75-84 and
   2.04 at 85+ (about 1.4 at 85+ without the factor and the tilt), and the 2+ share is 4.5%,
   14%, 27%, 41% and 49%: still below the Scottish 40-condition anchor (76% of 75+ with 2+,
   S44), as QOF holds 21 groups and BHR's registers are small. z is written nowhere; it feeds
   the care home and housebound draws (6) and the coded events (10).
   The diagnosis date is uniform between the later of (the age the register starts at, or
   birth) and 20 years before ``as_of``, and ``as_of`` (ASSUMPTION).
6. **Care home and housebound.** Exactly round(0.6% of the list) care-home residents (about
   360k of 60M registered, section 6.3 "Other anchors"), chosen with weights rising steeply with
   age, five times higher with dementia and times exp(LATENT_LAMBDA x z) (ASSUMPTION for the
   weights). ``care_home_since`` (from the "care_home" stage generator): 8% of residents were
   admitted 1-30 days before ``as_of``, the rest 31 days plus an exponential stay with a mean of
   700 days before it (not before birth) (ASSUMPTIONS). Housebound (not in a care home) is
   Bernoulli by age: 0.2% under 65, 3% at 65-84, 12% at 85+, times exp(LATENT_LAMBDA x z) /
   its mean, capped at 90% (ASSUMPTION, no source). ``registration_end`` and ``date_of_death``
   are always null: the population is one current list (no leavers, no deaths); the columns
   are there so the schema matches the patient schema of issue 4.

Activity (written unless ``generate(..., activity=False)``; each stage draws from its own
per-practice ``random.Random`` seeded from SHA-256 of (seed, practice code, stage), so the
patients and conditions above are byte-identical with or without it, and adding the events
stage changed no other activity draw):

7. **Medicines** (``medications/``: pseudonym, medicine_group, bnf_chapter, issue_date). Each
   QOF group a patient is on gives each of its medicine groups in ``CONDITION_MEDICINES`` with
   the stated probability (HYP: ACE inhibitor/ARB 65%, calcium-channel blocker 50%, thiazide
   25%, ..., so about 89% of the register has an antihypertensive; DM: metformin 85%; AF:
   anticoagulant 80%; CHD/STIA/PAD: antiplatelet and statin; AST/COPD: inhalers; DEP/MH:
   antidepressants/antipsychotics (lithium 8% in MH); RA: methotrexate 50%; ...). Then each
   medicine in ``BACKGROUND_MEDICINES`` (no recorded condition: PPIs, analgesics, NSAIDs,
   opioids, gabapentinoids, benzodiazepines, Z-drugs, statins for primary prevention, ...) with
   a probability by age band times (1 + 0.6 x number of LTCs), x1.5 in a care home, capped at
   0.9. All probabilities are ASSUMPTIONS of rough clinical shape, not data. Group ids reuse the
   SMR code lists' ids (anticoagulants, antiplatelets, nsaids, methotrexate, lithium,
   amiodarone, opioids, gabapentinoids, benzodiazepines, z_drugs). A distinct medicine group is
   a repeat with 2-4 issues (ASSUMPTION: real repeats are issued every 28-56 days; thinned to
   keep the files small) on dates uniform in the 12 months before ``as_of`` (after
   registration). Check: with the BHR registers at 2%, about 7% of people 65+ have 10+ and
   about 45% have 5+ distinct groups; population-health.md 4.1 gives only ">1M people on 10+
   regular medicines, almost half 75+" (S46), which is roughly 5-9% of people 65+ or 75+
   (our arithmetic, ASSUMPTION), and groups are coarser than products.
8. **Blood pressure** (``observations/``: pseudonym, concept ``systolic_bp`` or
   ``diastolic_bp``, value in mmHg, date). Adults (18+) only. Recorded in the 24 months before
   ``as_of`` (after registration) with probability 95% on the HYP register, 85% with another
   LTC, otherwise 40% at 18-44, 60% at 45-64, 75% at 65-74 and 80% at 75+ (ASSUMPTION). One
   reading, or 1-3 on the HYP register, each on a uniform date. Systolic ~ Normal(mean, 14):
   mean 110 + 0.4 x (age - 18), +4 for men, off the register; 137 + 0.1 x (age - 60) on it
   (treated, about 40% above target). Diastolic = 18 + 0.45 x systolic - 0.12 x (age - 50 if
   over 50) + Normal(0, 7). Clipped to 80-240 and 40-140. All ASSUMPTIONS, tuned so that about
   19% of people off the register with a reading (about 10% of adults) have their latest reading
   at or above 140/90 - an undiagnosed-hypertension pool in the spirit of HSE's finding that
   a large minority of adults with hypertension are undiagnosed (quoted from memory), giving
   the CVD prevention case-finding list (4.7) something to find.
9. **Hospital use** (``hospital/``: pseudonym, kind ``ae`` or ``emergency_admission``, date) and
   the known truth (``truth/``: pseudonym, p_emergency_admission_12m). Each patient has a
   constant annual rate of emergency admission
   ``rate = anchor[band] x c[practice, band] x exp(eta) x latent``, where ``eta`` =
   0.25 x LTC count + 0.03 x distinct medicine groups (section 7; a frailty proxy) +
   log 2 in a care home + log 1.6 if housebound + 0.05 x (5.5 - IMD decile), ``latent`` is
   lognormal with mean 1 and log-sd 0.5 (unmeasured need; not in any table), and
   ``c[practice, band]`` rescales so that the practice's mean of exp(eta - deprivation term)
   in each band is 1: so each band's rate is the anchor times its deprivation. The anchors
   (``EMERGENCY_RATE_ANCHORS``, per person-year: 0-4 0.10, 5-17 0.04, 18-44 0.06, 45-64 0.08,
   65-74 0.14, 75-84 0.25, 85+ 0.45) are an ASSUMPTION rounded from memory of HES 2019/20
   (about 6.4M emergency admissions for 56M people), not from a file here; population-health.md
   3.4 gives model performance, not base rates. A&E attendances use ``AE_RATE_ANCHORS``
   (ASSUMPTION, about 0.4 per person-year, U-shaped) and 0.6 x eta. Counts in the 24 months
   before ``as_of`` (after birth) are Poisson(rate x years), dates uniform. The truth table
   holds 1 - exp(-rate), the true probability of at least one emergency admission in any
   12 months (the rate is constant, so also in the 12 months after ``as_of``). At 2% of BHR
   that truth scores a c-statistic of about 0.73 against the last 12 months' admissions - the
   ceiling any risk model can honestly reach on this data, near QAdmissions (section 3.4).

10. **Coded events** (``events/``: pseudonym, concept, code, date, value). ``code`` is a real
   SNOMED CT code only where this repository documents one (``EVENT_CODES``: structured
   medication review 1239511000000100, lives in care home 248171000000108); otherwise null.
   No code is invented. From the "events" stage generator; all probabilities ASSUMPTIONS:

   * the 21 eFI deficits that QOF, the patient flags and polypharmacy cannot show
     (``EFI_EVENT_DEFICITS``, concept = the efi_deficits code list id, e.g. ``falls``,
     ``dizziness``, ``mobility_problems``, ``urinary_incontinence``, ``vision_problems``,
     ``hearing_loss``): each with probability base x age factor (0.02, 0.04, 0.12, 0.35, 0.8,
     1.15, 1.5 for 0-4 ... 85+) x exp(0.4 z - 0.08) x (1 + 0.15 x LTC count), capped at 0.9.
     From 40 each deficit is an independent draw; under 40 at most one deficit (one draw, for
     speed). One first code, uniform over the 15 years before ``as_of`` (after birth); 40% of
     people with falls also have a fall in the 12 months before ``as_of`` (the SMR severe
     frailty rule). Tuned so that the full 36-deficit count (measures.efi_approx with events)
     in people 65+ at 2% of BHR gives fit 51% / mild 35% / moderate 11% / severe 3%, against
     the expected 50 / 35 / 12 / 3 (population-health.md 1.1, 6.4 step 3).
   * ``lgi_urgent_referral`` (lower-GI urgent suspected cancer referral): people 40+, per year
     0.6% at 40-44, 1.1% at 45-64, 2.2% at 65-74, 3% at 75+ (about 1.5% of people 40+),
     dated in the 12 months before ``as_of`` (after registration). 70% have a ``fit_test`` 1-21
     days before (CAN-02's 21-day window; section 4.6) with ``value`` = faecal haemoglobin in
     ug Hb/g: 65% at or above 10 (lognormal, median 60, up to 600), the rest below 10
     (lognormal, median 2). People 40+ also have a FIT without a referral at 2% a year (92%
     below 10).
   * ``structured_medication_review`` in the 12 months: 30% of people with 10+ distinct
     medicine groups, 5% with 5-9.
   * care home residents: ``lives_in_care_home`` on ``care_home_since``; an MDT holistic
     assessment (``care_home_assessment``, 92%) and a personalised care and support plan
     (``pcsp``, 88%) 0-10 days after admission (before ``as_of``); of residents admitted in
     the 7 days before ``as_of`` half have neither yet (the EHCH case-finding list, 4.3).
   * Palliative care is the QOF PC group: no event.

   The emergency admission rate (9) does not use z directly; it reaches the rate through the
   LTC count, medicines and care home, so the truth table is exactly the rate used.

Determinism: each practice draws from its own ``random.Random`` seeded from SHA-256 of
(seed, practice code), so its rows do not depend on the batch size or on the other practices.
Practices are processed in code order, so the same seed and specs give byte-identical Parquet
files. Pseudonyms are a hash of (seed, practice code, running number): stable, and derived
from no real identifier.

Streaming: practices are generated ``batch_practices`` at a time; each batch is written as one
Parquet file under ``patients/`` and one under ``conditions/`` (and ``medications/``,
``observations/``, ``hospital/``, ``truth/`` and ``events/``) and then dropped, so memory is
bounded by one batch per worker process (``generate(..., workers=N)``: batches are made in
parallel, and the files are byte-identical to one process's). Nothing patient-level is logged
or printed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import heapq
import itertools
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from pcnkit.dates import month_from_index, month_index
from pcnkit.errors import PcnkitError
from pcnkit.population.qof import LIST_TYPE_AGES, read_prevalence
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy, is_open

log = logging.getLogger(__name__)

GENERATOR = "pcnkit.population.synthetic/1"
LABEL = "SYNTHETIC DATA - generated by pcnkit; no row describes a real person"
CARE_HOME_SHARE = 0.006  # ~360k residents of ~60M registered (population-health.md 6.3)
MAX_AGE = 104
# The latent frailty/multimorbidity factor z ~ Normal(0, 1) multiplies every condition weight
# by exp(LATENT_LAMBDA * z) (ASSUMPTION, docstring step 5).
LATENT_LAMBDA = 0.8
# Care home admission dates (docstring step 6): ASSUMPTIONS.
CARE_HOME_RECENT_SHARE = 0.08  # admitted in the 30 days before as_of
CARE_HOME_MEAN_STAY_DAYS = 700  # otherwise 31 days + exponential with this mean

# (age_from, age_to_inclusive, share of persons, female share): ASSUMPTION, approximate ONS
# mid-2019 England estimates rounded from memory (see the module docstring).
AGE_SEX_STRUCTURE: tuple[tuple[int, int, float, float], ...] = (
    (0, 4, 5.8, 0.488),
    (5, 9, 6.2, 0.488),
    (10, 14, 5.9, 0.488),
    (15, 19, 5.5, 0.487),
    (20, 24, 6.1, 0.492),
    (25, 29, 6.7, 0.500),
    (30, 34, 6.8, 0.503),
    (35, 39, 6.6, 0.505),
    (40, 44, 6.1, 0.505),
    (45, 49, 6.6, 0.507),
    (50, 54, 6.9, 0.507),
    (55, 59, 6.4, 0.505),
    (60, 64, 5.5, 0.510),
    (65, 69, 5.0, 0.515),
    (70, 74, 5.0, 0.525),
    (75, 79, 3.6, 0.540),
    (80, 84, 2.6, 0.565),
    (85, 89, 1.6, 0.620),
    (90, 104, 0.9, 0.700),
)

# ONS 5-group ethnic categories, England, Census 2021 (rounded percentages).
ETHNIC_GROUPS: tuple[tuple[str, float], ...] = (
    ("white", 81.0),
    ("asian", 9.6),
    ("black", 4.2),
    ("mixed", 3.0),
    ("other", 2.2),
)

_HSE = "Health Survey for England 2019 via diagonalworks/ucl-population-health @3ec8f944"
_PHE = "PHE COPD prevalence model via diagonalworks/ucl-population-health @3ec8f944"
# group -> sex -> [(age_from, age_to_inclusive or None, prevalence)]: a copy of the single-
# condition rows of /work/shared/domain/PHM-age-sex-prevalence-anchors.csv.
ANCHORS: dict[str, dict[str, list[tuple[int, int | None, float]]]] = {
    "DM": {
        "F": [(16, 24, 0.0), (25, 34, 0.01), (35, 44, 0.03), (45, 54, 0.04), (55, 64, 0.09),
              (65, 74, 0.15), (75, None, 0.06)],
        "M": [(16, 24, 0.01), (25, 34, 0.01), (35, 44, 0.03), (45, 54, 0.09), (55, 64, 0.13),
              (65, 74, 0.21), (75, None, 0.18)],
    },
    "HYP": {
        "F": [(16, 24, 0.01), (25, 34, 0.06), (35, 44, 0.09), (45, 54, 0.22), (55, 64, 0.33),
              (65, 74, 0.51), (75, None, 0.65)],
        "M": [(16, 24, 0.09), (25, 34, 0.08), (35, 44, 0.13), (45, 54, 0.29), (55, 64, 0.48),
              (65, 74, 0.58), (75, None, 0.68)],
    },
    "COPD": {
        "F": [(15, 44, 0.0089), (45, 54, 0.02), (55, 64, 0.0411), (65, 74, 0.0481),
              (75, None, 0.0555)],
        "M": [(15, 44, 0.013), (45, 54, 0.0238), (55, 64, 0.069), (65, 74, 0.1003),
              (75, None, 0.1165)],
    },
}  # fmt: skip
ANCHOR_SOURCES = {"DM": _HSE, "HYP": _HSE, "COPD": _PHE}
# Corrections to the anchors, applied on top of ANCHORS and reported. population-health.md 6.3
# flags HSE's female 75+ diabetes value (6%) as probably wrong; carrying the 65-74 value (15%)
# forward is an ASSUMPTION until HSE is checked.
ANCHOR_OVERRIDES: dict[tuple[str, str, int], float] = {("DM", "F", 75): 0.15}
# Below an anchored curve's first band (children, for HYP): a small weight (ASSUMPTION).
BELOW_ANCHOR_WEIGHT = {"DM": 0.0005, "HYP": 0.001, "COPD": 0.0}

# ASSUMED relative weights (shape only, NOT data) for groups with no sourced age curve, by
# band 0-5, 6-15, 16-24, 25-34, 35-44, 45-54, 55-64, 65-74, 75-84, 85+, and a female:male
# ratio. Replace with Cooper 2023 (CPRD Aurum) or CALIBER curves (population-health.md 6.3).
SHAPE_BANDS = (0, 6, 16, 25, 35, 45, 55, 65, 75, 85)
ASSUMED_SHAPES: dict[str, tuple[tuple[float, ...], float]] = {
    "AF": ((0, 0, 0.05, 0.1, 0.3, 1, 3, 8, 16, 22), 0.8),
    "AST": ((0.5, 1.2, 1.1, 1, 1, 1, 1, 1.1, 1, 0.8), 1.2),
    "CAN": ((0, 0.05, 0.1, 0.3, 0.8, 2, 4.5, 8, 11, 12), 1.0),
    "CHD": ((0, 0, 0.02, 0.05, 0.3, 1.5, 5, 10, 16, 20), 0.6),
    "CKD": ((0, 0, 0.1, 0.2, 0.5, 1.5, 4, 10, 25, 40), 1.2),
    "CVDPP": ((1, 1, 1, 1, 1, 1, 1, 1, 1, 1), 1.0),
    "DEM": ((0, 0, 0, 0, 0.01, 0.1, 0.5, 2, 8, 25), 1.4),
    "DEP": ((0, 0, 1, 1.1, 1.1, 1, 0.9, 0.8, 0.8, 0.8), 2.0),
    "EP": ((0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1), 1.0),
    "HF": ((0, 0, 0.02, 0.05, 0.1, 0.4, 1.2, 3, 7, 12), 0.8),
    "LD": ((0.5, 1.2, 1.2, 1, 1, 1, 0.8, 0.5, 0.3, 0.2), 0.67),
    "MH": ((0, 0.05, 0.5, 1, 1, 1, 1, 0.8, 0.6, 0.6), 1.0),
    "NDH": ((0, 0, 0.2, 0.4, 0.7, 1, 1.5, 2, 2, 1.5), 1.0),
    "OB": ((0, 0.3, 0.5, 0.8, 1, 1.2, 1.3, 1.2, 0.8, 0.4), 1.1),
    "OST": ((0, 0, 0, 0, 0, 0.2, 0.5, 2, 5, 10), 3.0),
    "PAD": ((0, 0, 0, 0.02, 0.1, 0.4, 1.2, 2.5, 4, 5), 0.7),
    "PC": ((0, 0.01, 0.02, 0.05, 0.1, 0.3, 0.8, 1.8, 4, 8), 1.0),
    "RA": ((0, 0, 0.2, 0.3, 0.6, 1, 1.5, 2, 2, 1.8), 2.5),
    "STIA": ((0, 0, 0.05, 0.1, 0.3, 0.8, 2, 4, 8, 11), 0.9),
}
DEFAULT_SHAPE: tuple[tuple[float, ...], float] = ((1,) * len(SHAPE_BANDS), 1.0)
# Multimorbidity accumulates with age: the ASSUMED_SHAPES weights (never the sourced ANCHORS)
# are multiplied by this factor at 65-74, 75-84 and 85+ (ASSUMPTION, docstring step 5).
SHAPE_OLD_AGE_TILT: tuple[tuple[int, float], ...] = ((85, 3.0), (75, 2.2), (65, 1.5))

# Defaults, from the 2019-20 England table (PHM-qof-prevalence-england.csv).
DEFAULT_ELIGIBILITY: dict[str, tuple[int, int | None]] = {
    "CKD": (18, None),
    "CVDPP": (30, 74),
    "DEP": (18, None),
    "DM": (17, None),
    "EP": (18, None),
    "NDH": (18, None),
    "OB": (18, None),
    "OST": (50, None),
    "RA": (16, None),
}


@dataclass(frozen=True)
class PracticeSpec:
    """One practice to synthesise: its list size and its QOF register sizes by group. An
    `eligibility` entry (min age, max age or None) overrides `DEFAULT_ELIGIBILITY`."""

    code: str
    list_size: int
    registers: dict[str, int]
    eligibility: dict[str, tuple[int, int | None]] = field(default_factory=dict)


@dataclass
class GroupTotal:
    target: int = 0
    generated: int = 0


@dataclass
class GenerationReport:
    """What a run wrote: aggregate counts only (nothing patient-level)."""

    seed: int
    as_of: dt.date
    practices: int = 0
    patients: int = 0
    conditions: int = 0
    medications: int = 0
    observations: int = 0
    hospital: int = 0
    events: int = 0
    files: list[str] = field(default_factory=list)
    groups: dict[str, GroupTotal] = field(default_factory=dict)
    shortfalls: dict[str, dict[str, int]] = field(default_factory=dict)
    anchor_overrides: list[str] = field(default_factory=list)
    seconds: float = 0.0
    synthetic: bool = True
    label: str = LABEL

    def to_json(self) -> str:
        """The report as JSON, without the timing (so that it is deterministic too)."""
        data = asdict(self)
        data.pop("seconds")
        data["as_of"] = self.as_of.isoformat()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


# --- building specs -----------------------------------------------------------------------


def read_registers(
    prevalence_csv: Path, practices: Iterable[str] | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, tuple[int, int | None]]]:
    """Register sizes by practice and QOF group from an NHS Digital PREVALENCE_yyyy csv, and
    each group's eligible ages from its PATIENT_LIST_TYPE."""
    registers: dict[str, dict[str, int]] = {}
    ages: dict[str, tuple[int, int | None]] = {}
    for r in read_prevalence(prevalence_csv, practices):
        registers.setdefault(r.practice, {})[r.group] = r.register
        if r.list_type in LIST_TYPE_AGES:
            ages[r.group] = LIST_TYPE_AGES[r.list_type]
    return registers, ages


def specs_from_registry(
    session: Session,
    area_code: str,
    as_of: dt.date,
    prevalence_csv: Path,
    scale: float = 1.0,
    warn: bool = True,
) -> list[PracticeSpec]:
    """Specs for the practices open in an area on `as_of`: the registry's registered list as at
    that date and the QOF file's registers, both multiplied by `scale` and rounded."""
    if scale <= 0:
        raise PcnkitError("scale must be positive")
    h = Hierarchy.at(session, as_of)
    area = h.get(area_code)
    found = [area] if area.kind == kinds.PRACTICE else h.descendants(area, kinds.PRACTICE)
    practices = [p for p in found if is_open(p, as_of)]
    lists = h.lists("registered")
    registers, ages = read_registers(prevalence_csv, [p.code for p in practices])
    specs, no_list, no_qof = [], [], []
    for p in practices:
        figure = lists.get(p.code)
        if figure is None:
            no_list.append(p.code)
            continue
        if p.code not in registers:
            no_qof.append(p.code)
        regs = {g: round(n * scale) for g, n in sorted(registers.get(p.code, {}).items())}
        specs.append(PracticeSpec(p.code, round(float(figure.value) * scale), regs, dict(ages)))
    if warn and no_list:
        log.warning("%d practices have no registered list and are left out", len(no_list))
    if warn and no_qof:
        log.warning("%d practices have no QOF registers; they get no conditions", len(no_qof))
    return specs


# --- the model ----------------------------------------------------------------------------


def practice_rng(seed: int, code: str) -> random.Random:
    digest = hashlib.sha256(f"pcnkit-synthetic:{seed}:{code}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def pseudonym(seed: int, code: str, number: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{code}:{number}".encode(), digest_size=8).hexdigest()
    return f"SYN{digest.upper()}"


def _band_index(bands: tuple[int, ...], age: int) -> int:
    i = 0
    while i + 1 < len(bands) and age >= bands[i + 1]:
        i += 1
    return i


def condition_weight(group: str, sex: str, age: int) -> float:
    """The relative chance that a patient of this age and sex is on the group's register."""
    if group in ANCHORS:
        for start, end, value in ANCHORS[group][sex]:
            if age >= start and (end is None or age <= end):
                return ANCHOR_OVERRIDES.get((group, sex, start), value)
        return BELOW_ANCHOR_WEIGHT.get(group, 0.0)
    shape, female_ratio = ASSUMED_SHAPES.get(group, DEFAULT_SHAPE)
    weight = shape[_band_index(SHAPE_BANDS, age)]
    weight *= next((f for start, f in SHAPE_OLD_AGE_TILT if age >= start), 1.0)
    return weight * female_ratio if sex == "F" else weight


def _weighted_sample(rng: random.Random, weights: list[float], k: int) -> list[int]:
    """Exactly min(k, positive weights) indices without replacement (Efraimidis-Spirakis)."""
    if k <= 0:
        return []
    draws = [rng.random() for _ in weights]  # one draw per patient, weighted or not
    log = math.log
    keys = [
        (log(u or 5e-324) / w, i)
        for i, (u, w) in enumerate(zip(draws, weights, strict=True))
        if w > 0
    ]
    return sorted(i for _, i in heapq.nlargest(k, keys))


@functools.lru_cache(maxsize=256)
def _weight_table(group: str, low: int, high: int | None) -> dict[str, tuple[float, ...]]:
    """condition_weight by sex and single year of age (0-104), 0 outside the eligible ages."""
    return {
        sex: tuple(
            condition_weight(group, sex, a) if a >= low and (high is None or a <= high) else 0.0
            for a in range(MAX_AGE + 1)
        )
        for sex in ("F", "M")
    }


_BAND_CUM = list(itertools.accumulate(b[2] for b in AGE_SEX_STRUCTURE))
_ETHNIC_NAMES = [e[0] for e in ETHNIC_GROUPS]
_ETHNIC_CUM = list(itertools.accumulate(e[1] for e in ETHNIC_GROUPS))
_BAND_HI, _ETHNIC_HI = len(_BAND_CUM) - 1, len(_ETHNIC_CUM) - 1


def _age_in_band(rng: random.Random, start: int, end: int) -> int:
    if end - start <= 4:
        return rng.randint(start, end)
    # the open top band: falling weights (roughly halving every four years)
    ages = list(range(start, end + 1))
    return rng.choices(ages, [0.84 ** (a - start) for a in ages])[0]


def _practice_rows(spec: PracticeSpec, seed: int, as_of: dt.date):
    """One practice's patients and conditions (column lists) and its per-group counts."""
    rng = practice_rng(seed, spec.code)
    as_of_month = month_index(as_of)
    centre = rng.randint(1, 10)
    n = spec.list_size
    pseudonyms, sexes, ages, births, regs, imds, ethnic = [], [], [], [], [], [], []
    # rng.choices(population, cum_weights=...)[0] inlined: the same single draw and bisect
    rand, band_total, ethnic_total = rng.random, _BAND_CUM[-1] + 0.0, _ETHNIC_CUM[-1] + 0.0
    for i in range(n):
        band = AGE_SEX_STRUCTURE[bisect.bisect(_BAND_CUM, rand() * band_total, 0, _BAND_HI)]
        sex = "F" if rng.random() < band[3] else "M"
        age = _age_in_band(rng, band[0], band[1])
        birth = month_from_index(as_of_month - 12 * age - int(rng.random() * 12))
        earliest = min(birth + dt.timedelta(days=7 + int(rng.random() * 54)), as_of)
        years = rng.expovariate(1 / 8)
        start = as_of - dt.timedelta(days=int(years * 365.25))
        offset = round(rng.triangular(-2.49, 2.49, 0))
        pseudonyms.append(pseudonym(seed, spec.code, i))
        sexes.append(sex)
        ages.append(age)
        births.append(birth)
        regs.append(max(earliest, start))
        imds.append(min(10, max(1, centre + offset)))
        ethnic.append(
            _ETHNIC_NAMES[bisect.bisect(_ETHNIC_CUM, rand() * ethnic_total, 0, _ETHNIC_HI)]
        )

    # the latent frailty/multimorbidity factor: its own stage generator, so the draws above
    # (and so the patients' ages, sexes, ...) do not depend on it
    latent_rng = stage_rng(seed, spec.code, "latent")
    latent = [latent_rng.gauss(0.0, 1.0) for _ in range(n)]
    boost = [math.exp(LATENT_LAMBDA * z) for z in latent]

    cond_ids, cond_groups, cond_dates = [], [], []
    counts: dict[str, tuple[int, int]] = {}
    has_dementia = [False] * n
    for group in sorted(spec.registers):
        target = max(0, int(spec.registers[group]))
        low, high = spec.eligibility.get(group) or DEFAULT_ELIGIBILITY.get(group, (0, None))
        table = _weight_table(group, low, high)
        weights = [table[s][a] * b for s, a, b in zip(sexes, ages, boost, strict=True)]
        chosen = _weighted_sample(rng, weights, target)
        counts[group] = (target, len(chosen))
        earliest_back = dt.date(as_of.year - 20, as_of.month, 1)
        for i in chosen:
            try:
                reached = births[i].replace(year=births[i].year + low)
            except ValueError:  # pragma: no cover - births are first of month
                reached = births[i]
            lower = max(reached, earliest_back)
            span = max(0, (as_of - lower).days)
            cond_ids.append(pseudonyms[i])
            cond_groups.append(group)
            cond_dates.append(lower + dt.timedelta(days=int(rng.random() * (span + 1))))
            if group == "DEM":
                has_dementia[i] = True

    def home_weight(i: int) -> float:
        a = ages[i]
        w = 0.0005 if a < 65 else 0.006 if a < 75 else 0.03 if a < 85 else 0.14
        return (w * 5 if has_dementia[i] else w) * boost[i]

    residents = round(n * CARE_HOME_SHARE)
    in_home = set(_weighted_sample(rng, [home_weight(i) for i in range(n)], residents))
    care_home = [i in in_home for i in range(n)]
    housebound = []
    mean_boost = math.exp(LATENT_LAMBDA**2 / 2)
    for i in range(n):
        p = 0.002 if ages[i] < 65 else 0.03 if ages[i] < 85 else 0.12
        draw = rng.random()
        housebound.append(not care_home[i] and draw < min(0.9, p * boost[i] / mean_boost))
    home_rng = stage_rng(seed, spec.code, "care_home")
    since: list[dt.date | None] = [None] * n
    for i in sorted(in_home):
        if home_rng.random() < CARE_HOME_RECENT_SHARE:
            days = home_rng.randint(1, 30)
        else:
            days = 31 + int(home_rng.expovariate(1 / CARE_HOME_MEAN_STAY_DAYS))
        since[i] = max(births[i], as_of - dt.timedelta(days=days))
    patients = {
        "pseudonym": pseudonyms,
        "practice": [spec.code] * n,
        "sex": sexes,
        "month_of_birth": births,
        "registration_start": regs,
        "registration_end": [None] * n,
        "date_of_death": [None] * n,
        "lsoa_imd_decile": imds,
        "ethnic_group": ethnic,
        "care_home": care_home,
        "care_home_since": since,
        "housebound": housebound,
        "synthetic": [True] * n,
    }
    conditions = {
        "pseudonym": cond_ids,
        "qof_group": cond_groups,
        "diagnosis_date": cond_dates,
        "synthetic": [True] * len(cond_ids),
    }
    return patients, conditions, counts, latent


# --- activity: medicines, blood pressure, hospital use (docstring sections 7-9) --------------

# Age bands for the activity model: 0-4, 5-17, 18-44, 45-64, 65-74, 75-84, 85+.
ACTIVITY_BANDS = (0, 5, 18, 45, 65, 75, 85)
ACTIVITY_BAND_NAMES = ("0-4", "5-17", "18-44", "45-64", "65-74", "75-84", "85+")

# medicine group -> BNF chapter. Group ids reuse the SMR code lists' ids where one exists
# (codelists/smr_high_risk_medicines.yaml, smr_addictive_medicines.yaml).
MEDICINE_CHAPTERS: dict[str, int] = {
    "ppis": 1, "laxatives": 1,
    "acei_arbs": 2, "calcium_channel_blockers": 2, "thiazide_diuretics": 2, "beta_blockers": 2,
    "alpha_blockers": 2, "loop_diuretics": 2, "mras": 2, "nitrates": 2, "digoxin": 2,
    "amiodarone": 2, "anticoagulants": 2, "antiplatelets": 2, "statins": 2,
    "inhaled_relievers": 3, "inhaled_corticosteroids": 3, "long_acting_bronchodilators": 3,
    "antihistamines": 3,
    "antidepressants": 4, "antipsychotics": 4, "lithium": 4, "antiepileptics": 4,
    "antidementia_drugs": 4, "benzodiazepines": 4, "z_drugs": 4, "opioids": 4,
    "gabapentinoids": 4, "other_analgesics": 4,
    "metformin": 6, "other_glucose_lowering": 6, "insulins": 6, "levothyroxine": 6,
    "bisphosphonates": 6,
    "bph_drugs": 7, "hormonal_contraception_hrt": 7,
    "methotrexate": 8,
    "calcium_vitamin_d": 9,
    "nsaids": 10,
}  # fmt: skip

# QOF group -> (medicine group, probability that a patient on the register has a repeat of it).
# ASSUMPTION: rough treatment shares chosen to be clinically plausible, not taken from data.
# With these, about 89% of the HYP register has at least one antihypertensive.
CONDITION_MEDICINES: dict[str, tuple[tuple[str, float], ...]] = {
    "HYP": (("acei_arbs", 0.65), ("calcium_channel_blockers", 0.5),
            ("thiazide_diuretics", 0.25), ("beta_blockers", 0.12), ("alpha_blockers", 0.06)),
    "DM": (("metformin", 0.85), ("other_glucose_lowering", 0.45), ("insulins", 0.12),
           ("statins", 0.75), ("acei_arbs", 0.3)),
    "AF": (("anticoagulants", 0.8), ("beta_blockers", 0.55), ("digoxin", 0.1),
           ("amiodarone", 0.03)),
    "CHD": (("antiplatelets", 0.85), ("statins", 0.85), ("beta_blockers", 0.5),
            ("nitrates", 0.3), ("acei_arbs", 0.4), ("ppis", 0.35)),
    "STIA": (("antiplatelets", 0.8), ("statins", 0.85), ("acei_arbs", 0.3)),
    "PAD": (("antiplatelets", 0.75), ("statins", 0.75)),
    "HF": (("loop_diuretics", 0.7), ("beta_blockers", 0.7), ("acei_arbs", 0.7),
           ("mras", 0.3)),
    "CKD": (("acei_arbs", 0.4), ("statins", 0.45)),
    "CVDPP": (("statins", 0.6),),
    "AST": (("inhaled_relievers", 0.9), ("inhaled_corticosteroids", 0.75)),
    "COPD": (("inhaled_relievers", 0.9), ("long_acting_bronchodilators", 0.8),
             ("inhaled_corticosteroids", 0.4)),
    "DEP": (("antidepressants", 0.75), ("z_drugs", 0.06), ("benzodiazepines", 0.05)),
    "MH": (("antipsychotics", 0.8), ("antidepressants", 0.3), ("lithium", 0.08)),
    "EP": (("antiepileptics", 0.9),),
    "DEM": (("antidementia_drugs", 0.5), ("antipsychotics", 0.1)),
    "RA": (("methotrexate", 0.5), ("nsaids", 0.2), ("other_analgesics", 0.3)),
    "OST": (("bisphosphonates", 0.6), ("calcium_vitamin_d", 0.7)),
}  # fmt: skip

# Medicines without a recorded QOF condition: (group, sex or "", probability by
# ACTIVITY_BANDS). ASSUMPTION, rough shapes (pain medicines rise with age, NSAIDs fall after 65);
# each is multiplied by (1 + BACKGROUND_PER_LTC x number of LTCs), x1.5 in a care home, cap 0.9.
BACKGROUND_MEDICINES: tuple[tuple[str, str, tuple[float, ...]], ...] = (
    ("ppis", "", (0.005, 0.01, 0.06, 0.14, 0.25, 0.32, 0.35)),
    ("laxatives", "", (0.01, 0.005, 0.02, 0.04, 0.08, 0.15, 0.3)),
    ("other_analgesics", "", (0.01, 0.01, 0.04, 0.08, 0.14, 0.22, 0.35)),
    ("nsaids", "", (0.0, 0.005, 0.05, 0.08, 0.07, 0.05, 0.03)),
    ("opioids", "", (0.0, 0.002, 0.03, 0.07, 0.1, 0.13, 0.16)),
    ("gabapentinoids", "", (0.0, 0.0, 0.02, 0.05, 0.06, 0.06, 0.05)),
    ("benzodiazepines", "", (0.0, 0.0, 0.01, 0.02, 0.025, 0.03, 0.035)),
    ("z_drugs", "", (0.0, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05)),
    ("antidepressants", "", (0.0, 0.005, 0.05, 0.08, 0.08, 0.1, 0.12)),
    ("statins", "", (0.0, 0.0, 0.01, 0.08, 0.22, 0.3, 0.25)),
    ("levothyroxine", "", (0.001, 0.002, 0.015, 0.04, 0.07, 0.09, 0.1)),
    ("calcium_vitamin_d", "", (0.002, 0.002, 0.01, 0.03, 0.07, 0.12, 0.2)),
    ("antihistamines", "", (0.04, 0.05, 0.05, 0.05, 0.05, 0.05, 0.06)),
    ("inhaled_relievers", "", (0.03, 0.04, 0.03, 0.03, 0.03, 0.03, 0.03)),
    ("loop_diuretics", "", (0.0, 0.0, 0.0, 0.01, 0.03, 0.07, 0.12)),
    ("anticoagulants", "", (0.0, 0.0, 0.003, 0.01, 0.02, 0.03, 0.04)),
    ("antiplatelets", "", (0.0, 0.0, 0.0, 0.02, 0.05, 0.08, 0.1)),
    ("bph_drugs", "M", (0.0, 0.0, 0.002, 0.03, 0.1, 0.16, 0.2)),
    ("hormonal_contraception_hrt", "F", (0.0, 0.02, 0.15, 0.08, 0.02, 0.0, 0.0)),
)
BACKGROUND_PER_LTC = 0.6
_BACKGROUND_NAMES = tuple(m for m, _, _ in BACKGROUND_MEDICINES)


@functools.lru_cache(maxsize=4096)
def _background_limits(band: int, sex: str, n_ltc: int, care_home: bool) -> tuple[float, ...]:
    """Each background medicine's chance for this kind of patient (-1: never, for the other
    sex): the band's probability x (1 + BACKGROUND_PER_LTC x LTCs), x1.5 in a care home,
    capped at 0.9."""
    factor = (1 + BACKGROUND_PER_LTC * n_ltc) * (1.5 if care_home else 1.0)
    return tuple(
        min(0.9, by_band[band] * factor) if not only or only == sex else -1.0
        for _, only, by_band in BACKGROUND_MEDICINES
    )


# Annual emergency admissions per person by ACTIVITY_BANDS (ASSUMPTION: rounded from memory of
# HES 2019/20 - about 6.4M emergency admissions for about 56M people, ~0.11 per person-year,
# rising steeply after 65 - not from a file in this repository; replace with HES by age).
EMERGENCY_RATE_ANCHORS = (0.10, 0.04, 0.06, 0.08, 0.14, 0.25, 0.45)
# Annual A&E attendances per person (ASSUMPTION: ~0.4 per person-year overall, U-shaped).
AE_RATE_ANCHORS = (0.55, 0.3, 0.38, 0.3, 0.32, 0.5, 0.85)
# Log-rate coefficients (ASSUMPTION). A&E uses AE_COEFFICIENT_SCALE times the same terms.
LOG_RATE_PER_LTC = 0.25
LOG_RATE_PER_MEDICINE = 0.03
LOG_RATE_CARE_HOME = math.log(2.0)
LOG_RATE_HOUSEBOUND = math.log(1.6)
LOG_RATE_PER_DECILE = 0.05  # per IMD decile below the national mean of 5.5
LATENT_SD = 0.5  # unmeasured need: a lognormal factor with mean 1
AE_COEFFICIENT_SCALE = 0.6

# Blood pressure (ASSUMPTION): recording probability in the 24 months before as_of, adults only.
BP_RECORDED_BY_BAND = (0.0, 0.0, 0.4, 0.6, 0.75, 0.8, 0.8)
BP_RECORDED_HYP = 0.95
BP_RECORDED_OTHER_LTC = 0.85
BP_SD = 14.0
HYP_SBP_MEAN = 137.0
NON_HYP_SBP_AT_18 = 110.0


# 10. coded events (docstring section 10). Every probability below is an ASSUMPTION of rough
# clinical shape, tuned so that the full 36-deficit eFI in people 65+ lands near the expected
# fit/mild/moderate/severe split (population-health.md 1.1 and 6.4 step 3), not data.
# eFI deficit id (efi_deficits code list) -> base probability of ever having been coded, for a
# person 65-74 with the average latent factor and no LTC (before EFI_SCALE): the 21 deficits
# that QOF registers, the care-home/housebound flags and polypharmacy cannot show.
EFI_EVENT_DEFICITS: tuple[tuple[str, float], ...] = (
    ("activity_limitation", 0.03),
    ("anaemia", 0.12),
    ("dizziness", 0.15),
    ("dyspnoea", 0.12),
    ("falls", 0.15),
    ("foot_problems", 0.10),
    ("fragility_fracture", 0.08),
    ("hearing_loss", 0.18),
    ("heart_valve_disease", 0.04),
    ("hypotension", 0.08),
    ("mobility_problems", 0.06),
    ("parkinsons", 0.03),
    ("peptic_ulcer", 0.07),
    ("skin_ulcer", 0.05),
    ("sleep_disturbance", 0.12),
    ("social_vulnerability", 0.05),
    ("thyroid_disorders", 0.10),
    ("urinary_incontinence", 0.10),
    ("urinary_system_disease", 0.15),
    ("vision_problems", 0.20),
    ("weight_loss", 0.04),
)
# multiplier by ACTIVITY_BANDS (0-4, 5-17, 18-44, 45-64, 65-74, 75-84, 85+)
EFI_AGE_FACTOR = (0.02, 0.04, 0.12, 0.35, 0.8, 1.15, 1.5)
EFI_SCALE = 1.0
EFI_LATENT = 0.4  # x exp(EFI_LATENT * z - EFI_LATENT**2 / 2): mean 1 over z
EFI_PER_LTC = 0.15  # x (1 + EFI_PER_LTC x LTC count)
EFI_CAP = 0.9
EFI_INDEPENDENT_FROM_AGE = 40  # below: at most one deficit (a shortcut for speed)
EFI_LOOKBACK_YEARS = 15  # first codes uniform over the 15 years before as_of (after birth)
FALLS_RECENT_SHARE = 0.4  # people with a falls code who also have one in the last 12 months
# lower-GI urgent suspected cancer referral (section 4.6), per year, by ACTIVITY_BANDS, 40+ only
LGI_REFERRAL_BY_BAND = (0.0, 0.0, 0.006, 0.011, 0.022, 0.03, 0.03)
LGI_MIN_AGE = 40
FIT_BEFORE_REFERRAL = 0.70  # share of referrals with a FIT 1-21 days before
FIT_WINDOW_DAYS = 21
FIT_HIGH_SHARE_REFERRED = 0.65  # of FITs before a referral, share with fHb >= 10
FIT_WITHOUT_REFERRAL = 0.02  # per year, people 40+ (symptomatic FITs not referred on)
FIT_HIGH_SHARE_NOT_REFERRED = 0.08
# structured medication review (1239511000000100) in the 12 months, by distinct medicine groups
SMR_10PLUS = 0.30
SMR_5TO9 = 0.05
# care home residents: MDT holistic assessment and personalised care and support plan
CARE_HOME_ASSESSED = 0.92  # residents admitted more than 7 days before as_of
CARE_HOME_PCSP = 0.88
CARE_HOME_RECENT_DAYS = 7
CARE_HOME_RECENT_DONE = 0.5  # residents admitted in the last 7 days with anything yet
CARE_HOME_DONE_WITHIN_DAYS = 10
# real SNOMED CT codes, only where the repository documents them (population-health.md 4.1;
# measures.EFI_FROM_PATIENT_FLAGS); every other concept has a null code
EVENT_CODES = {
    "structured_medication_review": "1239511000000100",
    "lives_in_care_home": "248171000000108",
}


def stage_rng(seed: int, code: str, stage: str) -> random.Random:
    """A second per-practice generator for a later stage, so that adding stages never changes
    the draws (and so the bytes) of the patients and conditions."""
    digest = hashlib.sha256(f"pcnkit-synthetic:{seed}:{code}:{stage}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


_ACTIVITY_BAND_OF_AGE = tuple(_band_index(ACTIVITY_BANDS, a) for a in range(MAX_AGE + 1))


def activity_band(age: int) -> int:
    """The index of `age`'s band in ACTIVITY_BANDS (a table lookup: called per patient)."""
    if 0 <= age <= MAX_AGE:
        return _ACTIVITY_BAND_OF_AGE[age]
    return _band_index(ACTIVITY_BANDS, age)


def linear_predictor(
    n_ltc: int, n_medicines: int, care_home: bool, housebound: bool, imd_decile: int
) -> float:
    """The covariate part of the log-rate of emergency admission (section 9)."""
    return (
        LOG_RATE_PER_LTC * n_ltc
        + LOG_RATE_PER_MEDICINE * n_medicines
        + (LOG_RATE_CARE_HOME if care_home else 0.0)
        + (LOG_RATE_HOUSEBOUND if housebound else 0.0)
        + LOG_RATE_PER_DECILE * (5.5 - imd_decile)
    )


def _deprivation_term(imd_decile: int) -> float:
    return LOG_RATE_PER_DECILE * (5.5 - imd_decile)


def _dates_in(rng: random.Random, start: dt.date, end: dt.date, k: int) -> list[dt.date]:
    """k dates uniform in [start, end), sorted."""
    span = (end - start).days
    rand = rng.random  # int(random() x n) is uniform on 0..n-1 and far cheaper than randrange
    if k == 1:
        return [start + dt.timedelta(days=int(rand() * span))]
    return sorted(start + dt.timedelta(days=int(rand() * span)) for _ in range(k))


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: means here are small (under ~10)
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _fit_value(rng: random.Random, high_share: float) -> float:
    """A faecal haemoglobin in ug Hb/g: lognormal below 10 or at/above 10 (ASSUMPTION)."""
    if rng.random() < high_share:
        return round(min(600.0, max(10.0, math.exp(rng.gauss(math.log(60), 1.0)))), 1)
    return round(min(9.9, math.exp(rng.gauss(math.log(2.0), 0.9))), 1)


def _event_rows(spec, seed, as_of, patients, ltcs, ages, n_medicines, latent):
    """One practice's coded events (docstring section 10), as columns."""
    rng = stage_rng(seed, spec.code, "events")
    ids, concepts, dates, values = [], [], [], []
    year_ago = as_of - dt.timedelta(days=365)
    lookback = dt.date(as_of.year - EFI_LOOKBACK_YEARS, as_of.month, 1)
    deficits = [d for d, _ in EFI_EVENT_DEFICITS]
    bases = [b * EFI_SCALE for _, b in EFI_EVENT_DEFICITS]
    z_mean = EFI_LATENT**2 / 2
    rand, randrange, delta = rng.random, rng.randrange, dt.timedelta

    def add(pid: str, concept: str, day: dt.date, value: float | None = None) -> None:
        ids.append(pid)
        concepts.append(concept)
        dates.append(day)
        values.append(value)

    for i in range(spec.list_size):
        pid, age = patients["pseudonym"][i], ages[i]
        band = activity_band(age)
        born = patients["month_of_birth"][i]
        # eFI deficits: first ever code, any time before as_of
        m = (
            EFI_AGE_FACTOR[band]
            * math.exp(EFI_LATENT * latent[i] - z_mean)
            * (1 + EFI_PER_LTC * len(ltcs.get(pid, ())))
        )
        first = max(born, lookback)
        span = (as_of - first).days
        if age >= EFI_INDEPENDENT_FROM_AGE:
            got = [d for d, b in zip(deficits, bases, strict=True) if rand() < min(EFI_CAP, b * m)]
        else:
            u, got = rand() / m, []
            for d, b in zip(deficits, bases, strict=True):
                if u < b:
                    got.append(d)
                    break
                u -= b
        if got and span > 0:
            for d in got:
                day = first + delta(days=int(rand() * span))
                add(pid, d, day)
                if d == "falls" and rand() < FALLS_RECENT_SHARE:
                    recent = max(day, year_ago)
                    add(pid, d, recent + delta(days=randrange((as_of - recent).days)))
        start = max(year_ago, patients["registration_start"][i])
        if start >= as_of:
            continue
        days = (as_of - start).days
        years = days / 365
        # lower-GI urgent referrals and FITs
        if age >= LGI_MIN_AGE:
            if rand() < LGI_REFERRAL_BY_BAND[band] * years:
                referral = start + delta(days=randrange(days))
                add(pid, "lgi_urgent_referral", referral)
                if rand() < FIT_BEFORE_REFERRAL:
                    fit_day = referral - delta(days=rng.randint(1, FIT_WINDOW_DAYS))
                    add(pid, "fit_test", fit_day, _fit_value(rng, FIT_HIGH_SHARE_REFERRED))
            if rand() < FIT_WITHOUT_REFERRAL * years:
                fit_day = start + delta(days=randrange(days))
                add(pid, "fit_test", fit_day, _fit_value(rng, FIT_HIGH_SHARE_NOT_REFERRED))
        # structured medication review
        p_smr = SMR_10PLUS if n_medicines[i] >= 10 else SMR_5TO9 if n_medicines[i] >= 5 else 0.0
        if p_smr and rand() < p_smr:
            add(pid, "structured_medication_review", start + delta(days=randrange(days)))
        # care home: admission code, MDT holistic assessment and PCSP after admission
        since = patients["care_home_since"][i]
        if since is not None:
            add(pid, "lives_in_care_home", since)
            recent = (as_of - since).days <= CARE_HOME_RECENT_DAYS
            if recent and rand() >= CARE_HOME_RECENT_DONE:
                continue
            room = min(CARE_HOME_DONE_WITHIN_DAYS, (as_of - since).days - 1)
            for concept, p in (
                ("care_home_assessment", 1.0 if recent else CARE_HOME_ASSESSED),
                ("pcsp", CARE_HOME_PCSP),
            ):
                if room >= 0 and rand() < p:
                    add(pid, concept, since + delta(days=rng.randint(0, room)))
    return {
        "pseudonym": ids,
        "concept": concepts,
        "code": [EVENT_CODES.get(c) for c in concepts],
        "date": dates,
        "value": values,
        "synthetic": [True] * len(ids),
    }


def _activity_rows(
    spec: PracticeSpec, seed: int, as_of: dt.date, patients, conditions, latent=None
):
    """One practice's medications, observations, hospital events, true risks and coded events
    (columns)."""
    n = spec.list_size
    ltcs: dict[str, list[str]] = {}
    for p, g in zip(conditions["pseudonym"], conditions["qof_group"], strict=True):
        ltcs.setdefault(p, []).append(g)
    as_of_month = as_of.year * 12 + as_of.month
    ages = [(as_of_month - (b.year * 12 + b.month)) // 12 for b in patients["month_of_birth"]]
    year_ago = as_of - dt.timedelta(days=365)
    two_years_ago = as_of - dt.timedelta(days=730)

    # 7. medicines
    rng = stage_rng(seed, spec.code, "medications")
    rand = rng.random
    meds = {"pseudonym": [], "medicine_group": [], "bnf_chapter": [], "issue_date": []}
    n_medicines = []
    for i in range(n):
        pid, age, sex = patients["pseudonym"][i], ages[i], patients["sex"][i]
        groups = sorted(ltcs.get(pid, ()))
        band = activity_band(age)
        chosen: set[str] = set()
        for g in groups:
            for medicine, p in CONDITION_MEDICINES.get(g, ()):
                if rand() < p:
                    chosen.add(medicine)
        limits = _background_limits(band, sex, len(groups), bool(patients["care_home"][i]))
        for medicine, limit in zip(_BACKGROUND_NAMES, limits, strict=True):
            if rand() < limit:  # one draw per medicine, as always
                chosen.add(medicine)
        start = max(year_ago, patients["registration_start"][i], patients["month_of_birth"][i])
        if start >= as_of:
            chosen = set()
        n_medicines.append(len(chosen))
        for medicine in sorted(chosen):
            for day in _dates_in(rng, start, as_of, rng.randint(2, 4)):
                meds["pseudonym"].append(pid)
                meds["medicine_group"].append(medicine)
                meds["bnf_chapter"].append(MEDICINE_CHAPTERS[medicine])
                meds["issue_date"].append(day)

    # 8. blood pressure
    rng = stage_rng(seed, spec.code, "observations")
    obs = {"pseudonym": [], "concept": [], "value": [], "date": []}
    for i in range(n):
        pid, age, sex = patients["pseudonym"][i], ages[i], patients["sex"][i]
        groups = ltcs.get(pid, ())
        on_hyp = "HYP" in groups
        p_rec = (
            BP_RECORDED_HYP
            if on_hyp
            else BP_RECORDED_OTHER_LTC
            if groups and age >= 18
            else BP_RECORDED_BY_BAND[activity_band(age)]
        )
        draw = rng.random()
        start = max(two_years_ago, patients["registration_start"][i])
        if age < 18 or draw >= p_rec or start >= as_of:
            continue
        readings = rng.randint(1, 3) if on_hyp else 1
        for day in _dates_in(rng, start, as_of, readings):
            if on_hyp:
                mean = HYP_SBP_MEAN + 0.1 * (age - 60)
            else:
                mean = NON_HYP_SBP_AT_18 + 0.4 * (age - 18) + (4 if sex == "M" else 0)
            sbp = min(240, max(80, round(rng.gauss(mean, BP_SD))))
            dbp = 18 + 0.45 * sbp - 0.12 * max(0, age - 50) + rng.gauss(0, 7)
            dbp = min(140, max(40, round(dbp)))
            for concept, value in (("systolic_bp", sbp), ("diastolic_bp", dbp)):
                obs["pseudonym"].append(pid)
                obs["concept"].append(concept)
                obs["value"].append(float(value))
                obs["date"].append(day)

    # 9. hospital use: intercepts per band so that the practice's mean rate, before its
    # deprivation, equals the anchor
    rng = stage_rng(seed, spec.code, "hospital")
    eta = [
        linear_predictor(
            len(ltcs.get(patients["pseudonym"][i], ())),
            n_medicines[i],
            patients["care_home"][i],
            patients["housebound"][i],
            patients["lsoa_imd_decile"][i],
        )
        for i in range(n)
    ]
    latent = [math.exp(rng.gauss(-(LATENT_SD**2) / 2, LATENT_SD)) for _ in range(n)]
    sums_e = [0.0] * len(ACTIVITY_BANDS)
    sums_a = [0.0] * len(ACTIVITY_BANDS)
    people = [0] * len(ACTIVITY_BANDS)
    for i in range(n):
        b, dep = activity_band(ages[i]), _deprivation_term(patients["lsoa_imd_decile"][i])
        people[b] += 1
        sums_e[b] += math.exp(eta[i] - dep)
        sums_a[b] += math.exp(AE_COEFFICIENT_SCALE * (eta[i] - dep))
    hosp = {"pseudonym": [], "kind": [], "date": []}
    truth = {"pseudonym": [], "p_emergency_admission_12m": []}
    for i in range(n):
        pid, b = patients["pseudonym"][i], activity_band(ages[i])
        rate_e = EMERGENCY_RATE_ANCHORS[b] * people[b] / sums_e[b] * math.exp(eta[i]) * latent[i]
        rate_a = (
            AE_RATE_ANCHORS[b]
            * people[b]
            / sums_a[b]
            * math.exp(AE_COEFFICIENT_SCALE * eta[i])
            * latent[i]
        )
        truth["pseudonym"].append(pid)
        truth["p_emergency_admission_12m"].append(1 - math.exp(-rate_e))
        start = max(two_years_ago, patients["month_of_birth"][i])
        if start >= as_of:
            continue
        years = (as_of - start).days / 365.25
        for kind, rate in (("ae", rate_a), ("emergency_admission", rate_e)):
            for day in _dates_in(rng, start, as_of, _poisson(rng, rate * years)):
                hosp["pseudonym"].append(pid)
                hosp["kind"].append(kind)
                hosp["date"].append(day)
    for table in (meds, obs, hosp, truth):
        table["synthetic"] = [True] * len(table["pseudonym"])
    if latent is None:  # pragma: no cover - generate always passes it
        latent = [0.0] * n
    events = _event_rows(spec, seed, as_of, patients, ltcs, ages, n_medicines, latent)
    return meds, obs, hosp, truth, events


# --- writing ------------------------------------------------------------------------------


def _metadata(seed: int, as_of: dt.date) -> dict[str, str]:
    """The schema metadata every generated file carries (what it is and how it was made)."""
    return {
        "pcnkit.synthetic": "true",
        "pcnkit.label": LABEL,
        "pcnkit.generator": GENERATOR,
        "pcnkit.seed": str(seed),
        "pcnkit.as_of": as_of.isoformat(),
    }


def _schemas(seed: int, as_of: dt.date):
    import pyarrow as pa

    meta = _metadata(seed, as_of)
    patients = pa.schema(
        [
            ("pseudonym", pa.string()),
            ("practice", pa.string()),
            ("sex", pa.string()),
            ("month_of_birth", pa.date32()),
            ("registration_start", pa.date32()),
            ("registration_end", pa.date32()),
            ("date_of_death", pa.date32()),
            ("lsoa_imd_decile", pa.int8()),
            ("ethnic_group", pa.string()),
            ("care_home", pa.bool_()),
            ("care_home_since", pa.date32()),
            ("housebound", pa.bool_()),
            ("synthetic", pa.bool_()),
        ],
        metadata={**meta, "pcnkit.table": "patients"},
    )
    conditions = pa.schema(
        [
            ("pseudonym", pa.string()),
            ("qof_group", pa.string()),
            ("diagnosis_date", pa.date32()),
            ("synthetic", pa.bool_()),
        ],
        metadata={**meta, "pcnkit.table": "conditions"},
    )
    return patients, conditions


ACTIVITY_TABLES = ("medications", "observations", "hospital", "truth", "events")


def _activity_schemas(seed: int, as_of: dt.date) -> dict:
    import pyarrow as pa

    meta = _metadata(seed, as_of)
    columns = {
        "medications": [
            ("pseudonym", pa.string()),
            ("medicine_group", pa.string()),
            ("bnf_chapter", pa.int8()),
            ("issue_date", pa.date32()),
            ("synthetic", pa.bool_()),
        ],
        "observations": [
            ("pseudonym", pa.string()),
            ("concept", pa.string()),
            ("value", pa.float64()),
            ("date", pa.date32()),
            ("synthetic", pa.bool_()),
        ],
        "hospital": [
            ("pseudonym", pa.string()),
            ("kind", pa.string()),
            ("date", pa.date32()),
            ("synthetic", pa.bool_()),
        ],
        "truth": [
            ("pseudonym", pa.string()),
            ("p_emergency_admission_12m", pa.float64()),
            ("synthetic", pa.bool_()),
        ],
        "events": [
            ("pseudonym", pa.string()),
            ("concept", pa.string()),
            ("code", pa.string()),
            ("date", pa.date32()),
            ("value", pa.float64()),
            ("synthetic", pa.bool_()),
        ],
    }
    return {
        name: pa.schema(cols, metadata={**meta, "pcnkit.table": name})
        for name, cols in columns.items()
    }


def _write(columns: dict[str, list], schema, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pydict(columns, schema=schema)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


PARALLEL_FROM_PATIENTS = 200_000  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4


def _exit_with(parent: int) -> None:
    """A generator worker ends when the process that started it is gone (killed with -9, say),
    instead of waiting for work forever: a thread checks its parent once a second."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _batch(args) -> dict:
    """Make and write one batch of practices (see `generate`); return its aggregate counts."""
    specs, seed, as_of, activity, number, out_dir = args
    patient_schema, condition_schema = _schemas(seed, as_of)
    activity_schemas = _activity_schemas(seed, as_of) if activity else {}
    patients: dict[str, list] = {name: [] for name in patient_schema.names}
    conditions: dict[str, list] = {name: [] for name in condition_schema.names}
    extra = {t: {c: [] for c in schema.names} for t, schema in activity_schemas.items()}
    out: dict = {"practices": [], "rows": dict.fromkeys(ACTIVITY_TABLES, 0), "files": []}
    for spec in specs:
        p_rows, c_rows, counts, latent = _practice_rows(spec, seed, as_of)
        if activity:
            made = _activity_rows(spec, seed, as_of, p_rows, c_rows, latent)
            for table, rows in zip(ACTIVITY_TABLES, made, strict=True):
                for name, values in rows.items():
                    extra[table][name].extend(values)
                out["rows"][table] += len(rows["pseudonym"])
        for name, values in p_rows.items():
            patients[name].extend(values)
        for name, values in c_rows.items():
            conditions[name].extend(values)
        out["practices"].append((spec.code, spec.list_size, len(c_rows["pseudonym"]), counts))
    for table, columns, schema in (
        ("patients", patients, patient_schema),
        ("conditions", conditions, condition_schema),
        *((t, extra[t], activity_schemas[t]) for t in activity_schemas),
    ):
        path = out_dir / table / f"synthetic-{table}-{number:05d}.parquet"
        _write(columns, schema, path)
        out["files"].append(path.relative_to(out_dir).as_posix())
    return out


def _add_batch(report: GenerationReport, batch: dict) -> None:
    """Add one batch's counts to the report."""
    for code, list_size, n_conditions, counts in batch["practices"]:
        for group, (target, made) in counts.items():
            total = report.groups.setdefault(group, GroupTotal())
            total.target += target
            total.generated += made
            if made < target:
                report.shortfalls.setdefault(code, {})[group] = target - made
        report.practices += 1
        report.patients += list_size
        report.conditions += n_conditions
    for table in ("medications", "observations", "hospital", "events"):
        setattr(report, table, getattr(report, table) + batch["rows"][table])
    report.files.extend(batch["files"])


def generate(
    practices: list[PracticeSpec],
    out_dir: Path,
    seed: int,
    *,
    as_of: dt.date,
    batch_practices: int = 20,
    progress: Callable[[int, int], None] | None = None,
    activity: bool = True,
    workers: int | None = None,
) -> GenerationReport:
    """Write a synthetic population for `practices` into `out_dir` (see the module docstring).

    Writes ``patients/synthetic-patients-NNNNN.parquet`` and
    ``conditions/synthetic-conditions-NNNNN.parquet`` per batch, ``SYNTHETIC.txt`` and
    ``synthetic-report.json``. Refuses a folder that already holds generated Parquet files, so
    that stale batches never mix into a new population. `progress(done, total)` is called after
    each batch with practice counts.

    With `activity` (the default) it also writes ``medications/``, ``observations/``,
    ``hospital/``, ``events/`` (coded events) and, under ``truth/``, each patient's true
    12-month emergency admission probability (docstring sections 7-10). These come from
    separate per-practice generators, so the patients and conditions files are byte-identical
    with or without them.

    Batches are independent (each practice has its own generators), so with `workers` > 1
    they are made by that many processes at once, each writing its own batch's files; the
    files are byte-identical to one process's. None: one process below
    PARALLEL_FROM_PATIENTS patients in all, else one per CPU (at most MAX_WORKERS).
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise PcnkitError("synthetic populations need pyarrow: pip install pyarrow") from e
    if batch_practices < 1:
        raise PcnkitError("batch_practices must be at least 1")
    codes = [p.code for p in practices]
    if len(set(codes)) != len(codes):
        raise PcnkitError("each practice may appear only once")
    out_dir = Path(out_dir)
    patients_dir, conditions_dir = out_dir / "patients", out_dir / "conditions"
    activity_dirs = {name: out_dir / name for name in ACTIVITY_TABLES} if activity else {}
    for folder in (patients_dir, conditions_dir, *activity_dirs.values()):
        if folder.exists() and any(folder.glob("*.parquet")):
            raise PcnkitError(f"{folder} already holds Parquet files; choose an empty folder")
        folder.mkdir(parents=True, exist_ok=True)
    (out_dir / "SYNTHETIC.txt").write_text(
        f"{LABEL}\nGenerator {GENERATOR}, seed {seed}, as of {as_of.isoformat()}.\n"
    )
    started = time.perf_counter()
    ordered = sorted(practices, key=lambda p: p.code)
    report = GenerationReport(seed, as_of)
    report.anchor_overrides = [
        f"{g} {s} {a}+: {v} (assumption; see ANCHOR_OVERRIDES)"
        for (g, s, a), v in sorted(ANCHOR_OVERRIDES.items())
    ]
    batches = [
        (ordered[first : first + batch_practices], seed, as_of, activity, number, out_dir)
        for number, first in enumerate(range(0, len(ordered), batch_practices))
    ]
    if workers is None:
        total = sum(p.list_size for p in ordered)
        workers = 1 if total < PARALLEL_FROM_PATIENTS else min(os.cpu_count() or 1, MAX_WORKERS)
    if workers > 1 and len(batches) > 1:
        import concurrent.futures
        import multiprocessing

        # spawn, not fork: the caller may hold database connections and threads
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(
            min(workers, len(batches)), context, initializer=_exit_with, initargs=(os.getpid(),)
        ) as pool:
            made = pool.map(_batch, batches)
            for batch in made:  # in batch order, so the report is the same as one process's
                _add_batch(report, batch)
                if progress is not None:
                    progress(report.practices, len(ordered))
    else:
        for args in batches:
            _add_batch(report, _batch(args))
            if progress is not None:
                progress(report.practices, len(ordered))
    report.groups = dict(sorted(report.groups.items()))
    report.seconds = time.perf_counter() - started
    (out_dir / "synthetic-report.json").write_text(report.to_json())
    return report
