"""Structure and configuration in a pack: the organisation's places, PCNs and practices at the
pack's date with their registered lists against the Network Contract DES's 30,000–50,000
range, and the configuration check's findings (`pcnkit.registry.checks.run_checks`), as
`pcnkit registry check` and the organisation page show them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcnkit.registry import checks, kinds, sources
from pcnkit.registry.queries import AreaList, Hierarchy, is_open, whole
from pcnkit.reports.document import (
    Column,
    Paragraph,
    Section,
    Source,
    Table,
    count,
    long_date,
    not_calculated,
)
from pcnkit.reports.packs import PackContext
from pcnkit.store.models import MembershipFact, Organisation, SourceFile

RANGE_WORDS = (
    f"the Network Contract DES expects a PCN to serve {checks.LIST_MINIMUM:,} to "
    f"{checks.LIST_MAXIMUM:,} patients (a smaller one needs a recorded exception; a larger one is "
    "allowed but worth confirming)"
)
STATUS_KEY = (
    "within range: 30,000 to 50,000 registered patients",
    "below 30,000: under the minimum, with no exception recorded",
    "below (exception): under the minimum, with a recorded exception",
    "over 50,000: above the usual range",
    "unknown: no list held for the PCN's practices",
)


def _patients(a: AreaList) -> str:
    if a.earliest is None:
        return not_calculated("no list held for its practices")
    return count(int(whole(a.total)))


def _org_words(h: Hierarchy, org: Organisation) -> str:
    return f"{h.name(org)} ({org.code})"


def registry_sources(
    session: Session, practices: list[Organisation], as_of: dt.date, lists: AreaList | None
) -> tuple[Source, ...]:
    """The registry's publications behind the membership (each file that placed one of the
    practices, up to the date) and the lists (their public titles, never file names)."""
    ids = [p.id for p in practices]
    found: dict[int, SourceFile] = {}
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        rows = session.scalars(
            select(SourceFile)
            .join(MembershipFact, MembershipFact.source_id == SourceFile.id)
            .where(MembershipFact.child_id.in_(chunk), MembershipFact.observed_at <= as_of)
            .distinct()
        )
        found.update({s.id: s for s in rows})
    titles = sorted({sources.title(s) for s in found.values()})
    out = [Source(t, f"membership up to {long_date(as_of)}") for t in titles]
    if lists is not None:
        for title in sorted(lists.by_source):
            n = lists.by_source[title]
            out.append(Source(title, f"registered lists of {n} practice{'' if n == 1 else 's'}"))
    return tuple(out)


def _pcn_table(
    ctx: PackContext, result: checks.CheckResult, places: bool
) -> tuple[Table, AreaList]:
    h = ctx.hierarchy
    rows = []
    every: list[Organisation] = []
    for line in sorted(result.pcns, key=lambda p: (_place_name(h, p.code) if places else "",
                                                   p.name, p.code)):  # fmt: skip
        pcn = h.by_code[line.code]
        members = [m for m in h.members(pcn, kinds.PRACTICE) if is_open(m, ctx.as_of)]
        every.extend(members)
        reg = h.area_patients(members)
        row = (
            f"{line.name} ({line.code})",
            count(len(members)),
            _patients(reg),
            reg.dated,
            line.status,
        )
        rows.append(((_place_name(h, line.code),) if places else ()) + row)
    total = h.area_patients(every)
    columns = (
        *((Column("Place"),) if places else ()),
        Column("PCN"),
        Column("Open practices", numeric=True),
        Column("Registered patients", numeric=True),
        Column("Lists"),
        Column("Against 30,000–50,000"),
    )
    table = Table(
        f"PCNs of {ctx.name} ({ctx.code}) and their registered lists at {long_date(ctx.as_of)}",
        columns,
        tuple(rows),
        registry_sources(ctx.session, every, ctx.as_of, total),
        notes=(f"Range: {RANGE_WORDS}.", "Key to the last column:", *STATUS_KEY),
    )
    return table, total


def _place_name(h: Hierarchy, pcn_code: str) -> str:
    place = h.parent(h.by_code[pcn_code], kinds.PLACE)
    return h.name(place) if place else "no place recorded"


def _findings_table(ctx: PackContext, found: list[checks.Finding], srcs) -> Table | Paragraph:
    """The configuration check's findings grouped by check, outcome words first."""
    if not found:
        return Paragraph(
            f"The configuration check found nothing to report for {ctx.name} at "
            f"{long_date(ctx.as_of)}: no rule breached, nothing missing and nothing to review.",
            srcs,
        )
    order = {o: i for i, o in enumerate(checks.OUTCOMES)}
    ordered = sorted(found, key=lambda f: (f.check_name, order[f.outcome], f.pcn or "", f.code))
    rows = []
    last = None
    for f in ordered:
        rows.append(
            (
                f.check_name if f.check_name != last else "",
                f.outcome_label,
                f"{f.name} ({f.code})",
                f.text,
            )
        )
        last = f.check_name
    return Table(
        f"Configuration check findings for {ctx.name} ({ctx.code}) at {long_date(ctx.as_of)}, "
        "by check",
        (Column("Check"), Column("Outcome"), Column("Organisation"), Column("Finding")),
        tuple(rows),
        srcs,
        notes=(
            "Key to the outcomes:",
            *(f"{checks.OUTCOME_LABELS[o]}: {checks.OUTCOME_HELP[o]}" for o in checks.OUTCOMES),
        ),
    )


def _area(ctx: PackContext, out: Section) -> None:
    h = ctx.hierarchy
    result = checks.run_checks(ctx.session, ctx.as_of, ctx.code)
    places = [p for p in h.descendants(ctx.org, kinds.PLACE)] if ctx.org.kind != kinds.PLACE else []
    if not result.pcns:
        out.add(
            Paragraph(
                f"{ctx.name} had no open PCN on {long_date(ctx.as_of)} in the registry, and "
                f"{result.practices} open practice{'' if result.practices == 1 else 's'}."
            )
        )
    else:
        table, total = _pcn_table(ctx, result, bool(places))
        place_words = (
            f" in {len(places)} place{'' if len(places) == 1 else 's'} "
            f"({', '.join(sorted(h.name(p) for p in places))})"
            if places
            else ""
        )
        out.add(
            Paragraph(
                f"On {long_date(ctx.as_of)} {ctx.name} had {count(len(result.pcns))} PCNs"
                f"{place_words}, with {count(result.practices)} open practices and "
                f"{_patients(total)} registered patients ({total.dated}). "
                f"Configuration check: {result.summary()}.",
                table.sources,
            ),
            table,
        )
    practices = h.descendants(ctx.org, kinds.PRACTICE)
    srcs = registry_sources(ctx.session, practices, ctx.as_of, None)
    out.add(_findings_table(ctx, result.findings, srcs))


def _pcn(ctx: PackContext, out: Section) -> None:
    h = ctx.hierarchy
    result = checks.run_checks(ctx.session, ctx.as_of, ctx.code)
    members = h.members(ctx.org, kinds.PRACTICE)
    open_members = [m for m in members if is_open(m, ctx.as_of)]
    reg = h.area_patients(open_members)
    line = next((p for p in result.pcns if p.code == ctx.code), None)
    status = line.status if line else "not open at this date"
    srcs = registry_sources(ctx.session, members, ctx.as_of, reg)
    place = h.parent(ctx.org, kinds.PLACE)
    out.add(
        Paragraph(
            f"On {long_date(ctx.as_of)} {ctx.name} ({ctx.code})"
            + (f", in {h.name(place)}," if place else "")
            + f" had {count(len(open_members))} open member practices and {_patients(reg)} "
            f"registered patients ({reg.dated}): {status} ({RANGE_WORDS}).",
            srcs,
        )
    )
    if members:
        patients = h.patients()
        rows = []
        for m in sorted(members, key=lambda o: (h.name(o), o.code)):
            f = patients.get(m.code)
            rows.append(
                (
                    _org_words(h, m),
                    count(int(f.value)) if f else not_calculated("no list held"),
                    long_date(f.as_of) if f else "–",
                    "open" if is_open(m, ctx.as_of) else "closed",
                )
            )
        out.add(
            Table(
                f"Member practices of {ctx.name} ({ctx.code}) at {long_date(ctx.as_of)}",
                (
                    Column("Practice"),
                    Column("Registered patients", numeric=True),
                    Column("List as at"),
                    Column("Status"),
                ),
                tuple(rows),
                srcs,
                notes=("A closed practice still listed as a member is a configuration finding.",),
            )
        )
    else:
        out.add(Paragraph(f"The registry holds no member practice of {ctx.name} on this date."))
    out.add(_findings_table(ctx, result.findings, srcs))


def _practice(ctx: PackContext, out: Section) -> None:
    h = ctx.hierarchy
    pcn = h.parent(ctx.org, kinds.PCN)
    figure = h.patients().get(ctx.code)
    lists = AreaList("registered", figure.value if figure else 0, 1)
    if figure:
        lists.by_source = {figure.title: 1}
    srcs = registry_sources(ctx.session, [ctx.org], ctx.as_of, lists if figure else None)
    listed = (
        f"{count(int(figure.value))} registered patients (as at {long_date(figure.as_of)})"
        if figure
        else "no registered list held"
    )
    where = (
        f"a member of {_org_words(h, pcn)}"
        if pcn
        else "in no PCN (a configuration finding: every practice should be in one)"
    )
    out.add(
        Paragraph(
            f"On {long_date(ctx.as_of)} {ctx.name} ({ctx.code}) was {where}, with {listed}.", srcs
        )
    )
    if pcn is None:
        out.add(
            Paragraph(
                f"The configuration check's finding for {ctx.name} is that it is in no PCN "
                f"({checks.CHECK_NAMES['coverage']}: {checks.OUTCOME_LABELS[checks.BREACH]}).",
                srcs,
            )
        )
        return
    found = [
        f
        for f in checks.run_checks(ctx.session, ctx.as_of, pcn.code).findings
        if f.code in (ctx.code, pcn.code)
    ]
    out.add(_findings_table(ctx, found, srcs))


def section(ctx: PackContext) -> Section:
    """The organisation's structure and the configuration check's findings at the pack's date."""
    out = Section("structure", "Structure and configuration")
    if ctx.org.kind == kinds.PRACTICE:
        _practice(ctx, out)
    elif ctx.org.kind == kinds.PCN:
        _pcn(ctx, out)
    else:
        _area(ctx, out)
    return out
