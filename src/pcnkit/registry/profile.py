"""One organisation as at a date: what a page or `pcnkit registry show` displays about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

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
    registered: queries.ListFigure | None


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


def describe(session: Session, code: str, as_of: dt.date) -> Profile:
    org = queries.organisation(session, code)
    h = queries.Hierarchy.at(session, as_of)
    lines = []
    for p in queries.history(session, org.code):
        current = (p.start or dt.date.min) <= as_of <= (p.end or dt.date.max)
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
    profile = Profile(
        org.code,
        h.name(org),
        org.kind,
        kinds.KINDS[org.kind].label_at(as_of),
        as_of,
        org.postcode,
        org.open_date,
        org.close_date,
        org.latitude,
        org.longitude,
        lines,
    )
    if org.kind == kinds.PRACTICE:
        for measure in queries.MEASURES:
            figure = h.lists(measure).get(org.code)
            if figure:
                profile.lists[measure] = figure
        return profile
    registered = h.lists()
    members = h.members(org)
    profile.members = [
        MemberLine(m.code, h.name(m), kinds.KINDS[m.kind].label_at(as_of), registered.get(m.code))
        for m in members
    ]
    practices = [m for m in members if m.kind == kinds.PRACTICE and queries.is_open(m, as_of)]
    if practices:
        profile.total = h.area_list(practices)
    if org.kind == kinds.PCN:
        for role in queries.roles_at(session, [org.id], as_of).get(org.id, []):
            profile.roles.append((role.role.replace("_", " "), role.holder))
    return profile
