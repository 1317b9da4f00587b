"""Every change to the registry goes through here: apply parsed batches in one transaction.

The caller owns the transaction (Workspace.transaction), so a failure in any file leaves the
workspace exactly as it was. A file already loaded (same SHA-256) is skipped, so loading twice
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.orm import Session

from pcnkit.bulk import bulk
from pcnkit.errors import InputError
from pcnkit.registry import kinds, timeline
from pcnkit.registry import sources as source_titles
from pcnkit.registry.importers.base import Batch, FactRecord, ListBasis
from pcnkit.store.models import (
    ActualPayment,
    ListSize,
    Membership,
    MembershipFact,
    Organisation,
    OrganisationName,
    PcnRole,
    PracticeMerger,
    RegistryException,
    SourceFile,
)

DETAIL_FIELDS = ("name", "subtype", "postcode", "open_date", "close_date")
CHUNK = 5000


@dataclass
class LoadReport:
    file: str
    file_type: str
    description: str
    extract_date: dt.date
    rows: int = 0
    organisations_new: int = 0
    facts: int = 0
    list_sizes: int = 0
    coordinates: int = 0
    coordinates_unmatched: int = 0
    roles: int = 0
    exceptions: int = 0
    payments: int = 0
    status: str = "loaded"
    # what the file's list figures are (a count, or NHS Payments' quarter averages)
    list_basis: ListBasis | None = None
    # publication quirks read by a stated rule rather than refused (e.g. same-day handovers)
    findings: list[str] = field(default_factory=list)


def channel_of(parent: Organisation | OrgRow) -> str:
    """Memberships are exclusive per channel: one parent of each kind (and grouping subtype)."""
    if parent.kind == kinds.GROUPING and parent.subtype:
        return f"{parent.kind}:{parent.subtype}"
    return parent.kind


@dataclass
class OrgRow:
    """The few organisation fields a load needs, read with Core (no ORM objects: fast)."""

    id: int
    code: str
    kind: str
    subtype: str | None
    name: str
    postcode: str | None
    open_date: dt.date | None
    close_date: dt.date | None
    first_seen: dt.date | None
    details_observed_at: dt.date | None
    status: str | None
    status_as_of: dt.date | None


ORG = Organisation.__table__
ORG_COLUMNS = [ORG.c[f] for f in OrgRow.__dataclass_fields__]


class _Orgs:
    """Organisation rows by code, loaded once per transaction and refreshed as rows change."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_code = {r.code: OrgRow(*r) for r in session.execute(select(*ORG_COLUMNS))}

    def get(self, code: str) -> OrgRow | None:
        return self.by_code.get(code)

    def refresh(self, codes: Iterable[str]) -> None:
        codes = list(codes)
        for i in range(0, len(codes), 900):
            query = select(*ORG_COLUMNS).where(ORG.c.code.in_(codes[i : i + 900]))
            for r in self.session.execute(query):
                self.by_code[r.code] = OrgRow(*r)


def _same(name: str | None) -> str:
    """Names compared ignoring case and spacing (QOF: 'Havering South PCN'; ODS: upper case)."""
    return " ".join((name or "").upper().split())


def _update_rows(session: Session, table, changes: list[dict]) -> None:
    """Executemany UPDATE by id, grouped by the set of columns each row changes."""
    groups: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for change in changes:
        groups[tuple(sorted(k for k in change if k != "id"))].append(change)
    for columns, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(c) for c in columns})
        )
        session.execute(
            statement, [{"row_id": r["id"], **{c: r[c] for c in columns}} for r in rows]
        )


def _insert_rows(session: Session, table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(table.insert(), rows[i : i + CHUNK])


def _upsert_organisations(
    session: Session, orgs: _Orgs, batch: Batch, source: SourceFile, report: LoadReport
) -> None:
    new_rows, changes = [], []
    # First mention: a yearly publication names an organisation for its whole year, and a dated
    # membership names both ends of it from its start.
    mentioned = source_titles.covers_from(batch) or batch.extract_date
    seen = {code: mentioned for code in batch.organisations}
    for fact in batch.facts:
        for code in (fact.child, fact.parent):
            if fact.dated and fact.start and code in seen:
                seen[code] = min(seen[code], fact.start)
    for rec in batch.organisations.values():
        org = orgs.get(rec.code)
        if org is None:
            new_rows.append(
                {
                    "code": rec.code,
                    "kind": rec.kind,
                    "name": rec.name or "",
                    **{f: getattr(rec, f) for f in DETAIL_FIELDS if f != "name"},
                    "details_observed_at": batch.extract_date,
                    "details_source_id": source.id,
                    "first_seen": seen[rec.code],
                    "status": rec.status,
                    "status_as_of": batch.extract_date if rec.status else None,
                    "latitude": None,
                    "longitude": None,
                    "coordinates_source_id": None,
                }
            )
            continue
        if org.kind != rec.kind:
            raise InputError(
                batch.file,
                f"{rec.code} is a {rec.kind} here but the registry holds it as a {org.kind}",
                "Check the code; an organisation keeps one code and one kind.",
                row=rec.row,
            )
        newer = org.details_observed_at is None or batch.extract_date >= org.details_observed_at
        change = {}
        for f in DETAIL_FIELDS:
            value = getattr(rec, f)
            if value in (None, ""):
                continue
            if (newer or getattr(org, f) in (None, "")) and getattr(org, f) != value:
                change[f] = value
        if rec.status and (org.status_as_of is None or batch.extract_date >= org.status_as_of):
            change["status"], change["status_as_of"] = rec.status, batch.extract_date
        if org.first_seen is None or seen[rec.code] < org.first_seen:
            change["first_seen"] = seen[rec.code]
        if newer:
            change["details_observed_at"] = batch.extract_date
            change["details_source_id"] = source.id
        if change:
            changes.append({"id": org.id, **change})
    _insert_rows(session, ORG, new_rows)
    _update_rows(session, ORG, changes)
    report.organisations_new = len(new_rows)
    renamed = [
        rec.code
        for rec in batch.organisations.values()
        if rec.name
        and (orgs.get(rec.code) is None or _same(orgs.get(rec.code).name) != _same(rec.name))
    ]
    orgs.refresh([r["code"] for r in new_rows])
    _insert_rows(
        session,
        OrganisationName.__table__,
        [
            {
                "org_id": orgs.get(code).id,
                "name": batch.organisations[code].name,
                "observed_at": batch.extract_date,
                "source_id": source.id,
            }
            for code in renamed
        ],
    )
    changed_ids = {c["id"] for c in changes}
    if changed_ids:
        orgs.refresh([c for c, o in orgs.by_code.items() if o.id in changed_ids])


def _check_overlaps(batch: Batch, facts: list[tuple[FactRecord, OrgRow, str]]) -> None:
    by_child: dict[tuple[str, str], list[tuple[dt.date | None, dt.date | None, int]]] = defaultdict(
        list
    )
    for rec, _parent, channel in facts:
        if rec.dated:
            if rec.start and rec.end and rec.end < rec.start:
                raise InputError(
                    batch.file,
                    f"{rec.child}'s membership of {rec.parent} ends "
                    f"({rec.end}) before it starts ({rec.start})",
                    "Correct the dates.",
                    row=rec.row,
                )
            by_child[(rec.child, channel)].append((rec.start, rec.end, rec.row or 0))
    for (child, channel), intervals in by_child.items():
        clash = timeline.overlaps(intervals)
        if clash:
            raise InputError(
                batch.file,
                f"{child} has overlapping membership periods in two {channel} relationships "
                f"(rows {clash[0]} and {clash[1]})",
                "End one membership before the next starts.",
                row=clash[1],
            )


def _insert_facts(
    session: Session, orgs: _Orgs, batch: Batch, source: SourceFile, report: LoadReport
) -> set[tuple[int, str]]:
    resolved: list[tuple[FactRecord, OrgRow, str]] = []
    for rec in batch.facts:
        parent, child = orgs.get(rec.parent), orgs.get(rec.child)
        for code, org, role in ((rec.parent, parent, "parent"), (rec.child, child, "member")):
            if org is None:
                raise InputError(
                    batch.file,
                    f"names {code} as a {role}, but no organisation has that code",
                    "Load the file that defines it first (e.g. the ePCN workbook), or define "
                    "it under 'organisations'.",
                    row=rec.row,
                )
        resolved.append((rec, parent, channel_of(parent)))
    _check_overlaps(batch, resolved)
    rows = [
        {
            "child_id": orgs.get(rec.child).id,
            "parent_id": parent.id,
            "channel": channel,
            "start": rec.start,
            "end": rec.end,
            "dated": rec.dated,
            "observed_at": batch.extract_date,
            "source_id": source.id,
            "source_row": rec.row,
        }
        for rec, parent, channel in resolved
    ]
    _insert_rows(session, MembershipFact.__table__, rows)
    report.facts = len(rows)
    return {(r["child_id"], r["channel"]) for r in rows}


def _known(
    orgs: _Orgs, batch: Batch, code: str, kind: str | None, says: str, fix: str, **where
) -> OrgRow:
    """The organisation a row names, which must be known (and of `kind`, if given): the one
    refusal every record that points at an organisation shares."""
    org = orgs.get(code)
    if org is None or (kind is not None and org.kind != kind):
        known = {kinds.PRACTICE: "practice", kinds.PCN: "PCN", None: "organisation"}[kind]
        raise InputError(batch.file, f"{says} {code}, which is not a known {known}", fix, **where)
    return org


def _insert_list_sizes(session, orgs, batch, source, report) -> None:
    rows = []
    for rec in batch.list_sizes:
        org = _known(
            orgs,
            batch,
            rec.practice,
            kinds.PRACTICE,
            "gives a list for",
            "Load epraccur (or another practice file) first, or correct the code.",
            row=rec.row,
            column="practice_code",
        )
        rows.append(
            {
                "practice_id": org.id,
                "measure": rec.measure,
                "as_of": rec.as_of,
                "value": rec.value,
                "source_id": source.id,
                "source_row": rec.row,
            }
        )
    _insert_rows(session, ListSize.__table__, rows)
    report.list_sizes = len(rows)


def _insert_payments(session, batch, source, report) -> None:
    """Actual payments, keyed by codes as the file gives them (see `ActualPayment`)."""
    rows = [
        {
            "source_id": source.id,
            "source_row": rec.row,
            "year_start": batch.payment_year,
            "practice_code": rec.practice,
            "pcn_code": rec.pcn,
            "heading": rec.heading,
            "amount": rec.amount,
        }
        for rec in batch.payments
    ]
    _insert_rows(session, ActualPayment.__table__, rows)
    report.payments = len(rows)


def _attach_coordinates(session, orgs, batch, source, report) -> None:
    practices = [o for o in orgs.by_code.values() if o.kind == kinds.PRACTICE]
    by_postcode: dict[str, list[OrgRow]] = defaultdict(list)
    for o in practices:
        if o.postcode:
            by_postcode[o.postcode.replace(" ", "").upper()].append(o)
    changes, done = [], set()
    for rec in batch.coordinates:
        org = orgs.get(rec.code)
        if org is None and rec.postcode:
            same = by_postcode.get(rec.postcode.replace(" ", "").upper(), [])
            org = same[0] if len(same) == 1 else None
        if org is None or org.id in done or org.kind != kinds.PRACTICE:
            report.coordinates_unmatched += 1
            continue
        done.add(org.id)
        changes.append(
            {
                "id": org.id,
                "latitude": rec.latitude,
                "longitude": rec.longitude,
                "coordinates_source_id": source.id,
            }
        )
    _update_rows(session, ORG, changes)
    report.coordinates = len(changes)


def _insert_roles(session, orgs, batch, source, report) -> None:
    for rec in batch.roles:
        pcn = _known(
            orgs,
            batch,
            rec.pcn,
            kinds.PCN,
            "gives a role to",
            "Load the ePCN workbook first or correct the code.",
            row=rec.row,
        )
        payee = (
            _known(
                orgs,
                batch,
                rec.payee,
                None,
                "names payee",
                "Use the payee's ODS code.",
                row=rec.row,
            )
            if rec.payee
            else None
        )
        session.add(
            PcnRole(
                pcn_id=pcn.id,
                role=rec.role,
                holder=rec.holder,
                payee_id=payee.id if payee else None,
                start=rec.start,
                end=rec.end,
                source_id=source.id,
                evidence=rec.evidence,
            )
        )
    for rec in batch.exceptions:
        org = _known(
            orgs, batch, rec.org, None, "records an exception for", "Correct the code.", row=rec.row
        )
        session.add(
            RegistryException(
                org_id=org.id,
                rule=rec.rule,
                reason=rec.reason,
                start=rec.start,
                end=rec.end,
                source_id=source.id,
            )
        )
    for rec in batch.mergers:
        practice, successor = (
            _known(
                orgs,
                batch,
                code,
                kinds.PRACTICE,
                "records a merger naming",
                "Correct the code.",
                row=rec.row,
            )
            for code in (rec.practice, rec.successor)
        )
        session.add(
            PracticeMerger(
                practice_id=practice.id,
                successor_id=successor.id,
                date=rec.date,
                note=rec.note,
                source_id=source.id,
            )
        )
    report.roles, report.exceptions = len(batch.roles), len(batch.exceptions)


def rebuild_memberships(session: Session, affected: set[tuple[int, str]] | None = None) -> int:
    """Re-derive the resolved timeline for the given (child, channel) pairs (all if None)."""
    sources = {s.id: s for s in session.scalars(select(SourceFile))}
    everyone = session.execute(
        select(ORG.c.id, ORG.c.kind, ORG.c.open_date, ORG.c.close_date, ORG.c.first_seen)
    ).all()
    # When each organisation began and ended, as far as the data says (kinds.opened_on): a PCN
    # named for 2019/20 began with the DES; a CCG no file names before 2021/22 began then.
    began = {o.id: kinds.opened_on(o.kind, o.open_date, o.first_seen) for o in everyone}
    parent_open = {str(i): d for i, d in began.items() if d}
    parent_close = {str(o.id): o.close_date for o in everyone if o.close_date}
    known_until = {o.id: o.close_date for o in everyone if o.kind != kinds.PRACTICE}
    pcn_ids = {o.id for o in everyone if o.kind == kinds.PCN}
    fact = MembershipFact.__table__
    facts = session.execute(select(fact)).all()
    if affected is not None:
        facts = [f for f in facts if (f.child_id, f.channel) in affected]
    titles = {i: source_titles.title(s) for i, s in sources.items()}
    years = {i: source_titles.covers_from(s) for i, s in sources.items()}
    grouped: dict[tuple[int, str], list[timeline.Fact]] = defaultdict(list)
    for f in facts:
        basis = titles[f.source_id] + (f", row {f.source_row}" if f.source_row else "")
        grouped[(f.child_id, f.channel)].append(
            timeline.Fact(
                str(f.parent_id),
                f.start,
                f.end,
                f.dated,
                f.observed_at,
                basis,
                years[f.source_id],
            )
        )
    keys = list(grouped) if affected is None else list(affected)
    if affected is None:
        session.execute(delete(Membership))
    else:
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            session.execute(
                delete(Membership).where(tuple_(Membership.child_id, Membership.channel).in_(chunk))
            )
    rows = []
    for child_id, channel in keys:
        facts_here = grouped.get((child_id, channel), [])
        segments = timeline.resolve(
            facts_here,
            parent_open,
            began.get(child_id),
            parent_close,
            known_until.get(child_id),
            des=channel == kinds.PCN and any(int(f.parent) in pcn_ids for f in facts_here),
        )
        for seg in segments:
            rows.append(
                {
                    "child_id": child_id,
                    "parent_id": int(seg.parent),
                    "channel": channel,
                    "start": seg.start,
                    "end": seg.end,
                    "basis": "; ".join(seg.bases),
                }
            )
    _insert_rows(session, Membership.__table__, rows)
    return len(rows)


def apply_batches(
    session: Session,
    batches: Iterable[Batch],
    progress: Callable[[Batch], None] | None = None,
) -> list[LoadReport]:
    """Write batches in order; the whole call is one unit of work in the caller's transaction."""
    with bulk():
        return _apply_batches(session, batches, progress)


def _apply_batches(session, batches, progress) -> list[LoadReport]:
    known = set(session.scalars(select(SourceFile.sha256)))
    orgs = _Orgs(session)
    reports: list[LoadReport] = []
    affected: set[tuple[int, str]] = set()
    for batch in batches:
        report = LoadReport(
            batch.file, batch.file_type, batch.description, batch.extract_date, batch.rows
        )
        report.list_basis = batch.list_basis if batch.list_sizes else None
        report.findings = [
            f"{f.where or batch.file}"
            + (f", rows {' and '.join(map(str, f.rows))}" if f.rows else "")
            + f": {f.text}"
            for f in batch.findings
        ]
        reports.append(report)
        if batch.sha256 in known:
            report.status = "already loaded: skipped"
            if progress:
                progress(batch)
            continue
        known.add(batch.sha256)
        source = SourceFile(
            name=batch.file,
            file_type=batch.file_type,
            sha256=batch.sha256,
            extract_date=batch.extract_date,
            loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            rows=batch.rows,
            publisher=batch.publisher,
        )
        session.add(source)
        session.flush()
        try:
            _upsert_organisations(session, orgs, batch, source, report)
            affected |= _insert_facts(session, orgs, batch, source, report)
            _insert_list_sizes(session, orgs, batch, source, report)
            _attach_coordinates(session, orgs, batch, source, report)
            _insert_roles(session, orgs, batch, source, report)
            _insert_payments(session, batch, source, report)
        except InputError as exc:
            exc.batch_file = batch.file  # which file to leave out under --skip-bad
            raise
        if progress:
            progress(batch)
    if affected:
        rebuild_memberships(session, affected)
    return reports


def refresh_derived(session: Session) -> int:
    """Re-derive what loads compute from the stored facts: each organisation's first mention
    (a yearly publication counts from the start of its year; a dated membership from its start,
    for both ends) and every membership, with evidence cited by public title. For a workspace
    loaded before these rules; loading new files does the same for what they touch. Returns the
    number of memberships."""
    with bulk():
        sources = {s.id: s for s in session.scalars(select(SourceFile))}
        first: dict[int, dt.date] = {}

        def seen(org_id: int, day: dt.date | None) -> None:
            if day and (org_id not in first or day < first[org_id]):
                first[org_id] = day

        fact = MembershipFact.__table__
        rows = session.execute(
            select(fact.c.child_id, fact.c.parent_id, fact.c.start, fact.c.dated, fact.c.source_id)
        )
        for child, parent, start, dated, source_id in rows:
            mentioned = source_titles.covers_from(sources[source_id])
            for org_id in (child, parent):
                seen(org_id, mentioned)
                if dated:
                    seen(org_id, start)
        listed = session.execute(select(ListSize.practice_id, ListSize.source_id).distinct()).all()
        for practice_id, source_id in listed:
            seen(practice_id, source_titles.covers_from(sources[source_id]))
        current = dict(session.execute(select(ORG.c.id, ORG.c.first_seen)).all())
        changes = [
            {"id": i, "first_seen": d}
            for i, d in first.items()
            if current.get(i) is None or d < current[i]
        ]
        _update_rows(session, ORG, changes)
        return rebuild_memberships(session)
