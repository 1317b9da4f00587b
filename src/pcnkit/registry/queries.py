"""Read-only questions of the registry, every one as at an explicit date.

Single lookups ("which PCN was F82614 in on 2020-01-01?") use indexed queries; area-wide work
(checks, summaries) loads the hierarchy at a date once (`Hierarchy.at`) and walks it in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, Integer, String, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from pcnkit.dates import Period, overlapping, valid_on
from pcnkit.errors import NotFoundError
from pcnkit.registry import kinds
from pcnkit.registry import sources as publications
from pcnkit.store.models import (
    LIST_MEASURES,
    ListSize,
    Membership,
    Organisation,
    OrganisationName,
    PcnRole,
    SourceFile,
)

MEASURES = LIST_MEASURES
# On the same date a count beats an average: a user's own lists first, then the monthly
# registrations publication, then QOF's 1 January count, then the payments files' quarter averages.
_SOURCE_RANK = case(
    (SourceFile.file_type == "list-sizes", 4),
    (SourceFile.file_type == "gp-reg-pat-prac-all", 3),
    (SourceFile.file_type == "qof-prevalence", 2),
    else_=1,
)
# Counting sources before the payments files' quarter averages, whatever their dates: what a
# page calls "registered patients" is a count of people (see `patients_at`).
_IS_COUNT = case((SourceFile.file_type.in_(publications.COUNTS), 1), else_=0)
# Which list wins for a practice: the latest on or before the date, then by source, then the
# newest-loaded source.
_LATEST = (ListSize.as_of.desc(), _SOURCE_RANK.desc(), ListSize.source_id.desc())
# A list figure and the source it came from (read by `_figure`).
_FIGURE_COLUMNS = (
    ListSize.practice_id,
    ListSize.value,
    ListSize.as_of,
    ListSize.source_row,
    SourceFile.name,
    SourceFile.file_type,
    SourceFile.extract_date,
    SourceFile.publisher,
)


def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise ValueError(f"'{measure}' is not a list measure; use one of {MEASURES}")


def _long(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _valid_at(model, as_of: dt.date):
    return valid_on(model.start, model.end, as_of)


def organisation(session: Session, code: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.code == code.strip().upper()))
    if org is None:
        raise NotFoundError(f"No organisation has the code '{code}'. Try `pcnkit registry find`.")
    return org


def like_pattern(text: str) -> str:
    """`%text%` for LIKE ... ESCAPE '\\', with the text's own %, _ and \\ matched literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(
    session: Session, text: str, limit: int | None = 20, codes: set[str] | None = None
) -> list[Organisation]:
    """Organisations whose code or name contains `text` (case-insensitive; % and _ are
    ordinary characters), only among `codes` when given, the first `limit` of them."""
    like = like_pattern(text.strip().lower())
    query = (
        select(Organisation)
        .where(
            or_(
                func.lower(Organisation.name).like(like, escape="\\"),
                func.lower(Organisation.code).like(like, escape="\\"),
            )
        )
        .order_by(Organisation.kind, Organisation.name)
    )
    if codes is None:
        return list(session.scalars(query.limit(limit)))
    # Scope first, then the limit: filtered as rows stream in (a commissioner's reach can be
    # thousands of codes, too many for an IN list).
    found = []
    for org in session.scalars(query.execution_options(yield_per=500)):
        if org.code in codes:
            found.append(org)
            if limit is not None and len(found) >= limit:
                break
    return found


def _pick_names(rows, as_of: dt.date) -> dict[int, str]:
    """Per organisation, the name last observed on or before `as_of`, else the earliest one."""
    chosen: dict[int, tuple[bool, dt.date, str]] = {}
    for org_id, name, observed in rows:
        before = observed <= as_of
        best = chosen.get(org_id)
        if (
            best is None
            or (before and (not best[0] or observed >= best[1]))
            or (not before and not best[0] and observed < best[1])
        ):
            chosen[org_id] = (before, observed, name)
    return {k: v[2] for k, v in chosen.items()}


def names_at(session: Session, org_ids: list[int] | None, as_of: dt.date) -> dict[int, str]:
    """Organisations' names as at a date (all organisations when `org_ids` is None)."""
    query = select(OrganisationName.org_id, OrganisationName.name, OrganisationName.observed_at)
    if org_ids is not None:
        query = query.where(OrganisationName.org_id.in_(org_ids))
    return _pick_names(session.execute(query), as_of)


def name_at(session: Session, org: Organisation, as_of: dt.date) -> str:
    return names_at(session, [org.id], as_of).get(org.id) or org.name or org.code


@dataclass(frozen=True)
class Placement:
    """An answer about membership, with the interval and the evidence it rests on."""

    organisation: Organisation
    start: dt.date | None
    end: dt.date | None
    basis: str


_PARENT_AT = text(
    """
    SELECT m.parent_id, m.start, m."end", m.basis
    FROM membership m
    JOIN organisation c ON c.id = m.child_id
    JOIN organisation p ON p.id = m.parent_id
    WHERE c.code = :code AND p.kind = :kind
      AND (m.start IS NULL OR m.start <= :day) AND (m."end" IS NULL OR m."end" >= :day)
    ORDER BY p.code
    LIMIT 1
    """
).columns(parent_id=Integer, start=Date, end=Date, basis=String)


def parent_at(session: Session, child_code: str, kind: str, as_of: dt.date) -> Placement | None:
    """The child's parent of `kind` on `as_of`, e.g. a practice's PCN. A fixed SQL statement:
    this is the hot single lookup, and building an ORM statement costs more than running it."""
    code = child_code.strip().upper()
    row = session.execute(_PARENT_AT, {"code": code, "kind": kind, "day": as_of}).first()
    if row is None:
        organisation(session, code)  # a clear error for an unknown code
        return None
    return Placement(session.get(Organisation, row.parent_id), row.start, row.end, row.basis)


def members_at(
    session: Session, parent_code: str, as_of: dt.date, kind: str | None = None
) -> list[Placement]:
    """Direct members of an organisation on `as_of`, optionally of one kind."""
    parent = organisation(session, parent_code)
    child = aliased(Organisation)
    query = (
        select(child, Membership)
        .join(Membership, Membership.child_id == child.id)
        .where(Membership.parent_id == parent.id, _valid_at(Membership, as_of))
        .order_by(child.code)
    )
    if kind:
        query = query.where(child.kind == kind)
    return [Placement(o, m.start, m.end, m.basis) for o, m in session.execute(query)]


def history(session: Session, code: str) -> list[Placement]:
    """Every membership the organisation has had (its parents over time)."""
    return _memberships(session, code, as_child=True)


def member_history(session: Session, code: str) -> list[Placement]:
    """Every membership the organisation has had as a parent (its members over time)."""
    return _memberships(session, code, as_child=False)


def _memberships(session: Session, code: str, *, as_child: bool) -> list[Placement]:
    """The organisation's memberships with the other side of each: its parents (by kind, then
    start) when `as_child`, else its members (by start, then code)."""
    org = organisation(session, code)
    other = aliased(Organisation)
    mine, theirs = (
        (Membership.child_id, Membership.parent_id)
        if as_child
        else (Membership.parent_id, Membership.child_id)
    )
    order = (other.kind, Membership.start) if as_child else (Membership.start, other.code)
    rows = session.execute(
        select(other, Membership)
        .join(Membership, theirs == other.id)
        .where(mine == org.id)
        .order_by(*order)
    )
    return [Placement(o, m.start, m.end, m.basis) for o, m in rows]


@dataclass(frozen=True)
class MemberSpell:
    """One member's spell in an organisation, as an organisation page and `registry show` tell
    it: the member's name as at the date asked about, and whether the spell covers that date."""

    organisation: Organisation
    name: str
    start: dt.date | None
    end: dt.date | None
    basis: str
    current: bool


def members_over_time(session: Session, code: str, as_of: dt.date) -> list[MemberSpell]:
    """Every membership the organisation has had as a parent (`member_history`), each member
    named as at `as_of` and marked current when its spell covers that date."""
    spells = member_history(session, code)
    names = names_at(session, sorted({p.organisation.id for p in spells}), as_of)
    return [
        MemberSpell(
            p.organisation,
            names.get(p.organisation.id) or p.organisation.name or p.organisation.code,
            p.start,
            p.end,
            p.basis,
            Period(p.start, p.end).contains(as_of),
        )
        for p in spells
    ]


def pcns_during(session: Session, practice: Organisation, period: Period) -> list[str]:
    """The codes of the PCNs a practice was a member of at any time in `period`, e.g. a
    contract year."""
    pcn = aliased(Organisation)
    return list(
        session.scalars(
            select(pcn.code)
            .join(Membership, Membership.parent_id == pcn.id)
            .where(
                Membership.child_id == practice.id,
                Membership.channel == kinds.PCN,
                overlapping(Membership.start, Membership.end, period),
            )
            .distinct()
            .order_by(pcn.code)
        )
    )


@dataclass(frozen=True)
class HeldList:
    """A list figure the registry holds for a practice, with the publication it came from."""

    measure: str
    as_of: dt.date
    value: Decimal
    title: str  # the publication's public title (`sources.title`)
    average: bool  # a payments file's quarter average rather than a count


def list_history(session: Session, practice: Organisation) -> list[HeldList]:
    """Every list held for a practice, by date then measure."""
    rows = session.execute(
        select(ListSize.measure, ListSize.as_of, ListSize.value, SourceFile)
        .join(SourceFile, SourceFile.id == ListSize.source_id)
        .where(ListSize.practice_id == practice.id)
        .order_by(ListSize.as_of, ListSize.measure)
    )
    return [
        HeldList(
            measure,
            day,
            value,
            publications.title(source),
            source.file_type not in publications.COUNTS,
        )
        for measure, day, value, source in rows
    ]


@dataclass(frozen=True)
class ListFigure:
    """A practice's list as at a date: the figure, the date it is from, and its source."""

    practice_id: int
    measure: str
    value: Decimal
    as_of: dt.date
    source: str
    source_row: int | None
    title: str = ""  # the publication's public title (`sources.title`)
    average: bool = False  # a payments file's quarter average rather than a count

    @property
    def cited(self) -> str:
        """The source as a user reads it: public title and row."""
        row = f", row {self.source_row}" if self.source_row else ""
        return f"{self.title or self.source}{row}"


def _figure(row, measure: str) -> ListFigure:
    average = row.file_type not in publications.COUNTS
    value = Decimal(row.value)
    return ListFigure(
        row.practice_id,
        measure,
        value,
        row.as_of,
        row.name.rsplit("/", 1)[-1],
        row.source_row,
        publications.title(row),
        average,
    )


def list_sizes_at(
    session: Session,
    practice_ids: list[int],
    as_of: dt.date,
    measure: str = "registered",
    counts_first: bool = False,
) -> dict[int, ListFigure]:
    """Each practice's latest list on or before `as_of` (on a tie, by `_SOURCE_RANK`, then the
    newest-loaded source). `counts_first` prefers any count to a payments average."""
    _check_measure(measure)
    order = (_IS_COUNT.desc(), *_LATEST) if counts_first else _LATEST
    ranked = (
        select(
            *_FIGURE_COLUMNS,
            func.row_number().over(partition_by=ListSize.practice_id, order_by=order).label("rank"),
        )
        .join(SourceFile, SourceFile.id == ListSize.source_id)
        .where(ListSize.measure == measure, ListSize.as_of <= as_of)
    )
    out: dict[int, ListFigure] = {}
    wanted = set(practice_ids)
    for i in range(0, len(practice_ids), 900):
        chunk = practice_ids[i : i + 900]
        sub = ranked.where(ListSize.practice_id.in_(chunk)).subquery()
        for row in session.execute(select(sub).where(sub.c.rank == 1)):
            if row.practice_id in wanted:
                out[row.practice_id] = _figure(row, measure)
    return out


def whole(value: Decimal) -> Decimal:
    """A number of patients: whole people (a quarter average of 3,165.25 is about 3,165)."""
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def patients_at(session: Session, practice_ids: list[int], as_of: dt.date) -> dict[int, ListFigure]:
    """Registered patients as a page shows them: each practice's latest *count* on or before
    `as_of` (a registrations or QOF publication, or the user's own lists); a payments file's
    quarter average only where no count exists, rounded to whole patients and marked
    `average`. Funding keeps its own rule (`list_sizes_at` at the year's reference date)."""
    figures = list_sizes_at(session, practice_ids, as_of, "registered", counts_first=True)
    return {
        i: ListFigure(
            f.practice_id,
            f.measure,
            whole(f.value),
            f.as_of,
            f.source,
            f.source_row,
            f.title,
            f.average,
        )
        for i, f in figures.items()
    }


def list_size_at(
    session: Session, practice_code: str, as_of: dt.date, measure: str = "registered"
) -> ListFigure | None:
    """One practice's list as at a date: a single indexed query (the same precedence as
    `list_sizes_at`)."""
    _check_measure(measure)
    code = practice_code.strip().upper()
    row = session.execute(
        select(*_FIGURE_COLUMNS)
        .join(SourceFile, SourceFile.id == ListSize.source_id)
        .join(Organisation, Organisation.id == ListSize.practice_id)
        .where(Organisation.code == code, ListSize.measure == measure, ListSize.as_of <= as_of)
        .order_by(*_LATEST)
        .limit(1)
    ).first()
    if row is None:
        organisation(session, code)  # a clear error for an unknown code
        return None
    return _figure(row, measure)


@dataclass
class AreaList:
    """A sum of member practices' lists, with the span of dates and the sources it drew on."""

    measure: str
    total: Decimal
    practices: int
    missing: list[str] = field(default_factory=list)
    earliest: dt.date | None = None
    latest: dt.date | None = None
    sources: list[str] = field(default_factory=list)
    # public title -> how many practices' figures came from it (several means a mixed sum)
    by_source: dict[str, int] = field(default_factory=dict)

    @property
    def dated(self) -> str:
        if self.earliest is None:
            return "no list"
        if self.earliest == self.latest:
            return f"as at {_long(self.earliest)}"
        return f"as at {_long(self.earliest)} to {_long(self.latest)}"

    @property
    def mixed(self) -> bool:
        return len(self.by_source) > 1

    @property
    def source_text(self) -> str:
        """Which publication the sum comes from, or, when it adds several, how many practices
        each gave (a mixed sum always says so)."""
        if not self.by_source:
            return "no source"
        if not self.mixed:
            return next(iter(self.by_source))
        parts = [
            f"{title} for {n} practice{'s' if n != 1 else ''}"
            for title, n in sorted(self.by_source.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        return "mixed sources: " + "; ".join(parts)


def sum_lists(practice_codes: list[str], figures: dict[str, ListFigure], measure: str) -> AreaList:
    found = [figures[c] for c in practice_codes if c in figures]
    by_source: dict[str, int] = defaultdict(int)
    for f in found:
        by_source[f.title or f.source] += 1
    return AreaList(
        measure,
        sum((f.value for f in found), Decimal(0)),
        len(practice_codes),
        sorted(c for c in practice_codes if c not in figures),
        min((f.as_of for f in found), default=None),
        max((f.as_of for f in found), default=None),
        sorted({f.source for f in found}),
        dict(by_source),
    )


class Hierarchy:
    """The whole membership graph as at one date, for area-wide questions."""

    def __init__(self, session: Session, as_of: dt.date) -> None:
        self.session = session
        self.as_of = as_of
        self.orgs: dict[int, Organisation] = {
            o.id: o for o in session.scalars(select(Organisation))
        }
        self.by_code = {o.code: o for o in self.orgs.values()}
        self.children: dict[int, list[int]] = defaultdict(list)
        self.parents: dict[int, list[int]] = defaultdict(list)
        rows = session.execute(
            select(Membership.child_id, Membership.parent_id).where(_valid_at(Membership, as_of))
        )
        for child, parent in rows:
            self.children[parent].append(child)
            self.parents[child].append(parent)
        self._lists: dict[str, dict[str, ListFigure]] = {}
        self.names = names_at(session, None, as_of)

    def name(self, org: Organisation) -> str:
        """The organisation's name as at the hierarchy's date."""
        return self.names.get(org.id) or org.name or org.code

    @classmethod
    def at(cls, session: Session, as_of: dt.date) -> Hierarchy:
        return cls(session, as_of)

    def get(self, code: str) -> Organisation:
        org = self.by_code.get(code.strip().upper())
        if org is None:
            raise NotFoundError(f"No organisation has the code '{code}'.")
        return org

    def parent(self, org: Organisation, kind: str) -> Organisation | None:
        found = [self.orgs[p] for p in self.parents.get(org.id, []) if self.orgs[p].kind == kind]
        return found[0] if found else None

    def parents_of(self, org: Organisation, kind: str) -> list[Organisation]:
        return [self.orgs[p] for p in self.parents.get(org.id, []) if self.orgs[p].kind == kind]

    def members(self, org: Organisation, kind: str | None = None) -> list[Organisation]:
        found = [self.orgs[c] for c in self.children.get(org.id, [])]
        return sorted((o for o in found if kind is None or o.kind == kind), key=lambda o: o.code)

    def descendants(self, org: Organisation, kind: str) -> list[Organisation]:
        """Every organisation of `kind` below `org` by any path (deduplicated)."""
        seen, out, stack = {org.id}, {}, [org.id]
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child in seen:
                    continue
                seen.add(child)
                if self.orgs[child].kind == kind:
                    out[child] = self.orgs[child]
                if self.orgs[child].kind != kinds.PRACTICE:
                    stack.append(child)
        return sorted(out.values(), key=lambda o: o.code)

    def pcns_in(self, area: Organisation) -> list[Organisation]:
        """The PCNs of an area: itself, its PCN descendants, and PCNs of its practices."""
        if area.kind == kinds.PCN:
            return [area]
        found = {o.id: o for o in self.descendants(area, kinds.PCN)}
        for practice in self.descendants(area, kinds.PRACTICE):
            for pcn in self.parents_of(practice, kinds.PCN):
                found.setdefault(pcn.id, pcn)
        return sorted(found.values(), key=lambda o: o.code)

    def lists(self, measure: str = "registered") -> dict[str, ListFigure]:
        """Every practice's list as at the hierarchy's date (loaded once per measure)."""
        if measure not in self._lists:
            ids = [o.id for o in self.orgs.values() if o.kind == kinds.PRACTICE]
            figures = list_sizes_at(self.session, ids, self.as_of, measure)
            self._lists[measure] = {self.orgs[i].code: f for i, f in figures.items()}
        return self._lists[measure]

    def area_list(self, practices: list[Organisation], measure: str = "registered") -> AreaList:
        return sum_lists([p.code for p in practices], self.lists(measure), measure)

    def patients(self) -> dict[str, ListFigure]:
        """Every practice's registered patients as pages show them (`patients_at`)."""
        if "patients" not in self._lists:
            ids = [o.id for o in self.orgs.values() if o.kind == kinds.PRACTICE]
            figures = patients_at(self.session, ids, self.as_of)
            self._lists["patients"] = {self.orgs[i].code: f for i, f in figures.items()}
        return self._lists["patients"]

    def area_patients(self, practices: list[Organisation]) -> AreaList:
        """Registered patients of some practices: whole people, each figure's source counted."""
        return sum_lists([p.code for p in practices], self.patients(), "registered")


def roles_at(session: Session, pcn_ids: list[int], as_of: dt.date) -> dict[int, list[PcnRole]]:
    """Each PCN's roles on `as_of`. A role someone recorded (a definitions file) takes
    precedence over one pcnkit inferred (a payee read from the payments files, which carries
    its `evidence`): the inferred one is left out while a recorded one of the same kind holds,
    and of several inferred ones (the same year's file loaded twice) the newest file's holds."""
    rows = session.scalars(
        select(PcnRole)
        .where(PcnRole.pcn_id.in_(pcn_ids), _valid_at(PcnRole, as_of))
        .order_by(PcnRole.id)
    )
    out: dict[int, list[PcnRole]] = defaultdict(list)
    for role in rows:
        out[role.pcn_id].append(role)
    for pcn_id, roles in out.items():
        recorded = {r.role for r in roles if not r.evidence}
        # of the inferred ones, the newest file's (a corrected file for the same year wins)
        newest = {}
        for r in roles:
            newer = r.role not in newest or r.source_id > newest[r.role].source_id
            if r.evidence and r.role not in recorded and newer:
                newest[r.role] = r
        out[pcn_id] = [r for r in roles if not r.evidence] + list(newest.values())
    return out


def is_open(org: Organisation, as_of: dt.date) -> bool:
    """Open on `as_of`: opened on or before it and not closed by it. An organisation with no
    known open date counts from its first sighting (`kinds.opened_on`; regions and ICBs, which
    long predate the files, count as open). A practice ODS last reported dormant or proposed is
    not open from that report's date on."""
    opened = kinds.opened_on(org.kind, org.open_date, org.first_seen)
    if opened and opened > as_of:
        return False
    if org.status in ("D", "P") and org.status_as_of and org.status_as_of <= as_of:
        return False  # until a newer ODS file reports it active
    return not (org.close_date and org.close_date <= as_of)


def is_closed(org: Organisation, as_of: dt.date) -> bool:
    return bool(org.close_date and org.close_date <= as_of)
