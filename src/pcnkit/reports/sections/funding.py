"""Funding sections: the Network Contract DES entitlement for the contract year, what the
ledger shows paid by the pack's date, and (in the PCN pack) the payment schedule and the ARRS
budget and headroom.

Every figure comes from `pcnkit.funding`, called exactly as `pcnkit funding entitlements` and
the web funding page call it: `from_registry`, `entitlements`, `summary.group_totals` and
`unconfirmed`, `reconcile.as_at`/`as_at_totals`, `schedule`/`monthly`, `arrs.budget` and
`arrs.reimbursement`. This module only chooses the organisation's lines, groups them for a
table and writes them with `document.money`; a line whose input is not loaded says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pcnkit.dates import contract_year
from pcnkit.errors import PcnkitError
from pcnkit.funding import arrs, ledger
from pcnkit.funding.entitlements import (
    INPUT_NAMES,
    STALE_AFTER_DAYS,
    EntitlementLine,
    Total,
    entitlements,
    total,
)
from pcnkit.funding.export import rules_title
from pcnkit.funding.populations import Populations, from_registry
from pcnkit.funding.reconcile import AsAt, as_at, as_at_totals
from pcnkit.funding.rules import STATUS_WORDS, Stream, YearRules
from pcnkit.funding.schedule import monthly, schedule
from pcnkit.funding.sources import public
from pcnkit.funding.summary import GroupTotal, group_totals, unconfirmed
from pcnkit.registry import kinds, queries
from pcnkit.reports.document import (
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
from pcnkit.reports.packs import PackContext, note_illustrative, note_unconfirmed

LEDGER = "Payments recorded in this workspace's payment ledger"
ROSTER = "The PCN's ARRS staff roster held in this workspace"
# the publications that give practice lists at 1 January, to name when none are held
LIST_PUBLICATIONS = (
    "NHS Digital: Patients Registered at a GP Practice (January), or the Quality and Outcomes "
    "Framework practice list sizes at 1 January"
)


@dataclass
class Funding:
    """The organisation's entitlement lines for the year and the ledger against them."""

    rules: YearRules
    pops: Populations | None
    lines: list[EntitlementLine]
    paid: list[AsAt]
    problem: str | None = None  # why nothing could be worked out
    ledger: bool = True  # the ledger holds payments for the year


def _load(ctx: PackContext) -> Funding:
    """The lines of `ctx.org` for the contract year (remembered on the context: the funding and
    ARRS tables of one pack share them). A practice's lines are its own, from the PCN(s) it
    belonged to in the year, as the web funding page chooses them."""
    key = f"funding:{ctx.year}:{ctx.code}"
    found = ctx.memo.get(key)
    if isinstance(found, Funding):
        return found
    rules, org = ctx.rules, ctx.org
    try:
        if org.kind == kinds.PRACTICE:
            pops, lines = None, []
            for pcn in queries.pcns_during(ctx.session, org, contract_year(rules.start)):
                p = from_registry(ctx.session, rules, pcn)
                lines += [x for x in entitlements(p, rules) if x.practice_code == org.code]
                pops = pops or p
        else:
            pops = from_registry(ctx.session, rules, org.code)
            lines = entitlements(pops, rules)
    except PcnkitError as exc:
        result = Funding(rules, None, [], [], str(exc))
    else:
        paid = as_at(ctx.session, lines, rules, ctx.as_of) if lines else []
        held = bool(ledger.paid_to_date(ctx.session, rules.year))
        result = Funding(rules, pops, lines, paid, ledger=held)
    ctx.memo[key] = result
    return result


# --- the words for a figure -----------------------------------------------------------------


def _amount(t: Total) -> str:
    """A total as the pack writes it: not calculated (and why), or the amount, marked when it
    leaves something out."""
    if t.amount is None:
        return not_calculated(_why(t))
    return money(t.amount) + ("" if t.complete else " (incomplete)")


def _why(t: Total) -> str:
    reasons = [g.split(": ", 1)[-1].replace("cannot be calculated, ", "") for g in t.gaps]
    return "; ".join(dict.fromkeys(reasons)) or "no line could be calculated"


def _population(value: Decimal) -> str:
    if value == value.to_integral_value():
        return count(int(value))
    return f"{value:,.2f}"


def _month_span(first: dt.date, last: dt.date) -> str:
    return f"{first:%b %Y}" + ("" if first == last else f" to {last:%b %Y}")


# --- sources and notices --------------------------------------------------------------------


def _rules_source(rules: YearRules, streams: list[Stream]) -> Source:
    cited = sorted({public(s.source) for s in streams})
    return Source(rules_title(rules), "rates and rules from: " + "; ".join(cited))


def _list_sources(f: Funding, basis: str | None = None) -> list[Source]:
    """The publications the lines' lists came from (those on `basis` only, when given), with
    their dates."""
    if f.pops is None:
        return []
    used = {(c, x.basis) for x in f.lines for c in _codes(f, x) if basis in (None, x.basis)}
    dates: dict[tuple[str, str], set[dt.date]] = {}
    for code, measure in sorted(used):
        p = f.pops.practices.get(code)
        if p is None or measure not in p.sources:
            continue
        dates.setdefault((p.sources[measure].title, measure), set()).add(p.dates[measure])
    out = []
    for (title, measure), days in sorted(dates.items()):
        span = ", ".join(long_date(d) for d in sorted(days))
        out.append(Source(title, f"{INPUT_NAMES.get(measure, measure)}s at {span}"))
    return out


def _codes(f: Funding, line: EntitlementLine) -> list[str]:
    if line.practice_code:
        return [line.practice_code]
    assert f.pops is not None
    members = f.pops.members.get(line.first_month, {})
    return members.get(line.pcn_code, [])


def _ledger_source(ctx: PackContext) -> Source:
    return Source(LEDGER, f"{ctx.year}, payment months up to {long_date(ctx.as_of)}")


def _status_notes(streams: list[Stream]) -> tuple[str, ...]:
    letters = sorted({s.status for s in streams})
    return tuple(f"Status {s}: {STATUS_WORDS[s]}." for s in letters)


def _unconfirmed_notice(ctx: PackContext, lines: list[EntitlementLine]) -> list[Notice]:
    found = unconfirmed(lines)
    if not found:
        return []
    words = [f"{u.name} ({u.status}: {u.words})" for u in found]
    note_unconfirmed(ctx, *(f"Funding {ctx.year}: {w}" for w in words))
    return [
        Notice(
            f"Not confirmed: {'; '.join(words)}. These streams use rates or rules that public "
            "sources do not confirm; check them before relying on the figures."
        )
    ]


def _gaps_notice(t: Total) -> list[Notice]:
    if not t.gaps:
        return []
    return [
        Notice(
            "Some figures cannot be calculated because their input is not loaded, so the totals "
            f"leave them out: {'; '.join(t.gaps)}. Load the missing figures to calculate them."
        )
    ]


def _whose_lists(ctx: PackContext) -> str:
    return ctx.name if ctx.org.kind == kinds.PRACTICE else f"{ctx.name}'s practices"


def _lists_missing(ctx: PackContext, f: Funding) -> Notice | None:
    """One notice when the workspace holds no list near the year's reference date for any of
    the organisation's practices: the engine (and the funding page) then works the year out on
    the latest lists it holds, and the reader must know the figures are not what is paid."""
    if f.pops is None or not f.pops.practices:
        return None
    ref = f.pops.reference_date
    held = [
        d for p in f.pops.practices.values() for m, d in p.dates.items() if m in INPUT_NAMES
    ]  # fmt: skip
    if any(0 <= (ref - d).days <= STALE_AFTER_DAYS for d in held):
        return None
    used = sorted({d for d in held if d <= ref})
    have = (
        f"so the figures below rest on the latest lists it holds before then "
        f"({long_date(used[-1])})"
        if used
        else "and none before it"
    )
    return Notice(
        f"The {ctx.year} entitlement is paid on practice lists at {long_date(ref)}. This "
        f"workspace holds none near that date for {_whose_lists(ctx)}, {have}: read them as "
        f"an estimate, not what NHS England pays. Loading the lists at {long_date(ref)} "
        f"({LIST_PUBLICATIONS}) makes them exact."
    )


def _stale_notice(f: Funding) -> list[Notice]:
    if f.pops is None:
        return []
    ref = f.pops.reference_date
    stale = sorted(
        code
        for code, p in f.pops.practices.items()
        if any((ref - d).days > STALE_AFTER_DAYS for d in p.dates.values())
    )
    if not stale:
        return []
    return [
        Notice(
            f"{len(stale)} practice list(s) are dated more than six months before "
            f"{long_date(ref)}, the date the year's lists are taken at ({', '.join(stale[:8])}"
            + (f" and {len(stale) - 8} more" if len(stale) > 8 else "")
            + "); their figures may differ from what is paid.",
            "info",
        )
    ]


# --- the assurance update's section -----------------------------------------------------------


def _streams(rules: YearRules, lines: list[EntitlementLine]) -> list[Stream]:
    used = {x.stream for x in lines}
    return [s for s in rules.streams.values() if s.id in used]


def _paid(f: Funding, keep: Callable[[AsAt], bool], t: Total | None = None) -> tuple[str, str]:
    """Due and paid by the date for the rows `keep` chooses; what is due on lines that cannot
    be calculated is not known (`t`, the same lines' total, says why)."""
    sums = as_at_totals([r for r in f.paid if keep(r)])
    due = not_calculated(_why(t)) if t is not None and t.amount is None else money(sums.due)
    return due, money(sums.paid)


def _stream_table(ctx: PackContext, f: Funding, rates: bool = False) -> Table:
    """Each stream's entitlement for the year, with what was due and paid by the pack's date."""
    streams = _streams(f.rules, f.lines)
    by_stream = group_totals(f.lines, lambda x: x.stream)
    when = long_date(ctx.as_of)
    columns = [Column("Stream"), Column("Status"), Column("Rate")]
    if rates:
        columns.append(Column("Population", numeric=True))
    columns += [
        Column(f"Entitlement {ctx.year}", numeric=True),
        Column(f"Due by {when}", numeric=True),
        Column(f"Paid by {when}", numeric=True),
    ]
    rows = []
    for s in streams:
        group = by_stream[s.id]
        row = [s.name, s.status, s.rate_text]
        if rates:
            row.append(_stream_population(group, s))
        row += [_amount(group.total), *_paid(f, lambda r, sid=s.id: r.stream == sid, group.total)]
        rows.append(tuple(row))
    known = {s.id for s in streams}
    for sid in sorted({r.stream for r in f.paid if r.stream not in known and r.paid}):
        name = next(r.stream_name for r in f.paid if r.stream == sid)
        row = [f"{name} (paid, not in the {ctx.year} rules)", "", ""]
        if rates:
            row.append("")
        row += ["none", *_paid(f, lambda r, sid=sid: r.stream == sid)]
        rows.append(tuple(row))
    grand = ["Total", "", ""] + ([""] if rates else [])
    rows.append((*grand, _amount(total(f.lines)), *_paid(f, lambda r: True)))
    notes = [
        *_status_notes(streams),
        "Entitlement: the whole year's amount, each line rounded to the penny once. Due: what "
        f"the payment schedule pays in months up to {when}."
        + (" Paid: what the ledger records for those months." if f.ledger else ""),
    ]
    if any(not t.complete for t in (g.total for g in by_stream.values())):
        notes.append("(incomplete): the amount leaves out what cannot be calculated (see above).")
    return _table(
        f,
        f"Network Contract DES entitlement {ctx.year} by stream: {ctx.name} ({ctx.code})",
        columns,
        rows,
        [_rules_source(f.rules, streams), *_list_sources(f), _ledger_source(ctx)],
        notes,
    )


def _stream_population(group: GroupTotal, s: Stream) -> str:
    """The population a PCN's stream is paid on: its lines' figure (one per run of months with
    unchanged membership), or, for a stream paid to practices, that it is each one's own."""
    if s.payee == "practice":
        practices = {x.practice_code for x in group.lines}
        return f"each practice's own {INPUT_NAMES[s.basis]} ({len(practices)} practices)"
    if s.basis == "fixed":
        return "a fixed sum"
    runs = sorted(
        {(x.first_month, x.last_month, x.population, x.amount is None) for x in group.lines}
    )
    if all(dead for *_, dead in runs):
        return not_calculated(f"{INPUT_NAMES[s.basis]} not loaded")
    if len({p for _, _, p, _ in runs}) == 1:
        return _population(runs[0][2])
    return "; ".join(f"{_population(p)} ({_month_span(a, b)})" for a, b, p, _ in runs)


def _place(ctx: PackContext, pcn_code: str) -> tuple[str, str]:
    """The place a PCN belongs to at the pack's date (else its CCG / sub-ICB), as the web
    funding page groups PCNs."""
    h = ctx.hierarchy
    pcn = h.by_code.get(pcn_code)
    if pcn is not None:
        for kind in (kinds.PLACE, kinds.SUB_ICB):
            parent = h.parent(pcn, kind)
            if parent is not None:
                return h.name(parent), parent.code
    return "No place recorded", ""


def _pcn_name(ctx: PackContext, line: EntitlementLine) -> str:
    pcn = ctx.hierarchy.by_code.get(line.pcn_code)
    return ctx.hierarchy.name(pcn) if pcn is not None else line.pcn_name


def _group_table(ctx: PackContext, f: Funding) -> Table | None:
    """The entitlement by place (an ICS or grouping) or by PCN (a place), stream by stream."""
    if ctx.org.kind in (kinds.PCN, kinds.PRACTICE):
        return None
    by_place = ctx.org.kind not in (kinds.PLACE, kinds.FEDERATION, kinds.SUB_ICB)

    def key(x: EntitlementLine) -> tuple[str, str]:
        return _place(ctx, x.pcn_code) if by_place else (_pcn_name(ctx, x), x.pcn_code)

    groups = group_totals(f.lines, key)
    if by_place and len(groups) < 2:
        by_place = False
        groups = group_totals(f.lines, lambda x: (_pcn_name(ctx, x), x.pcn_code))
    streams = _streams(f.rules, f.lines)
    label = "Place" if by_place else "PCN"
    columns = (
        Column(label),
        *(Column(s.name, numeric=True) for s in streams),
        Column(f"Total {ctx.year}", numeric=True),
        Column(f"Paid by {long_date(ctx.as_of)}", numeric=True),
    )
    rows = []
    for (name, code), group in sorted(groups.items()):
        pcns = group.pcns
        rows.append(
            (
                f"{name} ({code})" if code else name,
                *(_amount(group.stream(s.id)) for s in streams),
                _amount(group.total),
                _paid(f, lambda r, pcns=pcns: r.pcn_code in pcns)[1],
            )
        )
    rows.append(
        (
            f"{ctx.name} total",
            *(_amount(GroupTotal(f.lines).stream(s.id)) for s in streams),
            _amount(total(f.lines)),
            _paid(f, lambda r: True)[1],
        )
    )
    where = "place (borough) at " if by_place else "PCN, as at "
    notes = list(_status_notes(streams))
    if by_place:
        notes.append("Each PCN is counted in the place it belongs to at the pack's date.")
    return _table(
        f,
        f"Network Contract DES entitlement {ctx.year} by {where}{long_date(ctx.as_of)}",
        list(columns),
        rows,
        [_rules_source(f.rules, streams), *_list_sources(f), _ledger_source(ctx)],
        notes,
    )


def _table(f: Funding, caption: str, columns: list, rows: list, sources: list, notes: list):
    """A funding table whose last column is what the ledger paid, and whose last row is the
    total; without any ledger payments for the year that column is left out, and a note says
    why (rather than a column of £0.00)."""
    if not f.ledger:
        columns, rows = columns[:-1], [r[:-1] for r in rows]
        sources = [s for s in sources if s.title != LEDGER]
        notes = [*notes, f"The payment ledger records no payments for {f.rules.year}, so what was "
                 "paid is not shown."]  # fmt: skip
    return Table(
        caption,
        tuple(columns),
        tuple(tuple(r) for r in rows),
        tuple(sources),
        tuple(notes),
        frozenset({len(rows) - 1}),
    )


def section(ctx: PackContext) -> Section:
    """'Funding this year' (assurance update): the organisation's DES entitlement for the
    contract year by stream and by place or PCN, with the ledger's payments to the date."""
    out = Section("funding", "Funding this year")
    f = _load(ctx)
    out.add(
        Paragraph(
            f"The Network Contract DES entitlement of {ctx.name} ({ctx.code}) for the contract "
            f"year {ctx.year} ({f.rules.start:%B %Y} to {f.rules.end:%B %Y}), on the "
            f"practice lists at {long_date(f.rules.list_reference_date)} and PCN membership month "
            f"by month, with what the payment ledger records as paid by {long_date(ctx.as_of)}."
        )
    )
    if f.problem:
        return out.add(Notice(f"The {ctx.year} entitlement cannot be worked out: {f.problem}"))
    if not f.lines:
        return out.add(
            Paragraph(
                f"{ctx.name} has no Network Contract DES entitlement lines for {ctx.year}: "
                + (
                    "the DES pays its PCN, and none of the practice's own lines (paid to the "
                    "practice) were found for the year."
                    if ctx.org.kind == kinds.PRACTICE
                    else "none of its practices belonged to a PCN in that year."
                )
            )
        )
    missing = _lists_missing(ctx, f)
    if missing is not None:
        out.add(missing)
    if ctx.org.kind == kinds.PRACTICE:
        pcns = sorted({f"{_pcn_name(ctx, x)} ({x.pcn_code})" for x in f.lines})
        out.add(
            Paragraph(
                "Most of the DES is paid to the PCN; these are the streams paid to the practice "
                f"itself, through {' and '.join(pcns)}."
            )
        )
    t = total(f.lines)
    stale = [] if missing is not None else _stale_notice(f)  # said once, above
    out.add(*_unconfirmed_notice(ctx, f.lines), *_gaps_notice(t), *stale)
    out.add(_stream_table(ctx, f))
    grouped = _group_table(ctx, f)
    if grouped is not None:
        out.add(grouped)
    return out


# --- the PCN pack's section -----------------------------------------------------------------


def _schedule_table(ctx: PackContext, f: Funding) -> Table | Paragraph:
    months = monthly(schedule(f.lines, f.rules))
    if not months:
        return Paragraph(
            f"No payments are scheduled for {ctx.year}: no line of the year could be calculated."
        )
    when = long_date(ctx.as_of)
    rows = tuple(
        (
            f"{m.payment_month:%B %Y}",
            _month_span(m.service_months[0], m.service_months[-1]),
            money(m.amount),
            f"due by {when}" if m.payment_month <= ctx.as_of else "to come",
        )
        for m in months
    )
    streams = _streams(f.rules, f.lines)
    return Table(
        f"Schedule of DES payments {ctx.year}: {ctx.name} ({ctx.code})",
        (
            Column("Payment month"),
            Column("For service months"),
            Column("Amount", numeric=True),
            Column(f"At {when}"),
        ),
        rows,
        (_rules_source(f.rules, streams), *_list_sources(f)),
        (
            "Each stream is paid from its first payment month, catching up the months before it, "
            "then monthly, as the rules file sets out; lines that cannot be calculated are not "
            "scheduled.",
        ),
    )


_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH = re.compile(r"\b(\d{4})-(\d{2})\b")
_AMOUNT = re.compile(r"= (\d+\.\d+)\b")


def worded(text: str, rules: YearRules) -> str:
    """An engine's formula as a paper prints it: role names for role ids, dates in words,
    the result in pounds ("= 107884.5000" is "= £107,884.50")."""
    if rules.arrs is not None:
        for role in rules.arrs.roles.values():
            text = re.sub(rf"\b{re.escape(role.id)}\b", role.name.lower(), text)
    text = _DAY.sub(lambda m: long_date(dt.date(int(m[1]), int(m[2]), int(m[3]))), text)
    text = _MONTH.sub(lambda m: f"{dt.date(int(m[1]), int(m[2]), 1):%B %Y}", text)
    return _AMOUNT.sub(lambda m: "= " + money(Decimal(m[1])), text)


def roster_label(ctx: PackContext, year: str) -> list[Notice]:
    """The roster's own label when its posts are not real staff (the demo's illustrative
    posts): a Notice where its figures are shown, and the cover's list."""
    path = ctx.ws.layout.arrs_roster_label(year)
    if not path.is_file():
        return []
    words = " ".join(path.read_text(encoding="utf-8", errors="replace").split())[:400]
    if not words:
        return []
    note_illustrative(ctx, words)
    return [Notice(words)]


def _arrs_blocks(ctx: PackContext, f: Funding) -> list:
    """The PCN's ARRS budget, what its staff in post may claim and the headroom, from
    `arrs.budget` and `arrs.reimbursement` (with the year's roster when the workspace holds
    one; without, the engine's headroom for no staff, which is the whole budget)."""
    rules = f.rules
    if f.pops is None or rules.arrs is None:
        return [Paragraph(f"pcnkit holds no ARRS rules for {ctx.year}, so no budget is shown.")]
    path = ctx.ws.layout.arrs_roster(rules.year)
    try:
        staff = arrs.read_staff_csv(path) if path.exists() else []
        result = arrs.reimbursement(rules, staff, ctx.code, f.pops, include_planned=True)
    except PcnkitError as exc:
        shown = f"the {rules.year} ARRS roster"
        return [
            Notice(f"The ARRS figures cannot be worked out: {str(exc).replace(str(path), shown)}")
        ]
    b = result.budget
    mine = [s for s in staff if s.pcn_code.upper() == ctx.code]
    blocks: list = roster_label(ctx, rules.year) if mine else []
    if not path.exists() or not mine:
        blocks.append(
            Notice(
                f"No ARRS staff are recorded for {ctx.name} in {rules.year}"
                + ("" if path.exists() else " (the workspace holds no ARRS roster for the year)")
                + ": the whole budget is shown as headroom. Add the PCN's staff to the year's "
                "ARRS roster to see what they may claim.",
                "info",
            )
        )
    if not result.confirmed:
        words = f"ARRS {rules.year}: the budget or a role's maximum ({b.status}: " + (
            f"{STATUS_WORDS.get(b.status, b.status)})"
        )
        note_unconfirmed(ctx, words)
        blocks.append(
            Notice(
                f"Not confirmed: {words}. Some ARRS figures rest on rates public sources do not "
                "confirm; check them before relying on the headroom."
            )
        )
    why = "the budget is unknown: " + "; ".join(public(n) for n in b.notes) if b.notes else ""
    rows = [
        ("Budget: the most the PCN may reclaim in the year", money(b.amount, why or "unknown")),
        (
            "Claimable for staff in post",
            money(result.total) + ("" if result.lines else " (no staff recorded)"),
        ),
        ("Headroom: budget less claimable", money(result.headroom, why or "unknown budget")),
    ]
    if result.planned is not None and result.planned.lines:
        rows += [
            ("Planned recruits would add", money(result.planned.adds)),
            ("Headroom with planned recruits", money(result.planned.headroom, why or "unknown")),
        ]
    sources = [Source(rules_title(rules), "ARRS budget and role maxima from: " + public(b.source))]
    sources += _list_sources(f, b.population_basis)
    if mine:
        sources.append(Source(ROSTER, f"{rules.year}: {len(mine)} post(s) for {ctx.code}"))
    notes = [
        f"Budget: {worded(b.formula, rules)}.",
        f"Population: {worded(b.inputs, rules)}.",
        f"Status {b.status}: {STATUS_WORDS.get(b.status, b.status)}.",
        *(public(n) + "." for n in result.notes),
    ]
    if result.budget_capped:
        notes.append("The claims reach the budget: later months are cut to it.")
    blocks.append(
        Table(
            f"ARRS budget, claims and headroom {rules.year}: {ctx.name} ({ctx.code})",
            (Column("ARRS"), Column("Amount", numeric=True)),
            tuple(rows),
            tuple(sources),
            tuple(notes),
            frozenset({2}),
        )
    )
    lines = sorted(
        result.lines + (result.planned.lines if result.planned else []),
        key=lambda x: (x.planned, x.role_name, x.start, x.row or 0),
    )
    if lines:
        blocks.append(
            Table(
                f"ARRS roles recorded {rules.year}: {ctx.name} ({ctx.code})",
                (
                    Column("Role"),
                    Column("WTE", numeric=True),
                    Column("In post from"),
                    Column("Months claimed", numeric=True),
                    Column("Claimable", numeric=True),
                    Column("Status"),
                ),
                tuple(
                    (
                        x.role_name + (" (planned recruit)" if x.planned else ""),
                        f"{x.wte:g}",
                        long_date(x.start),
                        count(x.months),
                        money(x.claimable),
                        x.status,
                    )
                    for x in lines
                ),
                (
                    Source(ROSTER, f"{rules.year}: {len(mine)} post(s) for {ctx.code}"),
                    Source(rules_title(rules), "ARRS role rates and maxima"),
                ),
                (
                    "Claimable: the reimbursement rate times the post's cost, capped at the "
                    "role's maximum per WTE and the year's limits; a planned recruit's figure is "
                    "what it would claim beside the staff in post.",
                    *_status_notes_letters({x.status for x in lines}),
                ),
            )
        )
    return blocks


def _status_notes_letters(letters: set[str]) -> tuple[str, ...]:
    return tuple(f"Status {s}: {STATUS_WORDS.get(s, s)}." for s in sorted(letters))


def pcn_section(ctx: PackContext) -> Section:
    """'Funding and ARRS headroom' (PCN pack): the PCN's streams with rate, population, amount
    and status, the payment schedule by month, and its ARRS budget, claims and headroom."""
    out = Section("funding", "Funding and ARRS headroom")
    f = _load(ctx)
    out.add(
        Paragraph(
            f"What {ctx.name} ({ctx.code}) is owed under the Network Contract DES for "
            f"{ctx.year}, stream by stream, when it is paid, and its Additional Roles "
            f"Reimbursement Scheme budget against the staff recorded, as at {long_date(ctx.as_of)}."
        )
    )
    if f.problem:
        return out.add(Notice(f"The {ctx.year} entitlement cannot be worked out: {f.problem}"))
    if not f.lines:
        return out.add(
            Paragraph(f"{ctx.name} has no member practices in {ctx.year}, so no entitlement.")
        )
    missing = _lists_missing(ctx, f)
    if missing is not None:
        out.add(missing)
    t = total(f.lines)
    stale = [] if missing is not None else _stale_notice(f)  # said once, above
    out.add(*_unconfirmed_notice(ctx, f.lines), *_gaps_notice(t), *stale)
    out.add(_stream_table(ctx, f, rates=True))
    sums = as_at_totals(f.paid)
    if f.ledger:
        paid = (
            f"the ledger records {money(sums.paid)} paid; {money(sums.outstanding)} of the "
            "year's calculated entitlement was still to pay"
        )
    else:
        paid = f"the payment ledger records no payments for {ctx.year}"
    out.add(
        Paragraph(
            f"By {long_date(ctx.as_of)}, {money(sums.due)} was due under the schedule and {paid}.",
            (_ledger_source(ctx),),
        )
    )
    out.add(_schedule_table(ctx, f))
    out.add(*_arrs_blocks(ctx, f))
    return out
