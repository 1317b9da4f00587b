"""One organisation as at a date: what a page or `pcnkit registry show` displays about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from pcnkit.dates import Period
from pcnkit.registry import kinds, queries


@dataclass
class MembershipLine:
    parent_code: str
    parent_name: str
    parent_kind: str
    start: dt.date | None
    end: dt.date | None
    current: bool
    basis: str


@dataclass
class MemberLine:
    code: str
    name: str
    kind: str
    registered: queries.ListFigure | None  # a practice member's own figure
    # registered patients of the member's open practices (a practice: itself), whole patients
    patients: queries.AreaList | None = None


@dataclass
class Profile:
    code: str
    name: str
    kind: str
    kind_label: str
    as_of: dt.date
    postcode: str | None
    open_date: dt.date | None
    close_date: dt.date | None
    latitude: float | None
    longitude: float | None
    memberships: list[MembershipLine]
    lists: dict[str, queries.ListFigure] = field(default_factory=dict)
    members: list[MemberLine] = field(default_factory=list)
    total: queries.AreaList | None = None
    roles: list[tuple[str, str]] = field(default_factory=list)
    # when the data says it began, where that differs from the recorded open date (a PCN that
    # ODS dates 1 October 2019 but which began with the DES on 1 July 2019)
    began: dt.date | None = None
    # said instead of an empty list: "did not exist on that date", "no members recorded ..."
    empty_state: str | None = None


def long_date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _empty_state(org, label: str, as_of: dt.date, began, history, members) -> str | None:
    """Why nothing is listed on `as_of`, in words, with the nearest date that has data."""
    when = long_date(as_of)
    if began and began > as_of:
        return (
            f"This {label} did not exist on {when}: the earliest the data shows it is "
            f"{long_date(began)}."
        )
    if org.close_date and org.close_date <= as_of:
        return f"This {label} had closed by {when} (closed {long_date(org.close_date)})."
    if org.kind == kinds.PRACTICE or members:
        return None
    if not history:
        return f"No members are recorded for this {label} on any date."
    later = [p.start for p in history if p.start and p.start > as_of]
    if later:
        return f"No members are recorded on {when}; the earliest is {long_date(min(later))}."
    ended = [p.end for p in history if p.end and p.end < as_of]
    if ended:
        return f"No members are recorded on {when}; the last left on {long_date(max(ended))}."
    return f"No members are recorded on {when}."


def describe(session: Session, code: str, as_of: dt.date) -> Profile:
    org = queries.organisation(session, code)
    h = queries.Hierarchy.at(session, as_of)
    lines = []
    for p in queries.history(session, org.code):
        current = Period(p.start, p.end).contains(as_of)
        lines.append(
            MembershipLine(
                p.organisation.code,
                h.name(p.organisation),
                kinds.KINDS[p.organisation.kind].label_at(as_of),
                p.start,
                p.end,
                current,
                p.basis,
            )
        )
    label = kinds.KINDS[org.kind].label_at(as_of)
    began = kinds.opened_on(org.kind, org.open_date, org.first_seen)
    profile = Profile(
        org.code,
        h.name(org),
        org.kind,
        label,
        as_of,
        org.postcode,
        org.open_date,
        org.close_date,
        org.latitude,
        org.longitude,
        lines,
        began=began if began != org.open_date else None,
    )
    if org.kind == kinds.PRACTICE:
        figure = h.patients().get(org.code)
        if figure:
            profile.lists["registered"] = figure
        for measure in queries.MEASURES[1:]:
            figure = h.lists(measure).get(org.code)
            if figure:
                profile.lists[measure] = figure
        profile.empty_state = _empty_state(org, label, as_of, began, [], [])
        return profile
    patients = h.patients()
    members = h.members(org)
    for m in members:
        if m.kind == kinds.PRACTICE:
            own = [m] if queries.is_open(m, as_of) else []
        elif m.kind == kinds.PCN:
            own = [p for p in h.members(m, kinds.PRACTICE) if queries.is_open(p, as_of)]
        else:
            own = [p for p in h.descendants(m, kinds.PRACTICE) if queries.is_open(p, as_of)]
        profile.members.append(
            MemberLine(
                m.code,
                h.name(m),
                kinds.KINDS[m.kind].label_at(as_of),
                patients.get(m.code) if m.kind == kinds.PRACTICE else None,
                h.area_patients(own) if own else None,
            )
        )
    if org.kind == kinds.PCN:
        practices = [m for m in members if m.kind == kinds.PRACTICE]
    else:
        practices = h.descendants(org, kinds.PRACTICE)
    practices = [p for p in practices if queries.is_open(p, as_of)]
    if practices:
        profile.total = h.area_patients(practices)
    if org.kind == kinds.PCN:
        for role in queries.roles_at(session, [org.id], as_of).get(org.id, []):
            held = f"{role.holder}. {role.evidence}" if role.evidence else role.holder
            profile.roles.append((role.role.replace("_", " "), held))
    history = queries.member_history(session, org.code)
    profile.empty_state = _empty_state(org, label, as_of, began, history, members)
    return profile
