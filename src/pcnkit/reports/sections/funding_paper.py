"""The Network Contract DES funding paper: the shape of "Primary Care Network Development in
Havering" (July 2019), whose per-PCN table of the 2019/20 streams pcnkit reproduces.

Four sections read one set of inputs (`_paper`, worked out once per pack): the contract year's
rules (with the user's scenario, if given), the populations (the registry's lists, or the
user's list-sizes CSV) and the entitlement lines of the organisation's PCNs. Every figure is an
engine's: amounts from `funding.entitlements`, place and grand totals from `exact_totals` (the
unrounded amounts summed and rounded once, as the published table's totals are), payments from
`funding.schedule`, ARRS from `funding.arrs`, the ledger from `funding.reconcile.as_at`, and
the published figures explained by `funding.reconcile.reconcile`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from pcnkit.dates import add_months
from pcnkit.errors import PcnkitError
from pcnkit.funding import arrs, ledger
from pcnkit.funding import schedule as payments_of
from pcnkit.funding.entitlements import (
    EntitlementLine,
    Total,
    entitlements,
    exact_totals,
    total,
)
from pcnkit.funding.populations import (
    Populations,
    _source_titles,
    from_csv,
    from_registry,
    registry_names,
)
from pcnkit.funding.reconcile import as_at, as_at_totals, read_statement, reconcile
from pcnkit.funding.rules import STATUS_WORDS, Stream, YearRules, apply_scenario
from pcnkit.funding.sources import public
from pcnkit.funding.summary import unconfirmed
from pcnkit.registry import kinds
from pcnkit.reports.document import (
    Bullets,
    Column,
    Notice,
    Paragraph,
    Section,
    Source,
    Table,
    count,
    long_date,
    money,
    not_calculated,
)
from pcnkit.reports.packs import PackContext, note_unconfirmed
from pcnkit.reports.sections.funding import roster_label
from pcnkit.store.models import Organisation

NO_PLACE = "No place recorded"
NO_PAYMENT = "—"
BASIS_WORDS = {
    "registered": "registered list",
    "weighted": "weighted list",
    "adjusted": "PCN adjusted population",
    "beds": "care home beds",
    "fixed": "a fixed sum per payee",
}
VERDICT_WORDS = {
    "agrees": "the published figure is the engine's to the penny",
    "rounding": "a total of unrounded amounts, rounded once: pennies from the engine's",
    "rate": "another rate (the official one or the scenario's) gives the published figure",
    "population": "the published figure implies another population than the one used",
    "rate and population": "the published figure uses another rate and another population",
    "inconsistent": "the published table's own columns imply different lists for the PCN",
    "not calculated": "the engine cannot calculate the figure (it says why)",
}
# statement columns that name a row rather than hold a figure
LABEL_COLUMNS = {"pcn_code", "pcn_name", "name", "borough", "place", "stream", "amount"}


# ---------------------------------------------------------------------------------------------
# The inputs every section reads, worked out once


@dataclass
class _Pcn:
    code: str
    label: str  # "HAVERING CREST PCN (U29424)"
    place: str  # the place's name, or NO_PLACE


@dataclass
class _Paper:
    rules: YearRules  # the scenario's, when one is given (its `official` holds the DES's)
    pops: Populations
    lines: list[EntitlementLine]  # the organisation's PCNs' lines only
    pcns: list[_Pcn]  # in the paper's order: place, then PCN name
    streams: list[Stream]  # the year's streams that have lines, in the rules' order
    lists_words: str
    sources: tuple[Source, ...]

    def of(self, code: str, stream: str | None = None) -> list[EntitlementLine]:
        return [x for x in self.lines if x.pcn_code == code and stream in (None, x.stream)]

    def places(self) -> list[tuple[str, list[_Pcn]]]:
        out: dict[str, list[_Pcn]] = {}
        for p in self.pcns:
            out.setdefault(p.place, []).append(p)
        return list(out.items())


def _paper(ctx: PackContext) -> _Paper:
    found = ctx.memo.get("funding_paper")
    if found is None:
        found = ctx.memo["funding_paper"] = _read(ctx)
    assert isinstance(found, _Paper)
    return found


def _read(ctx: PackContext) -> _Paper:
    request, session = ctx.request, ctx.session
    rules = ctx.rules
    if request.scenario is not None:
        rules = apply_scenario(rules, request.scenario)
    h = ctx.hierarchy
    wanted = {p.code for p in h.pcns_in(ctx.org)}
    if request.lists is not None:
        title = f"the lists of {request.inputs_title}" if request.inputs_title else None
        pops = from_csv(
            request.lists, rules.start, rules.list_reference_date, registry_names(session), title
        )
    else:
        area = ctx.code if ctx.org.kind != kinds.NATION else None
        pops = from_registry(session, rules, area)
        # a PCN of the area during the year that the registry no longer shows on the date
        wanted |= {pcn for pcn, _code, _a, _b in pops.spans} if area else set()
    lines = [x for x in entitlements(pops, rules) if x.pcn_code in wanted]
    pcns = []
    for code in sorted(wanted):
        org = h.by_code.get(code)
        pcns.append(_pcn(ctx, org, code, pops))
    pcns.sort(key=lambda p: (p.place == NO_PLACE, p.place, p.label))
    present = {x.stream for x in lines}
    streams = [s for sid, s in rules.streams.items() if sid in present]
    words, sources = _lists(ctx, rules, pops, lines)
    sources = (_rules_source(rules), *sources)
    return _Paper(rules, pops, lines, pcns, streams, words, sources)


def _pcn(ctx: PackContext, org: Organisation | None, code: str, pops: Populations) -> _Pcn:
    if org is None:
        return _Pcn(code, f"{pops.pcn_names.get(code, code)} ({code})", NO_PLACE)
    place = ctx.hierarchy.parent(org, kinds.PLACE)
    return _Pcn(
        code,
        f"{ctx.hierarchy.name(org)} ({code})",
        ctx.hierarchy.name(place) if place is not None else NO_PLACE,
    )


def _rules_source(rules: YearRules) -> Source:
    detail = (
        f"version {rules.version}; each rate's public source is listed under 'Rates and what "
        "is not confirmed'"
    )
    if rules.scenario:
        detail += f"; with the scenario '{rules.scenario}'"
    return Source(
        f"Network Contract DES {rules.year}: rates as pcnkit's funding rules hold them", detail
    )


def _lists(
    ctx: PackContext, rules: YearRules, pops: Populations, lines: list[EntitlementLine]
) -> tuple[str, tuple[Source, ...]]:
    """Which lists the figures use, in words and as sources: the user's file (named, as it is
    their own), or the registry's publications with their dates."""
    reference = long_date(rules.list_reference_date)
    if ctx.request.lists is not None:
        paper = ctx.request.inputs_title
        if paper:
            return (
                f"Lists as in {paper}, derived from its published table (one row per PCN, "
                f"taken as at the {rules.year} list reference date, {reference}).",
                (Source(paper, f"lists derived from its table, as at {reference}"),),
            )
        name = ctx.request.lists.name
        return (
            f"Lists supplied by the user: {name} (one row per PCN, taken as at the {rules.year} "
            f"list reference date, {reference}).",
            (Source("Lists supplied by the user", f"{name}, as at {reference}"),),
        )
    pcns = {x.pcn_code for x in lines}
    practices = sorted({code for pcn, code, _a, _b in pops.spans if pcn in pcns})
    used: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    for basis in sorted({x.basis for x in lines}):
        for code in practices:
            p = pops.practices.get(code)
            if p is not None and basis in p.values:
                used[(p.sources[basis].title, basis)].add(p.dates[basis])
    sources = []
    parts = []
    for (title, basis), dates in sorted(used.items()):
        when = ", ".join(long_date(d) for d in sorted(dates))
        sources.append(Source(title, f"{BASIS_WORDS.get(basis, basis)}s at {when}"))
        parts.append(f"{BASIS_WORDS.get(basis, basis)}s at {when} ({title})")
    epcn = sorted(
        {t for name, t in _source_titles(ctx.session).items() if name.lower().startswith("epcn")}
    )
    for title in epcn:
        sources.append(Source(title, f"PCN membership on the first of each month of {rules.year}"))
    words = (
        f"Lists from the registry, at the {rules.year} list reference date ({reference}): "
        + ("; ".join(parts) if parts else "none held")
        + ". PCN membership is read on the first day of each month."
    )
    return words, tuple(sources)


# ---------------------------------------------------------------------------------------------
# Words shared by the sections


def _status_key(streams: list[Stream]) -> tuple[str, ...]:
    letters = sorted({s.status for s in streams})
    return tuple(f"[{x}]: {STATUS_WORDS[x]}" for x in letters)


def _heading(s: Stream) -> str:
    return f"{s.name} [{s.status}]"


def _unconfirmed(ctx: PackContext, paper: _Paper) -> list[Notice]:
    """A Notice naming the streams public sources do not confirm, each also on the cover."""
    found = unconfirmed(paper.lines)
    if not found:
        return []
    words = [f"{u.name} {paper.rules.year} ({u.words})" for u in found]
    note_unconfirmed(ctx, *words)
    return [
        Notice(
            "Not confirmed by public sources: "
            + "; ".join(words)
            + ". These figures are pcnkit's best reading of the rules and may change."
        )
    ]


def _scenario_notice(paper: _Paper) -> list[Notice]:
    rules = paper.rules
    if not rules.scenario or rules.official is None:
        return []
    changed = []
    for sid, s in rules.streams.items():
        o = rules.official.streams.get(sid)
        if o is not None and s != o:
            what = f"{s.name}: £{s.rate}" + (
                f" where the official rules say £{o.rate}" if s.rate != o.rate else ""
            )
            changed.append(what + (f" ({public(s.note)})" if s.note else ""))
    differences = [x.difference for x in paper.lines if x.difference is not None]
    by = sum(differences, Decimal(0))
    return [
        Notice(
            f"These figures use the scenario '{rules.scenario}', not the official "
            f"{rules.year} rules. It departs from them in: {'; '.join(changed)}. "
            + (
                f"At the official rates the figures would be {money(abs(by))} "
                f"{'higher' if by < 0 else 'lower'} in all."
                if by
                else "At the official rates the figures would be the same."
            ),
            kind="info",
        )
    ]


def _whose(ctx: PackContext) -> str:
    if ctx.org.kind == kinds.PCN:
        return f"{ctx.name} ({ctx.code})"
    return f"the PCNs of {ctx.name} ({ctx.code})"


class _Reasons:
    """Why figures could not be calculated, each said once under the table: a cell says
    "not calculated (a)" and the note "(a) …" gives the reason (a 2025/26 table would otherwise
    repeat one long reason in a hundred cells)."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def mark(self, reason: str) -> str:
        key = self.found.setdefault(reason, chr(ord("a") + len(self.found) % 26))
        return f"not calculated ({key})"

    def notes(self) -> tuple[str, ...]:
        return tuple(f"({k}) Not calculated: {why}." for why, k in self.found.items())


def _cell(t: Total, why: _Reasons | None = None) -> str:
    if t.amount is None:
        reason = "; ".join(t.gaps)
        return why.mark(reason) if why is not None else not_calculated(reason)
    return money(t.amount) + ("" if t.complete else " (incomplete)")


def _exact(lines: list[EntitlementLine], why: _Reasons | None = None) -> str:
    """A subtotal as the published table makes it: unrounded amounts summed, rounded once."""
    t = total(lines)
    if t.amount is None:
        reason = "; ".join(t.gaps) or "no figures"
        return why.mark(reason) if why is not None else not_calculated(reason)
    return money(exact_totals(lines)) + ("" if t.complete else " (incomplete)")


def _count_months(n: int) -> str:
    return "1 month" if n == 1 else f"{n} months"


def _population(value: Decimal) -> str:
    """A list as the engine used it: whole numbers without decimals, weighted lists in full."""
    if value == value.to_integral_value():
        return count(int(value))
    return f"{value.normalize():,f}"


def _months(first: dt.date, last: dt.date) -> str:
    return f"{first:%b %Y}" if first == last else f"{first:%b %Y} to {last:%b %Y}"


def _stream_words(text: str, rules: YearRules) -> str:
    """An engine's explanation with stream ids named as people know them."""
    for sid, s in sorted(rules.streams.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(sid, s.name)
    return text


# ---------------------------------------------------------------------------------------------
# Sections


def table(ctx: PackContext) -> Section:
    """Each PCN's streams (the paper's table), place subtotals and totals; then each line's
    rate and population; then ARRS reimbursement where the workspace holds a roster."""
    paper = _paper(ctx)
    section = Section("table", "Funding by PCN")
    section.add(
        Paragraph(
            f"Network Contract DES entitlement for {ctx.year} for {_whose(ctx)}, with the "
            f"registry's PCN membership as at {long_date(ctx.as_of)}. " + paper.lists_words,
            paper.sources,
        )
    )
    section.add(*_scenario_notice(paper), *_unconfirmed(ctx, paper))
    if not paper.pcns:
        section.add(Paragraph(f"{ctx.name} has no PCNs in the registry on {long_date(ctx.as_of)}."))
        return section
    section.add(_summary(ctx, paper), _detail(paper))
    section.add(*_arrs(ctx, paper))
    return section


def _summary(ctx: PackContext, paper: _Paper) -> Table:
    streams = paper.streams
    rows: list[tuple[str, ...]] = []
    bold: set[int] = set()
    places = paper.places()
    many = len(paper.pcns) > 1
    why = _Reasons()
    for place, pcns in places:
        mine: list[EntitlementLine] = []
        for p in pcns:
            lines = paper.of(p.code)
            mine += lines
            if not lines:
                reason = (
                    "the PCN is not in the lists supplied"
                    if ctx.request.lists is not None
                    else "no member practices in the year"
                )
                missing = why.mark(reason)
                rows.append((place, p.label, *[missing] * (len(streams) + 1)))
                continue
            rows.append(
                (
                    place,
                    p.label,
                    *[_cell(total(paper.of(p.code, s.id)), why) for s in streams],
                    _cell(total(lines), why),
                )
            )
        if many and len(places) > 1:
            bold.add(len(rows))
            rows.append(
                (
                    place,
                    f"{place} total",
                    *[_exact([x for x in mine if x.stream == s.id], why) for s in streams],
                    _exact(mine, why),
                )
            )
    if many:
        bold.add(len(rows))
        label = places[0][0] if len(places) == 1 and places[0][0] != NO_PLACE else ctx.name
        rows.append(
            (
                "",
                f"{label} total",
                *[_exact([x for x in paper.lines if x.stream == s.id], why) for s in streams],
                _exact(paper.lines, why),
            )
        )
    paid = total(paper.lines)
    notes = (
        *_status_key(streams),
        "Each PCN's figure is what it is paid: its lines, each rounded to the penny once. "
        "Place subtotals and totals add the unrounded amounts and round once, as the published "
        "table does, so they can differ by pennies from the sum of the figures above them"
        + (f" (the rounded lines add up to {money(paid.amount)})." if paid.amount else "."),
    )
    if not paid.complete:
        notes += ("Incomplete: a figure leaves out practices whose list is not held.",)
    notes += why.notes()
    return Table(
        f"Network Contract DES entitlement {ctx.year} by PCN"
        + (f" (scenario: {paper.rules.scenario})" if paper.rules.scenario else ""),
        (
            Column("Place"),
            Column("PCN"),
            *[Column(_heading(s), numeric=True) for s in streams],
            Column("Total", numeric=True),
        ),
        tuple(rows),
        paper.sources,
        notes,
        frozenset(bold),
    )


def _detail(paper: _Paper) -> Table:
    """One row per PCN, stream and run of months: the rate, the population the line used (the
    PCN's list on the stream's basis, summed over its practices' lines) and the amount."""
    rows = []
    why = _Reasons()
    for p in paper.pcns:
        for s in paper.streams:
            runs: dict[tuple[dt.date, dt.date], list[EntitlementLine]] = {}
            for x in paper.of(p.code, s.id):
                runs.setdefault((x.first_month, x.last_month), []).append(x)
            for (first, last), lines in sorted(runs.items()):
                rate = s.rate_text
                official = lines[0].official_rate
                if official is not None and official != lines[0].rate:
                    rate += f" (official rate £{official})"
                population = sum((x.population for x in lines), Decimal(0))
                used = lines[0].inputs.split(" (", 1)[0]
                rows.append(
                    (
                        p.place,
                        p.label,
                        _heading(s),
                        f"{_months(first, last)} ({_count_months(lines[0].months)})",
                        rate,
                        _population(population),
                        used,
                        _cell(total(lines), why),
                    )
                )
    return Table(
        f"How each figure is worked out, {paper.rules.year}: rate, population and months",
        (
            Column("Place"),
            Column("PCN"),
            Column("Stream"),
            Column("Months"),
            Column("Rate"),
            Column("Population used", numeric=True),
            Column("List and its date"),
            Column("Amount", numeric=True),
        ),
        tuple(rows),
        paper.sources,
        (
            *_status_key(paper.streams),
            "Amount = population x rate x months paid / months of the rate's period, rounded "
            "half-up to the penny once. A practice-level stream's population is the sum of its "
            "member practices' lists.",
            *why.notes(),
        ),
    )


def _arrs(ctx: PackContext, paper: _Paper) -> list:
    """ARRS reimbursement per PCN from the workspace's roster for the year (the paper's social
    prescriber and clinical pharmacist columns)."""
    rules = paper.rules
    path = ctx.ws.layout.arrs_roster(rules.year)
    if rules.arrs is None:
        return [Paragraph(f"pcnkit holds no ARRS rules for {rules.year}.")]
    if not path.exists():
        return [
            Paragraph(
                f"ARRS reimbursement is not shown: the workspace holds no ARRS staff roster for "
                f"{rules.year}. Load one (pcn_code, role, wte, start, end, annual_cost) to show "
                "what each PCN may reclaim."
            )
        ]
    try:
        staff = arrs.read_staff_csv(path)
    except PcnkitError as exc:
        shown = f"the {rules.year} ARRS roster"
        return [
            Notice(f"The ARRS staff roster cannot be read: {str(exc).replace(str(path), shown)}")
        ]
    label = roster_label(ctx, rules.year)
    roles = list(rules.arrs.roles.values())
    rows: list[tuple[str, ...]] = []
    bold: set[int] = set()
    unconfirmed_roles: set[str] = set()
    for place, pcns in paper.places():
        for p in pcns:
            try:
                result = arrs.reimbursement(rules, staff, p.code, paper.pops)
            except PcnkitError as exc:
                rows.append((place, p.label, *[not_calculated(str(exc))] * (len(roles) + 3)))
                continue
            if not result.confirmed:
                unconfirmed_roles.update(x.role_name for x in result.lines if not x.confirmed)
            by_role = {
                r.id: sum((x.claimable for x in result.lines if x.role == r.id), Decimal(0))
                for r in roles
            }
            rows.append(
                (
                    place,
                    p.label,
                    money(result.budget.amount, "a role maximum is not known"),
                    *[money(by_role[r.id]) for r in roles],
                    money(result.total),
                    money(result.headroom, "the budget is not known"),
                )
            )
    posts = sum(1 for s in staff if not s.planned and s.pcn_code in {p.code for p in paper.pcns})
    out: list = list(label)
    if unconfirmed_roles:
        words = [f"ARRS {rules.year}: {r}" for r in sorted(unconfirmed_roles)]
        note_unconfirmed(ctx, *words)
        out.append(Notice("Not confirmed by public sources: " + "; ".join(words) + "."))
    out.append(
        Table(
            f"ARRS {rules.year}: what each PCN may reclaim for its staff in post",
            (
                Column("Place"),
                Column("PCN"),
                Column("Budget", numeric=True),
                *[Column(f"{r.name} claimable", numeric=True) for r in roles],
                Column("Total claimable", numeric=True),
                Column("Headroom", numeric=True),
            ),
            tuple(rows),
            (
                *paper.sources,
                Source(
                    f"ARRS staff roster held in this workspace for {rules.year}",
                    f"{posts} posts in post",
                ),
                Source(public(rules.arrs.source), f"ARRS rules {rules.year}"),
            ),
            (
                "Claimable: each post's cost x the role's reimbursement rate, capped at the "
                "role's maximum per WTE, for the months in post on the first day, within the "
                "PCN's budget. Headroom: the budget less what is claimable (what the PCN "
                "forgoes if it does not recruit).",
                "The published table's social prescriber and clinical pharmacist columns were "
                "maxima for posts assumed in post, not claims; these are the roster's.",
            ),
            frozenset(bold),
        )
    )
    return out


def rates(ctx: PackContext) -> Section:
    """Each stream's rate, the population it is paid on, when it is paid, its confirmation
    status and its source; what is not confirmed."""
    paper = _paper(ctx)
    rules = paper.rules
    section = Section("rates", "Rates and what is not confirmed")
    scenario = rules.scenario and rules.official is not None
    rows = []
    for sid, s in rules.streams.items():
        official = rules.official.streams.get(sid) if scenario and rules.official else None
        row = [
            s.name,
            s.rate_text,
            f"{BASIS_WORDS.get(s.basis, s.basis)} at {long_date(s.list_reference_date)}"
            if s.basis not in ("fixed", "beds")
            else BASIS_WORDS.get(s.basis, s.basis),
            _paid(s),
            f"{s.status}: {STATUS_WORDS[s.status]}",
            public(s.source) + (f". {public(s.note)}" if s.note else ""),
        ]
        if scenario:
            row.insert(2, f"£{official.rate}" if official is not None else "")
        rows.append(tuple(row))
    columns = [
        Column("Stream"),
        Column("Rate"),
        Column("Basis and list date"),
        Column("Service months and payment"),
        Column("Status"),
        Column("Source of the rate"),
    ]
    if scenario:
        columns.insert(2, Column("Official rate"))
    section.add(*_scenario_notice(paper))
    found = [s for s in rules.streams.values() if not s.confirmed]
    if found:
        words = [f"{s.name} {rules.year} ({STATUS_WORDS[s.status]})" for s in found]
        note_unconfirmed(ctx, *words)
        section.add(
            Notice(
                "Not confirmed by public sources: "
                + "; ".join(words)
                + ". Every figure built on them is marked with its status letter."
            )
        )
    else:
        section.add(Paragraph(f"Every {rules.year} stream's rate is confirmed by public sources."))
    section.add(
        Table(
            f"Network Contract DES streams {rules.year}",
            tuple(columns),
            tuple(rows),
            (_rules_source(rules),),
            _status_key(list(rules.streams.values())),
        )
    )
    if rules.arrs is not None:
        a = rules.arrs
        role_rows = tuple(
            (
                r.name,
                f"{(r.reimbursement_rate * 100).normalize():f}% of cost",
                money(r.max_per_wte) if r.max_per_wte is not None else "none set",
                f"{r.status}: {STATUS_WORDS[r.status]}",
                public(r.source),
            )
            for r in a.roles.values()
        )
        unsure = [
            f"{r.name}'s maximum ("
            + ("none set" if r.max_per_wte is None else f"{r.status}: {STATUS_WORDS[r.status]}")
            + ")"
            for r in a.roles.values()
            if not r.confirmed
        ]
        if not a.confirmed:
            unsure.insert(0, f"the ARRS budget rule ({a.status}: {STATUS_WORDS[a.status]})")
        if unsure:
            words = [f"ARRS {rules.year}: {u}" for u in unsure]
            # the cover lists them in one line, not one per role
            note_unconfirmed(ctx, f"ARRS {rules.year}: " + "; ".join(unsure))
            section.add(Notice("Not confirmed by public sources: " + "; ".join(words) + "."))
        section.add(
            Table(
                f"ARRS roles {rules.year} ({_months(a.start, a.end)}, paid "
                f"{a.payment_lag} month(s) in arrears)",
                (
                    Column("Role"),
                    Column("Reimbursed"),
                    Column("Maximum per WTE a year", numeric=True),
                    Column("Status"),
                    Column("Source"),
                ),
                role_rows,
                (Source(public(a.source), f"ARRS rules {rules.year}"),),
                _status_key_letters(sorted({r.status for r in a.roles.values()} | {a.status}))
                + ((public(a.note),) if a.note else ()),
            )
        )
    return section


def _status_key_letters(letters: list[str]) -> tuple[str, ...]:
    return tuple(f"[{x}]: {STATUS_WORDS[x]}" for x in letters)


def _paid(s: Stream) -> str:
    first = add_months(max(s.start, s.first_payment), s.payment_lag)
    words = f"{_months(s.start, s.end)}; paid monthly"
    words += " in arrears" if s.payment_lag else ""
    words += f" from {first:%B %Y}"
    if s.first_payment > s.start:
        words += f" (the months from {s.start:%B %Y} paid together in the first payment)"
    return words


def schedule(ctx: PackContext) -> Section:
    """What is paid in each month, by stream, and what the ledger had paid by the date."""
    paper = _paper(ctx)
    rules = paper.rules
    section = Section("schedule", "Schedule of payments")
    payments = payments_of.schedule(paper.lines, rules)
    months = payments_of.monthly(payments)
    if not months:
        section.add(Paragraph(f"Nothing is scheduled for {ctx.name} in {rules.year}."))
        return section
    by_stream = {
        s.id: {
            m.payment_month: m.amount
            for m in payments_of.monthly([p for p in payments if p.stream == s.id])
        }
        for s in paper.streams
    }
    rows = []
    for m in months:
        rows.append(
            (
                f"{m.payment_month:%B %Y}",
                _months(m.service_months[0], m.service_months[-1]),
                *[
                    money(by_stream[s.id][m.payment_month])
                    if m.payment_month in by_stream[s.id]
                    else NO_PAYMENT
                    for s in paper.streams
                ],
                money(m.amount),
            )
        )
    why = _Reasons()
    rows.append(
        (
            f"{rules.year} total",
            "",
            *[
                _cell(total([x for x in paper.lines if x.stream == s.id]), why)
                for s in paper.streams
            ],
            _cell(total(paper.lines), why),
        )
    )
    section.add(
        Paragraph(
            f"When the {rules.year} entitlement of the PCNs of {ctx.name} is paid, month by "
            "month and stream by stream. Each month's payment of a line is the difference of "
            "its running total rounded to the penny, so the months add up to each line's "
            "amount exactly.",
        ),
        *_unconfirmed(ctx, paper),
        Table(
            f"Payments by month {rules.year}"
            + (f" (scenario: {rules.scenario})" if rules.scenario else ""),
            (
                Column("Paid by the end of"),
                Column("Covering"),
                *[Column(_heading(s), numeric=True) for s in paper.streams],
                Column("Total", numeric=True),
            ),
            tuple(rows),
            paper.sources,
            (
                *_status_key(paper.streams),
                f"{NO_PAYMENT}: nothing paid for that stream that month.",
                *why.notes(),
            ),
            frozenset({len(rows) - 1}),
        ),
    )
    section.add(*_ledger(ctx, paper))
    return section


def _ledger(ctx: PackContext, paper: _Paper) -> list:
    rules = paper.rules
    if not ledger.paid_to_date(ctx.session, rules.year):
        return [
            Paragraph(
                f"The workspace's payment ledger holds no payments for {rules.year}, so what has "
                "been paid is not shown (pcnkit's monthly payment runs record them)."
            )
        ]
    if ctx.request.lists is not None:
        return [
            Paragraph(
                "What the ledger has paid is not set against these figures: the ledger pays "
                "each practice on the registry's lists, and the lists supplied are one row per "
                "PCN, so their lines cannot be matched. Make the pack without lists to see it."
            )
        ]
    rows_as_at = as_at(ctx.session, paper.lines, rules, ctx.as_of)
    out: list = []
    if rules.scenario:
        out.append(
            Notice(
                "The ledger records what was paid at the official rates; the entitlement set "
                f"against it here uses the scenario '{rules.scenario}', so differences are "
                "expected.",
                kind="info",
            )
        )
    rows = []
    names = {s.id: s.name for s in rules.streams.values()}
    for sid in sorted({r.stream for r in rows_as_at}, key=lambda x: (x not in names, x)):
        mine = [r for r in rows_as_at if r.stream == sid]
        t = as_at_totals(mine)
        rows.append(
            (
                names.get(sid, sid.replace("_", " ")),
                money(t.entitlement) + ("" if t.complete else " (incomplete)"),
                money(t.due),
                money(t.paid),
                money(t.due - t.paid),
                money(t.outstanding),
            )
        )
    t = as_at_totals(rows_as_at)
    rows.append(
        (
            "Total",
            money(t.entitlement) + ("" if t.complete else " (incomplete)"),
            money(t.due),
            money(t.paid),
            money(t.due - t.paid),
            money(t.outstanding),
        )
    )
    out.append(
        Table(
            f"Due and paid as at {long_date(ctx.as_of)}, {rules.year}",
            (
                Column("Stream"),
                Column("Entitlement for the year", numeric=True),
                Column("Due by the date", numeric=True),
                Column("Paid by the date", numeric=True),
                Column("Due but not paid", numeric=True),
                Column("Still to pay for the year", numeric=True),
            ),
            tuple(rows),
            (
                *paper.sources,
                Source(
                    "Payment ledger held in this workspace",
                    f"payment months to {long_date(ctx.as_of)}",
                ),
            ),
            (
                "Due: scheduled in payment months up to the date. Paid: recorded in the ledger "
                "for those months. Due but not paid is negative where the ledger paid ahead.",
            ),
            frozenset({len(rows) - 1}),
        )
    )
    return out


def published(ctx: PackContext) -> Section:
    """Each published figure beside the engine's, the difference and why it differs."""
    paper = _paper(ctx)
    rules = paper.rules
    section = Section("published", "Against the published figures")
    path = ctx.request.statement
    if path is None:
        section.add(
            Paragraph(
                "No published figures were given for this paper, so none are set beside "
                "pcnkit's. A published paper's table can be set beside them, each difference "
                "explained, when its inputs are held (see Committee packs in pcnkit's help)."
            )
        )
        return section
    statement = read_statement(path, rules)
    codes = {p.code for p in paper.pcns}
    mine = [x for x in statement if x.pcn_code in codes]
    outside = len(statement) - len(mine)
    found = reconcile(paper.lines, mine, rules, alternatives=rules if rules.scenario else None)
    order = {p.code: i for i, p in enumerate(paper.pcns)}
    streams = list(rules.streams)
    found.sort(key=lambda e: (order.get(e.pcn_code, len(order)), streams.index(e.stream)))
    labels = {p.code: p.label for p in paper.pcns}
    names = {sid: s.name for sid, s in rules.streams.items()}
    paper_title = ctx.request.inputs_title
    source = (
        Source(paper_title, f"its published table, {len(mine)} figures")
        if paper_title
        else Source("Published figures supplied by the user", f"{path.name}, {len(mine)} figures")
    )
    rows = tuple(
        (
            labels.get(e.pcn_code, e.pcn_code),
            names[e.stream],
            money(e.published),
            money(e.calculated, "see the explanation"),
            money(e.difference, "see the explanation"),
            e.verdict,
            _stream_words(e.explanation, rules),
        )
        for e in found
    )
    agree = sum(1 for e in found if e.verdict == "agrees")
    summary = (
        f"{agree} of {len(found)} published figures for the PCNs of {ctx.name} agree with the "
        "engine's to the penny"
        + (
            f", using the scenario '{rules.scenario}'"
            if rules.scenario
            else ", at the official rates"
        )
        + (
            " and the registry's lists"
            if ctx.request.lists is None
            else f" and the lists of {paper_title}"
            if paper_title
            else f" and the lists supplied ({ctx.request.lists.name})"
        )
        + "."
    )
    if outside:
        summary += f" {outside} published figures for PCNs outside {ctx.name} are not shown."
    section.add(Paragraph(summary, (source, *paper.sources)))
    differ = [e for e in found if e.verdict != "agrees"]
    if differ:
        section.add(
            Bullets(
                tuple(
                    f"{labels.get(e.pcn_code, e.pcn_code)}, {names[e.stream]}: {e.verdict}. "
                    + _stream_words(e.explanation, rules)
                    for e in differ
                )
            )
        )
    ignored = _other_columns(path, rules)
    if ignored:
        section.add(
            Paragraph(
                f"The published columns {', '.join(c.replace('_', ' ') for c in ignored)} are "
                "not Network Contract DES "
                "entitlement streams and are not reconciled here (ARRS reimbursement is shown "
                "with the funding by PCN)."
            )
        )
    verdicts = sorted({e.verdict for e in found})
    section.add(
        Table(
            f"Published figures against the engine's, {rules.year}",
            _against_columns("PCN"),
            rows,
            (source, *paper.sources),
            (
                *(f"{v}: {VERDICT_WORDS.get(v, v)}" for v in verdicts),
                "Difference: published less the engine's.",
            ),
        )
    )
    section.add(*_place_totals(ctx, paper, found, source))
    return section


def _against_columns(first: str) -> tuple[Column, ...]:
    """The columns of a published-against-engine table (PCN figures, place subtotals)."""
    return (
        Column(first),
        Column("Stream"),
        Column("Published", numeric=True),
        Column("Engine", numeric=True),
        Column("Difference", numeric=True),
        Column("Verdict"),
        Column("Explanation"),
    )


def _place_key(name: str) -> str:
    """A place's name as papers and the registry both write it ("Barking & Dagenham" and
    "Barking and Dagenham" are one place)."""
    return " ".join(name.replace("&", " and ").casefold().split())


def _place_totals(ctx: PackContext, paper: _Paper, found, source: Source) -> list:
    """The paper's place subtotals beside the engine's (sums of unrounded amounts rounded once,
    as the paper makes them); a subtotal that differs is traced to the PCN figures inside it
    that the reconciliation explained."""
    path = ctx.request.totals
    if path is None:
        return []
    rules = paper.rules
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    places = {_place_key(place): (place, pcns) for place, pcns in paper.places()}
    names = {sid: s.name for sid, s in rules.streams.items()}
    by_row = {(e.pcn_code, e.stream): e for e in found}
    labels = {p.code: p.label for p in paper.pcns}
    out_rows, agree, differ = [], 0, []
    for r in rows:
        label = (r.get("borough") or r.get("place") or "").strip()
        match = places.get(_place_key(label))
        if match is None:
            continue
        place, pcns = match
        codes = {p.code for p in pcns}
        for sid in rules.streams:
            raw = (r.get(sid) or "").strip()
            if not raw:
                continue
            published_total = Decimal(raw.replace(",", ""))
            lines = [x for x in paper.lines if x.pcn_code in codes and x.stream == sid]
            t = total(lines)
            ours = exact_totals(lines) if t.amount is not None else None
            gap = None if ours is None else published_total - ours
            inside = [by_row[(c, sid)] for c in sorted(codes) if (c, sid) in by_row
                      and by_row[(c, sid)].verdict != "agrees"]  # fmt: skip
            if gap == 0:
                verdict, why = "agrees", "The published subtotal agrees to the penny."
                agree += 1
            elif inside and gap is not None:
                traced = sum((e.difference or Decimal(0) for e in inside), Decimal(0))
                verdict = "explained" if abs(gap - traced) <= Decimal("0.01") else "differs"
                why = (
                    "It includes "
                    + "; ".join(
                        f"{labels.get(e.pcn_code, e.pcn_code)}'s figure ({e.verdict})"
                        for e in inside
                    )
                    + f", whose differences add up to {money(traced)}"
                    + (" (within a penny of rounding)." if verdict == "explained" else ".")
                )
                differ.append(f"{place}, {names[sid]}: {why}")
            else:
                verdict, why = "differs", "Not traced to a PCN figure."
                differ.append(f"{place}, {names[sid]}: {why}")
            out_rows.append((place, names[sid], money(published_total),
                             money(ours, "; ".join(t.gaps)), money(gap, "not known"), verdict,
                             why))  # fmt: skip
    if not out_rows:
        return [Paragraph(f"The published subtotals name no place of {ctx.name}.")]
    blocks: list = [
        Paragraph(
            f"{agree} of {len(out_rows)} published place subtotals agree with the engine's to "
            "the penny (unrounded amounts added and rounded once, as the paper adds them)."
            + (" The others are traced to the PCN figures above:" if differ else "")
        )
    ]
    if differ:
        blocks.append(Bullets(tuple(differ)))
    blocks.append(
        Table(
            f"Published place subtotals against the engine's, {rules.year}",
            _against_columns("Place"),
            tuple(out_rows),
            (Source(source.title, "its place subtotals"), *paper.sources),
            (
                "agrees: the published subtotal is the engine's to the penny.",
                "differs: the difference is not traced to a PCN figure.",
                "explained: the subtotal differs by exactly the PCN figures in it that the "
                "reconciliation explains (to within a penny of rounding).",
                "Difference: published less the engine's.",
            ),
        )
    )
    return blocks


def _other_columns(path, rules: YearRules) -> list[str]:
    """The statement's figure columns that are not streams (e.g. ARRS maxima)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    if "stream" in {h.strip().lower() for h in header}:
        return []
    return [
        h.strip()
        for h in header
        if h.strip().lower() not in LABEL_COLUMNS and h.strip().lower() not in rules.streams
    ]
