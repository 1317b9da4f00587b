"""What the statuses, tags and codes shown by pcnkit mean, and where its data comes from, in
plain words: the help page (/help) shows these, so the explanation and the code that applies
each status live side by side (funding statuses come from `funding.rules.STATUSES`, finding
check outcomes from `registry.checks.OUTCOMES`, tiers from `population.segments`)."""

from __future__ import annotations

from dataclasses import dataclass

from pcnkit.funding.rules import STATUSES
from pcnkit.population.segments import DEFAULT_QUOTA_PER_10000
from pcnkit.registry.checks import OUTCOME_HELP, OUTCOME_LABELS, OUTCOMES


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str
    # an anchor on the help page (/help#anchor), for terms other pages link to
    anchor: str | None = None


FUNDING_STATUS_WORDS = {
    "C": "Confirmed: stated explicitly in the cited source (the contract specification, or a "
    "reputable source quoting it).",
    "C2": "Confirmed: two independent sources agree.",
    "D": "Derived: calculated from confirmed figures (for example a monthly amount from a "
    "confirmed yearly rate).",
    "S": "Not confirmed: one secondary source only (for example an LMC summary or the trade "
    "press). Check it against the contract specification before you rely on it.",
    "X": "Not confirmed: published sources disagree. The figure uses one of them; check it.",
    "U": "Not confirmed: the figure or rule could not be found in any source pcnkit's authors "
    "could reach. Treat it as an assumption.",
}


def funding_statuses() -> list[Term]:
    """Every funding status letter, confirmed ones first, in the order the rules define them."""
    letters = sorted(STATUSES, key=lambda s: not STATUSES[s])
    return [Term(s, FUNDING_STATUS_WORDS[s]) for s in letters]


TAGS = [
    Term(
        "Confirmed",
        "The figure rests only on rules with status C, C2 or D (see below): published and checked.",
    ),
    Term(
        "Not confirmed",
        "At least one rule behind the figure has status S, X or U; the tag says which. The figure "
        "is usable for planning, but check it against your own contract papers before paying or "
        "claiming. \u201cRate not confirmed\u201d: the rate itself is not confirmed.",
    ),
    Term(
        "Cannot be calculated",
        "An input the rule needs (for example care home beds, or the PCN adjusted population) is "
        "not loaded, so pcnkit shows no figure rather than a misleading \u00a30.00.",
    ),
    Term(
        "Incomplete",
        "A total that leaves out one or more figures that cannot be calculated; the page lists "
        "which.",
    ),
    Term(
        "SYNTHETIC",
        "Made-up patients, generated to look like a real practice population (ages, conditions, "
        "medicines) so the pages can be tried without real patient data. No row is a real "
        "person. The demo's patient-level data are all synthetic.",
    ),
    Term(
        "[REDACTED]",
        "A count of 1 to 7 people, hidden because so few people could be identified. Counts of "
        "8 or more are rounded to the nearest 5, and totals are added up from the rounded "
        "figures, so they may differ slightly from the sum of the real numbers.",
    ),
    Term("–", "No figure: nothing is recorded for this date, or it does not apply."),
    Term("not known", "The source files do not say when this began."),
]


def severities() -> list[Term]:
    """The outcomes of the configuration check, in the words the pages use."""
    return [
        Term(OUTCOME_LABELS[o], OUTCOME_HELP[o][0].upper() + OUTCOME_HELP[o][1:] + ".")
        for o in OUTCOMES
    ]


TIERS = [
    Term(
        "High complexity",
        "People whose records show the most complex needs, for example those on the "
        "palliative care register or with severe frailty. Each population page lists the exact "
        "rules, in the order they are applied.",
    ),
    Term(
        "Rising risk",
        "People not in the high-complexity tier who meet a rising-risk rule, for example a "
        "predicted risk of needing emergency care among the highest 5% of the population.",
    ),
    Term("Well / stable", "Everyone else."),
    Term(
        "Rising-risk cohort",
        "The people with the highest predicted risk in each practice's rising-risk tier, up "
        f"to {DEFAULT_QUOTA_PER_10000} per 10,000 registered patients.",
    ),
    Term(
        "Case-finding list",
        "A list of patients who meet the criteria of a national programme (for example a "
        "structured medication review) and may be due a review. Only PCN and practice users "
        "can see the names behind the pseudonyms, in their clinical systems.",
    ),
]

CODES = [
    Term(
        "Practice codes (for example F82002)",
        "The Organisation Data Service (ODS) code of a GP practice: a letter and five digits.",
    ),
    Term(
        "PCN codes (for example U00367)",
        "The ODS code of a Primary Care Network: U and five digits.",
    ),
    Term(
        "CCG and sub-ICB location codes (for example 08F)",
        "The ODS code of a clinical commissioning group, and from 1 July 2022 of the sub-ICB "
        "location that replaced it.",
    ),
    Term(
        "ICS, ICB and STP codes (for example QMF)",
        "The ODS code of an integrated care system's area (called an STP before 1 July 2022).",
    ),
    Term(
        "Local codes (for example PL-HAV, FED-HAV)",
        "Places, GP federations and groupings have no national code: your administrator "
        "names them in the local definitions. PL- is a place, FED- a federation.",
    ),
    Term(
        "Registered, weighted and adjusted lists",
        "Registered: patients on the practice's list. Weighted: the list weighted for the "
        "expected workload of its patients (the Global Sum, or Carr-Hill, formula). Adjusted: "
        "the weighted list scaled so that nationally it adds up to the registered population, "
        "used by some Network Contract DES payments.",
    ),
    Term(
        "Pseudonym",
        "A code that stands for a patient on a list. It identifies no one outside the "
        "practice's own systems.",
    ),
]

# Each source by its public title and publisher (file type -> title), as cited on the pages.
SOURCES = [
    Term(
        "NHS Digital, Organisation Data Service (ODS): GP practices (epraccur)",
        "Every GP practice's code, name, address, open and close dates and commissioner.",
    ),
    Term(
        "NHS Digital, Organisation Data Service (ODS): Primary Care Networks (ePCN)",
        "Every PCN and its core member practices, with the dates they joined and left.",
    ),
    Term(
        "NHS Digital, Patients Registered at a GP Practice",
        "The number of patients registered at each practice, published monthly.",
    ),
    Term(
        "NHS Digital, NHS Payments to General Practice",
        "What each practice was paid in a financial year, with its list sizes and PCN.",
    ),
    Term(
        "NHS Digital, Quality and Outcomes Framework (QOF)",
        "Practice list sizes on 1 January, disease registers and prevalence, and the "
        "practice-to-area mapping for each year.",
    ),
    Term(
        "NHS England, Appointments in General Practice",
        "The practice-to-PCN and practice-to-ICB mapping published with the appointments data.",
    ),
    Term(
        "NHS England, CCG to ICB mapping",
        "Which clinical commissioning groups joined each integrated care board on 1 July 2022.",
    ),
    Term("NHS Choices, GP practice locations", "Where each practice is (for the maps)."),
    Term(
        "NHS England, Submissions via Online Consultation Systems in General Practice",
        "Monthly: each practice's online consultation (OC) submissions - clinical, "
        "administrative and other requests patients send through an online system - and its "
        "registered patients; England's series since April 2023.",
    ),
    Term(
        "NHS England, Cloud Based Telephony data in General Practice",
        "Monthly: each practice's inbound calls, answered, missed and call-back requests, and "
        "how long callers waited, for practices on a cloud-based telephone system.",
    ),
    Term(
        "Care Quality Commission, latest overall ratings of GP practices",
        "Each practice's latest overall rating (Outstanding, Good, Requires improvement, "
        "Inadequate), as at April 2024.",
    ),
    Term(
        "NHS Digital, General Practice Workforce (practice level)",
        "Each practice's staff in full-time equivalents (FTE: 1.0 is one full-time post): GPs, "
        "nurses, direct patient care (DPC) staff such as healthcare assistants and "
        "pharmacists, and admin staff, each September.",
    ),
    Term(
        "NHS Digital, Primary Care Networks workforce",
        "Staff employed in the Additional Roles Reimbursement Scheme (ARRS) roles - clinical "
        "pharmacists, social prescribing link workers, physician associates and others - by "
        "PCN, in FTE.",
    ),
    Term(
        "NHS Digital, QOF achievement (cardiovascular groups) and the PCN data matrix",
        "How far practices and PCNs met the Quality and Outcomes Framework's indicators. The "
        "codes are QOF's register groups: AF atrial fibrillation, CHD coronary heart disease, "
        "CHOL cholesterol, HF heart failure, HYP hypertension, PAD peripheral arterial disease, "
        "STIA stroke and transient ischaemic attack, AST asthma, CAN cancer, CKD chronic kidney "
        "disease, COPD chronic obstructive pulmonary disease, DEM dementia, DEP depression, DM "
        "diabetes, LD learning disability, MH mental health.",
    ),
    Term(
        "NHS England, Network Contract Directed Enhanced Service: contract specification",
        "The payment rules and rates for each contract year, behind the funding pages.",
    ),
    Term(
        "Local definitions",
        "Places, federations, groupings and PCN roles that no national file publishes, set "
        "by your administrator from local committee papers.",
    ),
]

# The assurance pages' words: statistical process control, the comparisons with England and
# peers, and the watch-list. The numbers quoted come from `assurance.spc` and `assurance.compare`.
ASSURANCE = [
    Term(
        "Statistical process control (SPC)",
        "A way of telling real change from the ups and downs every measure has. Each month's "
        "value is plotted in time order with its average and two process limits worked out from "
        "the past months; a point or pattern beyond what those ups and downs explain is a "
        "signal worth looking into. pcnkit follows NHS England's Making Data Count guidance.",
        "spc",
    ),
    Term(
        "XmR chart",
        "The kind of SPC chart pcnkit draws (an individuals and moving range chart): each value "
        "(X) is plotted, and the limits come from the average change from one month to the "
        "next (the moving range, mR), so no assumption about the figure's distribution is "
        "needed.",
        "xmr",
    ),
    Term(
        "Process limits",
        "The upper and lower lines on an SPC chart: the average plus and minus 2.66 times the "
        "average month-to-month change (three standard deviations). Nearly all values of a "
        "process that has not changed fall between them. They are not targets.",
        "process-limits",
    ),
    Term(
        "Common cause variation",
        "Ups and downs no larger than the measure has always had: no signal. Reacting to one "
        "month's rise or fall within the limits is chasing noise.",
        "common-cause",
    ),
    Term(
        "Special cause variation",
        "A change too large or too consistent to be chance, shown by one of four rules: a point "
        "outside the process limits; 7 points in a row rising (or falling); 7 points in a row "
        "on one side of the average; two of three points beyond the same near-limit line (two "
        "thirds of the way to a limit). Marked improvement or concern according to whether "
        "higher or lower is better.",
        "special-cause",
    ),
    Term(
        "Variation icons",
        "The symbol on each tile saying whether the latest point shows change: ~ (grey) common "
        "cause, no significant change; H or L in blue, special cause improvement, higher or "
        "lower; H or L in orange, special cause concern; H or L in purple, a significant change "
        "where neither direction is better. The key at the foot of each assurance page gives "
        "each one's words.",
        "variation-icons",
    ),
    Term(
        "Assurance icons",
        "Whether a target will be met if nothing changes, judged from the process limits: P "
        "(blue) consistently passing, the target lies outside the limits on the failing side; "
        "F (orange) consistently failing, the target lies outside the limits on the passing "
        "side; ? (grey) hit and miss, the target lies between the limits, so some months will "
        "meet it and some will not. Shown only for an indicator with a target.",
        "assurance-icons",
    ),
    Term(
        "Trial limits",
        "Process limits worked out from fewer than 12 points. They will move as more months "
        "arrive, so their signals are provisional; the chart says when its limits are trial "
        "limits.",
        "trial-limits",
    ),
    Term(
        "Peers",
        "The organisations of the same kind an organisation is ranked against: a practice's "
        "are the practices of its PCN, a PCN's the PCNs of its place (or federation or sub-ICB "
        "location), a place's the places of its ICB, each as organised when the figure was "
        "made. Peer rank 1 is the best, given whether higher or lower is better; organisations "
        "with the same value share a rank.",
        "peers",
    ),
    Term(
        "Quartile",
        "A quarter of the ranked peers: quartile 1 is the best quarter, quartile 4 the worst. "
        "Organisations with the same value share a quartile.",
        "quartile",
    ),
    Term(
        "Significantly better or worse than England (Wilson and Byar intervals)",
        "Every value has a margin of error: a small practice's 70% could easily have been 65% "
        "or 75% by chance. pcnkit works out a 95% confidence interval around the value (the "
        "Wilson score interval for a percentage, Byar's method for a rate per 1,000 patients, "
        "the methods Public Health England used in Fingertips). If England's value lies outside "
        "that interval the value is significantly better or worse than England; if inside, "
        "similar. Not compared means the counts needed are not published.",
        "significance",
    ),
    Term(
        "Funnel plot",
        "Each organisation's value plotted against its size (the denominator), with England's "
        "value as a line and funnel-shaped limits around it: narrow for large organisations, "
        "wide for small ones, whose values vary more by chance. A dot outside the 99.8% funnel "
        "is very unlikely to differ from England by chance alone; inside the 95% funnel, the "
        "difference may be chance.",
        "funnel-plot",
    ),
    Term(
        "Watch-list",
        "An area's practices judged against NHS England's 2015 criteria for vulnerable "
        "practices, as far as the files pcnkit holds can assess them: a CQC rating of "
        "Inadequate or Requires improvement, many patients per GP, a falling number of GPs, "
        "poor telephone access, low QOF achievement and a rapid change in the list. Each flag "
        "gives its figures, period, source and threshold, marked NHS England's criterion or "
        "pcnkit's threshold, not NHS England's. A practice the files cannot judge is "
        "\u201cnot assessed\u201d, never \u201cno flags\u201d. A flag is a prompt to look, "
        "not a judgement.",
        "watch-list",
    ),
]
