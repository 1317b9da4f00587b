"""The populations funding is paid on: each PCN's member practices month by month, and each
practice's lists at the year's reference date, from the registry or from a user's CSV.

Membership is read on the first day of each month, so a practice that leaves a PCN moves its
share from the next month. Lists are the latest on or before the reference date (1 January
before the year); how old the figure is shows on every line that uses it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from pcnkit.bulk import bulk
from pcnkit.dates import Period, add_months, contract_year, months_between, overlapping
from pcnkit.errors import InputError
from pcnkit.provenance import Provenance
from pcnkit.registry import kinds, plausible, queries
from pcnkit.registry.importers.base import csv_rows, read_text
from pcnkit.store.models import (
    LIST_MEASURES,
    Membership,
    Organisation,
    PracticeMerger,
    SourceFile,
)

if TYPE_CHECKING:
    from pcnkit.funding.rules import YearRules


@dataclass
class PracticeLists:
    code: str
    name: str
    values: dict[str, Decimal] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)
    sources: dict[str, Provenance] = field(default_factory=dict)  # where each figure came from


@dataclass
class Populations:
    """Who was in which PCN each month, and every practice's lists, for one contract year."""

    year_start: dt.date
    reference_date: dt.date
    pcn_names: dict[str, str]
    practices: dict[str, PracticeLists]
    # month -> pcn code -> member practice codes (as at the first of the month)
    members: dict[dt.date, dict[str, list[str]]]
    payees: dict[str, str] = field(default_factory=dict)
    origin: str = "registry"
    # (pcn, practice, first month, last month): the same memberships as runs, for fast work
    spans: list[tuple[str, str, dt.date, dt.date]] = field(default_factory=list)
    # absorbed practice -> (successor, merger date, note): its list is paid to the successor
    absorbed: dict[str, tuple[str, dt.date, str]] = field(default_factory=dict)
    # payee code -> name, for payees that are not member practices
    payee_names: dict[str, str] = field(default_factory=dict)

    def pcn_codes(self) -> list[str]:
        codes = {p for month in self.members.values() for p in month}
        return sorted(codes)


def _months(start: dt.date) -> list[dt.date]:
    return months_between(start, add_months(start, 11))


def from_registry(session: Session, rules: YearRules, area: str | None = None) -> Populations:
    """The populations `rules`' contract year is paid on, from the registry: each PCN's member
    practices on the first of each month and every practice's lists at the rules' list
    reference date, optionally for the PCNs of one `area` (an ICB, place, PCN ... code, as at
    the year's first and last months). Months before the rules' `membership_from` use the
    membership on that date (ODS back-dates PCN relationships to 1 October 2019, but 2019/20
    core funding was paid from April). The one way every shell (CLI, web, demo) reads them."""
    with bulk():
        return _from_registry(
            session, rules.start, rules.list_reference_date, area, rules.membership_from
        )


def _from_registry(
    session: Session,
    year_start: dt.date,
    reference_date: dt.date,
    area: str | None,
    membership_from: dt.date | None,
) -> Populations:
    months = _months(year_start)
    child, parent = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(child.code, child.name, parent.code, parent.name, Membership.start, Membership.end)
        .join(child, child.id == Membership.child_id)
        .join(parent, parent.id == Membership.parent_id)
        .where(
            Membership.channel == kinds.PCN,
            child.kind == kinds.PRACTICE,
            overlapping(Membership.start, Membership.end, contract_year(year_start)),
        )
    ).all()
    wanted: set[str] | None = None
    if area:
        hierarchy_dates = [months[-1], max(months[0], membership_from or months[0])]
        wanted = set()
        for when in hierarchy_dates:
            h = queries.Hierarchy.at(session, when)
            wanted |= {p.code for p in h.pcns_in(h.get(area))}
    members: dict[dt.date, dict[str, list[str]]] = {m: defaultdict(list) for m in months}
    practice_names: dict[str, str] = {}
    spans = []
    for p_code, p_name, pcn_code, _pcn_name, start, end in rows:
        if wanted is not None and pcn_code not in wanted:
            continue
        practice_names[p_code] = p_name
        inside, period = [], Period(start, end)
        for m in months:
            day = max(m, membership_from) if membership_from else m
            if period.contains(day):
                members[m][pcn_code].append(p_code)
                inside.append(m)
        if inside:
            spans.append((pcn_code, p_code, inside[0], inside[-1]))
    absorbed = _absorbed(session, members, months, membership_from, practice_names, spans)
    pcn_orgs = {
        o.code: o
        for o in session.scalars(select(Organisation).where(Organisation.kind == kinds.PCN))
    }
    names = queries.names_at(session, [o.id for o in pcn_orgs.values()], reference_date)
    pcn_names = {code: names.get(o.id, o.name) for code, o in pcn_orgs.items()}
    ids = {
        o.code: o.id
        for o in session.scalars(
            select(Organisation).where(Organisation.code.in_(list(practice_names)))
        )
    }
    practices = _lists(session, practice_names, ids, reference_date)
    paid = _all(members)
    payees, payee_names = _payees(session, [pcn_orgs[c].id for c in pcn_orgs if c in paid], months)
    return Populations(
        year_start,
        reference_date,
        pcn_names,
        practices,
        {m: dict(v) for m, v in members.items()},
        payees,
        spans=spans,
        absorbed=absorbed,
        payee_names=payee_names,
    )


def _lists(
    session: Session, names: dict[str, str], ids: dict[str, int], reference_date: dt.date
) -> dict[str, PracticeLists]:
    """Each practice's lists, the latest on or before `reference_date`, with their sources."""
    practices = {code: PracticeLists(code, name) for code, name in names.items()}
    titles = _source_titles(session)
    by_id = {v: k for k, v in ids.items()}
    for measure in LIST_MEASURES:
        figures = queries.list_sizes_at(session, list(ids.values()), reference_date, measure)
        for pid, fig in figures.items():
            p = practices[by_id[pid]]
            p.values[measure], p.dates[measure], p.sources[measure] = (
                fig.value,
                fig.as_of,
                Provenance(titles.get(fig.source, fig.source), fig.source_row, as_of=fig.as_of),
            )
    return practices


def relisted(session: Session, pops: Populations, reference_date: dt.date) -> Populations:
    """The same memberships and payees with every practice's lists at another date (what a
    payment made on a later list would have been)."""
    names = {code: p.name for code, p in pops.practices.items()}
    ids = dict(
        session.execute(
            select(Organisation.code, Organisation.id).where(Organisation.code.in_(list(names)))
        ).all()
    )
    return replace(
        pops, reference_date=reference_date, practices=_lists(session, names, ids, reference_date)
    )


def _source_titles(session: Session) -> dict[str, str]:
    """Each loaded file's publication, for people: "NHS Payments to General Practice, NHS
    Digital" rather than nhs_payments_gp_18-19.csv."""
    from pcnkit.registry.importers import TYPES

    out = {}
    for name, file_type, publisher in session.execute(
        select(SourceFile.name, SourceFile.file_type, SourceFile.publisher)
    ):
        title = TYPES.get(file_type, file_type).split(" (")[0]
        out[name.rsplit("/", 1)[-1]] = f"{title}, {publisher}" if publisher else title
    return out


def _absorbed(session, members, months, membership_from, practice_names, spans):
    """Practices whose list a member practice took on (recorded mergers): from the merger,
    while they are in no PCN themselves, they count in the successor's PCN."""
    absorbed = {}
    old, new = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(old.code, old.name, new.code, PracticeMerger.date, PracticeMerger.note)
        .join(old, old.id == PracticeMerger.practice_id)
        .join(new, new.id == PracticeMerger.successor_id)
    ).all()
    for code, name, successor, when, note in rows:
        run: list = []
        for m in months:
            day = max(m, membership_from) if membership_from else m
            in_a_pcn = any(code in practices for practices in members[m].values())
            home = next((pcn for pcn, ps in members[m].items() if successor in ps), None)
            if when > day or in_a_pcn or home is None:
                continue
            members[m][home].append(code)
            if run and run[-1][0] == home and run[-1][2] == add_months(m, -1):
                run[-1][2] = m
            else:
                run.append([home, m, m])
        if run:
            practice_names[code] = name
            absorbed[code] = (successor, when, note)
            spans.extend((pcn, code, first, last) for pcn, first, last in run)
    return absorbed


def _all(members) -> set[str]:
    return {p for month in members.values() for p in month}


def _payees(
    session: Session, pcn_ids: list[int], months: list[dt.date]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each PCN's nominated payee on the first day of the year's last month it had one, and
    the payees' names."""
    if not pcn_ids:
        return {}, {}
    chosen: dict[int, int] = {}  # pcn id -> payee id, the last month's wins
    for when in months:
        for pcn_id, roles in queries.roles_at(session, pcn_ids, when).items():
            for role in roles:
                if role.role == "nominated_payee" and role.payee_id:
                    chosen[pcn_id] = role.payee_id
    ids = set(chosen) | set(chosen.values())
    orgs = {
        o.id: (o.code, o.name)
        for o in session.execute(
            select(Organisation.id, Organisation.code, Organisation.name).where(
                Organisation.id.in_(ids)
            )
        )
    }
    out = {orgs[pcn][0]: orgs[payee][0] for pcn, payee in chosen.items()}
    names = {orgs[payee][0]: orgs[payee][1] for payee in chosen.values()}
    return out, names


def from_csv(
    path: Path,
    year_start: dt.date,
    reference_date: dt.date,
    names: dict[str, str] | None = None,
    title: str | None = None,
) -> Populations:
    """A user's lists: `pcn_code[, practice_code], registered, weighted[, adjusted]`. Without
    practice codes each row is a whole PCN (it is paid as one notional practice). With the
    registry's PCN names given, an unknown PCN code is an error. `title` names where the lists
    come from (a published paper) wherever the figures cite them; by default the file's name."""
    origin = title or path.name
    header, rows = csv_rows(path, read_text(path), exact=True)
    columns = {h.strip().lower(): h for h in header}
    missing = [c for c in ("pcn_code", "registered") if c not in columns]
    if missing:
        raise InputError(
            str(path),
            f"has no column {' or '.join(repr(m) for m in missing)}",
            "The header must be: pcn_code[, practice_code], registered, weighted[, adjusted].",
        )
    practices: dict[str, PracticeLists] = {}
    members: dict[str, list[str]] = defaultdict(list)
    # a row is a practice, or a whole PCN paid as one notional practice: each has its range
    bounds = plausible.PRACTICE_LISTS if "practice_code" in columns else plausible.PCN_LISTS
    for r in rows:
        pcn = r.code(columns["pcn_code"], "a PCN code")
        if names and pcn not in names:
            raise r.error(
                columns["pcn_code"],
                f"PCN {pcn} is not in the registry",
                "Correct the code, or load the ePCN file that defines it.",
            )
        code = (
            r.code(columns["practice_code"], "a practice code")
            if "practice_code" in columns
            else pcn
        )
        if code in practices:
            raise InputError(
                str(path),
                f"{code} appears twice",
                "Give each practice one row.",
                row=r.number,
                column=columns.get("practice_code", columns["pcn_code"]),
            )
        lists = PracticeLists(code, code)
        for measure in LIST_MEASURES:
            if measure in columns:
                value = r.count(columns[measure], bounds[measure])
                if value is None:
                    raise r.error(
                        columns[measure], "is blank", f"Give every row its {measure} population."
                    )
                lists.values[measure] = value
                lists.dates[measure] = reference_date
                lists.sources[measure] = Provenance(origin, r.number, as_of=reference_date)
        practices[code] = lists
        members[pcn].append(code)
    months = _months(year_start)
    month_map = {m: dict(members) for m in months}
    pcn_names = {c: (names or {}).get(c, c) for c in members}
    spans = [(pcn, code, months[0], months[-1]) for pcn, codes in members.items() for code in codes]
    return Populations(
        year_start, reference_date, pcn_names, practices, month_map, origin=origin, spans=spans
    )


def registry_names(session: Session) -> dict[str, str]:
    return {
        o.code: o.name
        for o in session.scalars(select(Organisation).where(Organisation.kind == kinds.PCN))
    }


__all__ = ["Populations", "PracticeLists", "from_csv", "from_registry", "registry_names"]
