"""The PCN pack's "Member practices": who the PCN is on the pack's date, as the organisation
page and `pcnkit registry show` describe it (`registry.profile.describe`,
`queries.members_over_time`, `queries.roles_at`): each practice with its registered list and
its date, when it joined, and the PCN's clinical director and nominated payee."""

from __future__ import annotations

import re

from pcnkit.registry import kinds, profile, queries
from pcnkit.registry import sources as publications
from pcnkit.reports.document import (
    Column,
    Notice,
    Paragraph,
    Section,
    Source,
    Table,
    count,
    long_date,
    not_calculated,
)
from pcnkit.reports.packs import PackContext
from pcnkit.store.models import SourceFile

_ROW = re.compile(r",\s*rows?\s+\d+(?:-\d+)?$")


def _evidence(basis: str) -> list[str]:
    """The publications a membership's evidence cites, without their row numbers."""
    return [_ROW.sub("", part.strip()) for part in basis.split("; ") if part.strip()]


def section(ctx: PackContext) -> Section:
    """'Member practices': the PCN's practices at `ctx.as_of`, their lists and joining dates,
    and its clinical director(s) and nominated payee where the registry holds them."""
    out = Section("members", "Member practices")
    when = long_date(ctx.as_of)
    p = profile.describe(ctx.session, ctx.code, ctx.as_of)
    practices = [m for m in p.members if ctx.hierarchy.by_code.get(m.code) is not None
                 and ctx.hierarchy.by_code[m.code].kind == kinds.PRACTICE]  # fmt: skip
    spells = {
        s.organisation.code: s
        for s in queries.members_over_time(ctx.session, ctx.code, ctx.as_of)
        if s.current
    }
    out.add(_roles(ctx, p))
    if not practices:
        return out.add(Paragraph(p.empty_state or f"{ctx.name} had no member practices on {when}."))
    rows = []
    list_sources: dict[str, set] = {}
    evidence: set[str] = set()
    averaged = False
    for m in sorted(practices, key=lambda m: (m.name, m.code)):
        f = m.registered
        spell = spells.get(m.code)
        if spell is not None and _evidence(spell.basis):
            # the first evidence is the statement that set the membership (the registry's
            # timeline lists the dated or earliest source first, then those that agree)
            evidence.add(_evidence(spell.basis)[0])
        joined = long_date(spell.start) if spell and spell.start else "not known"
        if f is None:
            size, dated = not_calculated("no list held on or before this date"), ""
        else:
            size = count(int(f.value)) + (" (quarter average)" if f.average else "")
            averaged = averaged or f.average
            dated = long_date(f.as_of)
            list_sources.setdefault(f.title or f.source, set()).add(f.as_of)
        rows.append((m.code, m.name, size, dated, joined))
    t = p.total
    if t is not None:
        missing = f"; no list for {', '.join(t.missing)}" if t.missing else ""
        rows.append(
            (
                "",
                f"All {count(len(practices))} practices",
                count(int(t.total)),
                t.dated.removeprefix("as at ") + missing,
                "",
            )
        )
    sources = [
        Source(title, "registered patients at " + ", ".join(long_date(d) for d in sorted(days)))
        for title, days in sorted(list_sources.items())
    ]
    sources += [Source(title, "PCN membership") for title in sorted(evidence)]
    notes = [
        "Registered patients: each practice's latest count on or before the pack's date (the "
        "organisation page's figure); the funding sections use the lists at the contract year's "
        "reference date instead.",
        "In the PCN since: the start of the membership that covers the pack's date, as the "
        "source that set it says (other sources that agree are on the organisation page); "
        "'not known' when no source dates it.",
    ]
    if averaged:
        notes.append(
            "Quarter average: NHS Payments to General Practice gives a list averaged over a "
            "quarter, rounded to whole patients, used only where no count is held."
        )
    out.add(
        Table(
            f"Member practices of {ctx.name} ({ctx.code}) on {when}",
            (
                Column("Code"),
                Column("Practice"),
                Column("Registered patients", numeric=True),
                Column("List as at"),
                Column("In the PCN since"),
            ),
            tuple(rows),
            tuple(sources),
            tuple(notes),
            frozenset({len(rows) - 1}) if t is not None else frozenset(),
        )
    )
    if t is not None and t.mixed:
        out.add(
            Notice(
                f"The PCN's total adds lists of different dates ({t.dated}): {t.source_text}.",
                "info",
            )
        )
    return out


def _roles(ctx: PackContext, p: profile.Profile) -> Paragraph:
    """The clinical director(s) and nominated payee on the date, or that none is recorded."""
    found = queries.roles_at(ctx.session, [ctx.org.id], ctx.as_of).get(ctx.org.id, [])
    directors = sorted(r.holder for r in found if r.role == "clinical_director")
    payees = sorted(
        {
            _payee(ctx, r.payee_id) or r.holder
            for r in found
            if r.role == "nominated_payee" and (r.payee_id or r.holder)
        }
    )
    titles = sorted(
        {
            publications.title(source)
            for r in found
            if (source := ctx.session.get(SourceFile, r.source_id)) is not None
        }
    )
    when = long_date(ctx.as_of)
    parts = [
        (
            f"Clinical director{'s' if len(directors) > 1 else ''}: {' and '.join(directors)}."
            if directors
            else f"The registry records no clinical director on {when}."
        ),
        (
            f"Nominated payee: {' and '.join(payees)}."
            if payees
            else f"The registry records no nominated payee on {when} (the DES payments are "
            "shown against the PCN code)."
        ),
    ]
    return Paragraph(" ".join(parts), tuple(Source(t, f"PCN roles on {when}") for t in titles))


def _payee(ctx: PackContext, payee_id: int | None) -> str | None:
    if payee_id is None:
        return None
    org = ctx.hierarchy.orgs.get(payee_id)
    return f"{ctx.hierarchy.name(org)} ({org.code})" if org is not None else None
