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
from dataclasses import asdict, dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.dates import Period
from pcnkit.registry import kinds
from pcnkit.registry.queries import AreaList, Hierarchy, is_closed, is_open, roles_at, whole
from pcnkit.store.models import Organisation, RegistryException

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


def _labeller(h: Hierarchy):
    """Organisations are named as they were called on the date checked."""

    def label(org: Organisation) -> str:
        return f"{h.name(org)} ({org.code})"

    return label


def _exceptions(session: Session, as_of: dt.date) -> dict[tuple[int, str], RegistryException]:
    out = {}
    for e in session.scalars(select(RegistryException)):
        if Period(e.start, e.end).contains(as_of):
            out[(e.org_id, e.rule)] = e
    return out


def run_checks(session: Session, as_of: dt.date, area_code: str | None = None) -> CheckResult:
    """All configuration checks for an area (or the whole registry) as at a date."""
    h = Hierarchy.at(session, as_of)
    label = _labeller(h)
    when = long_date(as_of)
    if area_code:
        area = h.get(area_code)
        practices = (
            h.members(area, kinds.PRACTICE)
            if area.kind == kinds.PCN
            else h.descendants(area, kinds.PRACTICE)
        )
        pcns = h.pcns_in(area)
        area_name = h.name(area)
    else:
        practices = sorted(
            (o for o in h.orgs.values() if o.kind == kinds.PRACTICE), key=lambda o: o.code
        )
        pcns = sorted((o for o in h.orgs.values() if o.kind == kinds.PCN), key=lambda o: o.code)
        area_code, area_name = "ALL", "the whole registry"
    pcns = [p for p in pcns if is_open(p, as_of)]
    findings: list[Finding] = []
    waivers = _exceptions(session, as_of)
    registered = h.patients()

    open_practices = [p for p in practices if is_open(p, as_of)]
    for p in open_practices:
        if not h.parents_of(p, kinds.PCN):
            findings.append(
                Finding(
                    "coverage",
                    BREACH,
                    p.code,
                    h.name(p),
                    None,
                    f"{label(p)} was open on {when} but was not a member of any PCN, so its "
                    "patients were not covered by the Network Contract DES.",
                )
            )

    roles = roles_at(session, [p.id for p in pcns], as_of)
    lines: list[PcnLine] = []
    for pcn in pcns:
        members = h.members(pcn, kinds.PRACTICE)
        open_members = [m for m in members if is_open(m, as_of)]
        reg = h.area_patients(open_members)
        weighted = h.area_list(open_members, "weighted")
        commissioner = h.parent(pcn, kinds.SUB_ICB)
        status = _check_list(findings, pcn, reg, when, waivers, h)
        lines.append(
            PcnLine(
                pcn.code,
                h.name(pcn),
                commissioner.code if commissioner else None,
                _people(reg.total),
                reg.dated,
                _people(weighted.total),
                status,
                [
                    PracticeLine(
                        m.code,
                        h.name(m),
                        _people(registered[m.code].value) if m.code in registered else None,
                        registered[m.code].as_of.isoformat() if m.code in registered else None,
                        is_open(m, as_of),
                    )
                    for m in members
                ],
            )
        )
        held = {r.role for r in roles.get(pcn.id, [])}
        if "clinical_director" not in held:
            findings.append(
                Finding(
                    "clinical_director",
                    NOT_RECORDED,
                    pcn.code,
                    h.name(pcn),
                    pcn.code,
                    f"No clinical director is recorded for {label(pcn)} on {when}. Every PCN must "
                    "name an accountable clinical director.",
                )
            )
        if "nominated_payee" not in held:
            findings.append(
                Finding(
                    "nominated_payee",
                    NOT_RECORDED,
                    pcn.code,
                    h.name(pcn),
                    pcn.code,
                    f"No nominated payee is recorded for {label(pcn)} on {when}; Network Contract "
                    "DES payments cannot be made until one is named.",
                )
            )
        if len(open_members) == 1 and (pcn.id, "single_practice") not in waivers:
            only = open_members[0]
            findings.append(
                Finding(
                    "single_practice",
                    REVIEW,
                    pcn.code,
                    h.name(pcn),
                    pcn.code,
                    f"{label(pcn)} had a single member practice on {when}: {label(only)}.",
                )
            )
        for m in members:
            if is_closed(m, as_of):
                findings.append(
                    Finding(
                        "closed_practice",
                        BREACH,
                        m.code,
                        h.name(m),
                        pcn.code,
                        f"{label(m)} closed on {long_date(m.close_date)} but was still "
                        f"recorded as a member of {label(pcn)} on {when}. Ask ODS to end the "
                        "membership.",
                    )
                )
                continue
            if not is_open(m, as_of):
                continue
            own = h.parent(m, kinds.SUB_ICB)
            if own and commissioner and own.id != commissioner.id:
                ccg = kinds.KINDS[kinds.SUB_ICB].label_at(as_of)
                findings.append(
                    Finding(
                        "cross_border",
                        REVIEW,
                        m.code,
                        h.name(m),
                        pcn.code,
                        f"{label(m)} is commissioned by {ccg} {label(own)} but belongs to "
                        f"{label(pcn)}, whose {ccg} is {label(commissioner)} (cross-border). "
                        "Confirm both commissioners have agreed the arrangement.",
                    )
                )
    names = {p.code: h.name(p) for p in pcns}
    for f in findings:
        f.pcn_name = names.get(f.pcn) if f.pcn else None
    order = {o: i for i, o in enumerate(OUTCOMES)}
    findings.sort(key=lambda f: (order[f.outcome], f.check, f.pcn or "", f.code))
    return CheckResult(area_code, area_name, as_of, len(open_practices), lines, findings)


def _check_list(findings, pcn, reg: AreaList, when: str, waivers, h: Hierarchy) -> str:
    label = _labeller(h)
    figure, dated = _people(reg.total), reg.dated
    sources = reg.source_text
    if reg.missing:
        findings.append(
            Finding(
                "list_unknown",
                NOT_RECORDED,
                pcn.code,
                h.name(pcn),
                pcn.code,
                f"No registered list is held for {len(reg.missing)} of {label(pcn)}'s "
                f"{reg.practices} practices ({', '.join(reg.missing)}), so its total of {figure} "
                "is incomplete.",
                figure,
                dated,
            )
        )
    if reg.earliest is None:
        return "unknown"
    if reg.total < LIST_MINIMUM:
        waiver = waivers.get((pcn.id, "list_size_minimum"))
        if waiver:
            findings.append(
                Finding(
                    "list_size",
                    REVIEW,
                    pcn.code,
                    h.name(pcn),
                    pcn.code,
                    f"{label(pcn)} had a registered list of {figure} on {when} ({dated}; "
                    f"{sources}), below the 30,000 minimum; a recorded exception applies: "
                    f"{waiver.reason}.",
                    figure,
                    dated,
                )
            )
            return "below (exception)"
        findings.append(
            Finding(
                "list_size",
                BREACH,
                pcn.code,
                h.name(pcn),
                pcn.code,
                f"{label(pcn)} had a registered list of {figure} on {when} ({dated}; {sources}), "
                "below the 30,000 minimum of the Network Contract DES, and no exception is "
                "recorded.",
                figure,
                dated,
            )
        )
        return "below 30,000"
    if reg.total > LIST_MAXIMUM and (pcn.id, "list_size_maximum") not in waivers:
        findings.append(
            Finding(
                "list_size",
                REVIEW,
                pcn.code,
                h.name(pcn),
                pcn.code,
                f"{label(pcn)} had a registered list of {figure} on {when} ({dated}; {sources}), "
                "above the usual 30,000-50,000 range. Larger PCNs are allowed; confirm the "
                "configuration is intended.",
                figure,
                dated,
            )
        )
        return "over 50,000"
    return "within range"
