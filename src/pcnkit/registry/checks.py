"""Configuration checks a commissioner runs on PCNs, as at a date, for any area.

Rules (Network Contract DES 2019/20 specification, section 4): every practice in exactly one PCN
(100% coverage); a PCN normally serves 30,000-50,000 registered patients (below 30,000 only with
an agreed exception, e.g. a rural waiver; above 50,000 is allowed but worth confirming); every
PCN names an accountable clinical director and a nominated payee. Cross-border membership,
closed practices still listed and single-practice PCNs are flagged for review.

Every finding has an outcome, so the one real breach is not buried under missing data: a rule
*breached* (the data shows the configuration is wrong), *not recorded* (the registry lacks what
the check needs: a clinical director, a payee, a list) or *to review* (allowed, but worth
confirming). Lists are registered patients as pages show them (`queries.patients_at`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.dates import Period
from pcnkit.registry import kinds
from pcnkit.registry.queries import AreaList, Hierarchy, is_closed, is_open, roles_at, whole
from pcnkit.store.models import Organisation, PcnRole, RegistryException

LIST_MINIMUM = 30_000
LIST_MAXIMUM = 50_000
BREACH, NOT_RECORDED, REVIEW = "breach", "not recorded", "review"
OUTCOMES = (BREACH, NOT_RECORDED, REVIEW)
OUTCOME_LABELS = {BREACH: "Rule breached", NOT_RECORDED: "Not recorded", REVIEW: "To review"}
OUTCOME_HELP = {
    BREACH: "the data shows a Network Contract DES rule is broken",
    NOT_RECORDED: "the registry does not hold what the check needs; record it, then re-check",
    REVIEW: "allowed, but worth confirming the arrangement is intended",
}
# Plain names for the checks (the codes stay in CSV and JSON for filtering).
CHECK_NAMES = {
    "coverage": "Practice in no PCN",
    "list_size": "PCN list size",
    "list_unknown": "List size not recorded",
    "clinical_director": "Clinical director",
    "nominated_payee": "Nominated payee",
    "single_practice": "Single-practice PCN",
    "closed_practice": "Closed practice still a member",
    "cross_border": "Member from another commissioner",
}


@dataclass
class Finding:
    check: str
    outcome: str
    code: str
    name: str
    pcn: str | None
    text: str
    figure: str | None = None
    figure_date: str | None = None
    pcn_name: str | None = None

    @property
    def check_name(self) -> str:
        return CHECK_NAMES.get(self.check, self.check.replace("_", " ").capitalize())

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass
class FindingGroup:
    """The findings about one PCN (and its practices), or about practices in no PCN."""

    pcn: str | None
    name: str
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for f in self.findings if f.outcome == o) for o in OUTCOMES}


@dataclass
class PracticeLine:
    code: str
    name: str
    registered: str | None
    list_date: str | None
    open: bool


@dataclass
class PcnLine:
    code: str
    name: str
    commissioner: str | None
    registered: str
    list_dated: str
    weighted: str
    status: str
    practices: list[PracticeLine] = field(default_factory=list)


@dataclass
class CheckResult:
    area: str
    area_name: str
    as_of: dt.date
    practices: int
    pcns: list[PcnLine]
    findings: list[Finding]

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for f in self.findings if f.outcome == o) for o in OUTCOMES}

    def by_check(self, outcome: str) -> dict[str, int]:
        """How many findings of one outcome each check gave (plain check names)."""
        out: dict[str, int] = {}
        for f in self.findings:
            if f.outcome == outcome:
                out[f.check_name] = out.get(f.check_name, 0) + 1
        return out

    def summary(self) -> str:
        """One line a commissioner reads first: breaches, then what is missing, then reviews."""
        counts = self.counts()
        parts = []
        for outcome in OUTCOMES:
            n = counts[outcome]
            detail = ", ".join(f"{k} {v}" for k, v in self.by_check(outcome).items())
            label = {BREACH: "rule breached", NOT_RECORDED: "not recorded", REVIEW: "to review"}
            parts.append(f"{n} {label[outcome]}" + (f" ({detail})" if n else ""))
        return "; ".join(parts)

    def groups(self) -> list[FindingGroup]:
        """Findings grouped by PCN: PCNs with a breach first, then the rest by code; practices
        in no PCN last."""
        groups: dict[str | None, FindingGroup] = {}
        for f in self.findings:
            if f.pcn not in groups:
                name = f.pcn_name or ("Practices in no PCN" if f.pcn is None else f.pcn)
                groups[f.pcn] = FindingGroup(f.pcn, name, [])
            groups[f.pcn].findings.append(f)
        return sorted(
            groups.values(),
            key=lambda g: (g.pcn is None, -g.counts()[BREACH], g.pcn or ""),
        )

    def as_dict(self) -> dict:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["counts"] = self.counts()
        out["summary"] = self.summary()
        for f, d in zip(self.findings, out["findings"], strict=True):
            d["check_name"], d["outcome_label"] = f.check_name, f.outcome_label
        return out


def long_date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _people(n) -> str:
    return f"{whole(n):,}"


def _exceptions(session: Session, as_of: dt.date) -> dict[tuple[int, str], RegistryException]:
    out = {}
    for e in session.scalars(select(RegistryException)):
        if Period(e.start, e.end).contains(as_of):
            out[(e.org_id, e.rule)] = e
    return out


# --- the checks: one registered function each, run in the order registered ----------------------


@dataclass(frozen=True)
class Scene:
    """What every check reads: the registry as at the date, the exceptions and roles then."""

    h: Hierarchy
    as_of: dt.date
    waivers: dict[tuple[int, str], RegistryException]
    roles: dict
    # PCN id -> the first payee inferred from the payments files after the date, if any, and
    # the last one before it
    later_payees: dict = field(default_factory=dict)
    earlier_payees: dict = field(default_factory=dict)

    @property
    def when(self) -> str:
        return long_date(self.as_of)

    def label(self, org: Organisation) -> str:
        """An organisation as it was called on the date checked."""
        return f"{self.h.name(org)} ({org.code})"

    def finding(self, check: str, outcome: str, org: Organisation, pcn, text: str, *figure):
        return Finding(check, outcome, org.code, self.h.name(org), pcn, text, *figure)


@dataclass(frozen=True)
class PcnScene:
    """One open PCN as at the date: its members (open or not) and its open members' lists."""

    org: Organisation
    members: list[Organisation]
    open_members: list[Organisation]
    reg: AreaList
    commissioner: Organisation | None


@dataclass(frozen=True)
class Check:
    """A configuration check: `name` is its code (a key of CHECK_NAMES); `scope` says what it
    is run on, once each: "practice" (an open practice of the area) or "pcn" (an open PCN)."""

    name: str
    scope: str
    run: Callable[..., Iterable[Finding]]


CHECKS: list[Check] = []


def check(name: str, scope: str = "pcn"):
    """Register a check function under its code; the order of registration is the order run."""
    if name not in CHECK_NAMES:
        raise ValueError(f"check {name!r} has no plain name in CHECK_NAMES")

    def register(fn):
        CHECKS.append(Check(name, scope, fn))
        return fn

    return register


@check("coverage", scope="practice")
def _coverage(s: Scene, p: Organisation) -> Iterable[Finding]:
    if not s.h.parents_of(p, kinds.PCN):
        yield s.finding(
            "coverage",
            BREACH,
            p,
            None,
            f"{s.label(p)} was open on {s.when} but was not a member of any PCN, so its "
            "patients were not covered by the Network Contract DES.",
        )


@check("list_unknown")
def _list_unknown(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    reg = pcn.reg
    if reg.missing:
        yield s.finding(
            "list_unknown",
            NOT_RECORDED,
            pcn.org,
            pcn.org.code,
            f"No registered list is held for {len(reg.missing)} of {s.label(pcn.org)}'s "
            f"{reg.practices} practices ({', '.join(reg.missing)}), so its total of "
            f"{_people(reg.total)} is incomplete.",
            _people(reg.total),
            reg.dated,
        )


def list_status(s: Scene, pcn: PcnScene) -> str:
    """Where a PCN's registered list stands against the 30,000-50,000 rule (shown per PCN)."""
    reg = pcn.reg
    if reg.earliest is None:
        return "unknown"
    if reg.total < LIST_MINIMUM:
        waived = (pcn.org.id, "list_size_minimum") in s.waivers
        return "below (exception)" if waived else "below 30,000"
    if reg.total > LIST_MAXIMUM and (pcn.org.id, "list_size_maximum") not in s.waivers:
        return "over 50,000"
    return "within range"


@check("list_size")
def _list_size(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    status = list_status(s, pcn)
    figure, dated = _people(pcn.reg.total), pcn.reg.dated
    had = f"{s.label(pcn.org)} had a registered list of {figure} on {s.when} ({dated}; "
    sources = pcn.reg.source_text
    if status == "below (exception)":
        waiver = s.waivers[(pcn.org.id, "list_size_minimum")]
        outcome, text = (
            REVIEW,
            (
                f"{had}{sources}), below the 30,000 minimum; a recorded exception applies: "
                f"{waiver.reason}."
            ),
        )
    elif status == "below 30,000":
        outcome, text = (
            BREACH,
            (
                f"{had}{sources}), below the 30,000 minimum of the Network Contract DES, and no "
                "exception is recorded."
            ),
        )
    elif status == "over 50,000":
        outcome, text = (
            REVIEW,
            (
                f"{had}{sources}), above the usual 30,000-50,000 range. Larger PCNs are allowed; "
                "confirm the configuration is intended."
            ),
        )
    else:
        return
    yield s.finding("list_size", outcome, pcn.org, pcn.org.code, text, figure, dated)


@check("clinical_director")
def _clinical_director(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    return _unless_held(
        s,
        pcn,
        "clinical_director",
        f"No clinical director is recorded for {s.label(pcn.org)} on {s.when}. Every PCN must "
        "name an accountable clinical director.",
    )


@check("nominated_payee")
def _nominated_payee(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    held = [r for r in s.roles.get(pcn.org.id, []) if r.role == "nominated_payee"]
    inferred = [r for r in held if r.evidence]
    if held and len(inferred) < len(held):
        return []  # recorded by someone
    if inferred:
        return _inferred_payee(s, pcn, inferred[0])
    later, earlier = s.later_payees.get(pcn.org.id), s.earlier_payees.get(pcn.org.id)
    hint = ""
    if later:
        hint = (
            f" The payments files show {later.holder} receiving its network payments from "
            f"{long_date(later.start)}; if it was the payee on {s.when} too, record it."
        )
    elif earlier:
        hint = (
            f" The payments files last show {earlier.holder} receiving its network payments, "
            f"to {long_date(earlier.end)}; if it is still the payee, record it."
        )
    return _unless_held(
        s,
        pcn,
        "nominated_payee",
        f"No nominated payee is recorded for {s.label(pcn.org)} on {s.when}; Network Contract "
        "DES payments cannot be made until one is named." + hint,
    )


def _inferred_payee(s: Scene, pcn: PcnScene, role) -> list[Finding]:
    """A payee read from the payments files, not recorded: flagged when they name no practice
    or several."""
    if role.payee_id is None:
        text = (
            f"No GP practice received {s.label(pcn.org)}'s network payments in the year to "
            f"{long_date(role.end)} (NHS Payments to General Practice): it was paid outside GP "
            "practices, e.g. through a federation. Record the payee by name."
        )
    elif "also received" in (role.evidence or ""):
        text = (
            f"{s.label(pcn.org)}'s network payments in the year to {long_date(role.end)} went "
            f"through several practices; {role.holder} received most. Confirm the payee."
        )
    else:
        return []
    return [s.finding("nominated_payee", REVIEW, pcn.org, pcn.org.code, text)]


def _unless_held(s: Scene, pcn: PcnScene, role: str, text: str) -> list[Finding]:
    """A role every PCN must name (the check has the role's name): not recorded unless held."""
    if any(r.role == role for r in s.roles.get(pcn.org.id, [])):
        return []
    return [s.finding(role, NOT_RECORDED, pcn.org, pcn.org.code, text)]


@check("single_practice")
def _single_practice(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    if len(pcn.open_members) == 1 and (pcn.org.id, "single_practice") not in s.waivers:
        yield s.finding(
            "single_practice",
            REVIEW,
            pcn.org,
            pcn.org.code,
            f"{s.label(pcn.org)} had a single member practice on {s.when}: "
            f"{s.label(pcn.open_members[0])}.",
        )


@check("closed_practice")
def _closed_practice(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    for m in pcn.members:
        if is_closed(m, s.as_of):
            yield s.finding(
                "closed_practice",
                BREACH,
                m,
                pcn.org.code,
                f"{s.label(m)} closed on {long_date(m.close_date)} but was still recorded as a "
                f"member of {s.label(pcn.org)} on {s.when}. Ask ODS to end the membership.",
            )


@check("cross_border")
def _cross_border(s: Scene, pcn: PcnScene) -> Iterable[Finding]:
    theirs = pcn.commissioner
    for m in pcn.open_members:  # a closed one is `closed_practice`
        own = s.h.parent(m, kinds.SUB_ICB)
        if own and theirs and own.id != theirs.id:
            ccg = kinds.KINDS[kinds.SUB_ICB].label_at(s.as_of)
            yield s.finding(
                "cross_border",
                REVIEW,
                m,
                pcn.org.code,
                f"{s.label(m)} is commissioned by {ccg} {s.label(own)} but belongs to "
                f"{s.label(pcn.org)}, whose {ccg} is {s.label(theirs)} (cross-border). "
                "Confirm both commissioners have agreed the arrangement.",
            )


# --- running them ------------------------------------------------------------------------------


def _inferred_payees(
    session: Session, pcn_ids: list[int], as_of: dt.date
) -> tuple[dict[int, PcnRole], dict[int, PcnRole]]:
    """Each PCN's first payee (a practice) inferred from the payments files after `as_of`, and
    its last one before it."""
    rows = session.scalars(
        select(PcnRole)
        .where(
            PcnRole.pcn_id.in_(pcn_ids),
            PcnRole.role == "nominated_payee",
            PcnRole.evidence.is_not(None),
            PcnRole.payee_id.is_not(None),
        )
        .order_by(PcnRole.start, PcnRole.id)
    )
    later: dict[int, PcnRole] = {}
    earlier: dict[int, PcnRole] = {}
    for role in rows:
        if role.start and role.start > as_of:
            later.setdefault(role.pcn_id, role)
        elif role.end and role.end < as_of:
            earlier[role.pcn_id] = role
    return later, earlier


def run_checks(session: Session, as_of: dt.date, area_code: str | None = None) -> CheckResult:
    """All configuration checks (CHECKS) for an area (or the whole registry) as at a date."""
    h = Hierarchy.at(session, as_of)
    area_code, area_name, practices, pcns = _area(h, area_code)
    pcns = [p for p in pcns if is_open(p, as_of)]
    ids = [p.id for p in pcns]
    scene = Scene(
        h,
        as_of,
        _exceptions(session, as_of),
        roles_at(session, ids, as_of),
        *_inferred_payees(session, ids, as_of),
    )
    open_practices = [p for p in practices if is_open(p, as_of)]
    pcn_scenes = [_pcn_scene(h, pcn, as_of) for pcn in pcns]
    findings: list[Finding] = []
    for c in CHECKS:
        for subject in open_practices if c.scope == "practice" else pcn_scenes:
            findings.extend(c.run(scene, subject))
    names = {p.code: h.name(p) for p in pcns}
    for f in findings:
        f.pcn_name = names.get(f.pcn) if f.pcn else None
    order = {o: i for i, o in enumerate(OUTCOMES)}
    findings.sort(key=lambda f: (order[f.outcome], f.check, f.pcn or "", f.code))
    lines = [_pcn_line(scene, p) for p in pcn_scenes]
    return CheckResult(area_code, area_name, as_of, len(open_practices), lines, findings)


def _area(h: Hierarchy, area_code: str | None):
    """The area's code and name, its practices and its PCNs (open or not)."""
    if not area_code:
        practices = sorted(
            (o for o in h.orgs.values() if o.kind == kinds.PRACTICE), key=lambda o: o.code
        )
        pcns = sorted((o for o in h.orgs.values() if o.kind == kinds.PCN), key=lambda o: o.code)
        return "ALL", "the whole registry", practices, pcns
    area = h.get(area_code)
    if area.kind == kinds.PCN:
        practices = h.members(area, kinds.PRACTICE)
    else:
        practices = h.descendants(area, kinds.PRACTICE)
    return area_code, h.name(area), practices, h.pcns_in(area)


def _pcn_scene(h: Hierarchy, pcn: Organisation, as_of: dt.date) -> PcnScene:
    members = h.members(pcn, kinds.PRACTICE)
    open_members = [m for m in members if is_open(m, as_of)]
    return PcnScene(
        pcn, members, open_members, h.area_patients(open_members), h.parent(pcn, kinds.SUB_ICB)
    )


def _pcn_line(s: Scene, pcn: PcnScene) -> PcnLine:
    h, registered = s.h, s.h.patients()
    return PcnLine(
        pcn.org.code,
        h.name(pcn.org),
        pcn.commissioner.code if pcn.commissioner else None,
        _people(pcn.reg.total),
        pcn.reg.dated,
        _people(h.area_list(pcn.open_members, "weighted").total),
        list_status(s, pcn),
        [
            PracticeLine(
                m.code,
                h.name(m),
                _people(registered[m.code].value) if m.code in registered else None,
                registered[m.code].as_of.isoformat() if m.code in registered else None,
                is_open(m, s.as_of),
            )
            for m in pcn.members
        ],
    )
