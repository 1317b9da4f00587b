"""The assurance update's "Workforce": staff in post per 10,000 patients (GP, nurse, direct
patient care, admin, and the PCN's ARRS roles) for the organisation and its members, as the
assurance pages show them (`assurance.summary.tile` and `detail` on the pack's assurance
figures), and the ARRS roles in post from the contract year's roster where the workspace holds
one. Nothing is computed here: the values, periods and England comparators are the engine's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pcnkit.assurance import definitions, summary
from pcnkit.assurance.definitions import Indicator
from pcnkit.errors import PcnkitError
from pcnkit.funding import arrs
from pcnkit.provenance import Provenance
from pcnkit.registry import kinds
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
from pcnkit.reports.sections.funding import roster_label

# the workforce indicators, in the order a committee reads them
INDICATORS = (
    "workforce_gp_fte_per_10000",
    "workforce_nurse_fte_per_10000",
    "workforce_dpc_fte_per_10000",
    "workforce_admin_fte_per_10000",
    "arrs_fte_per_10000",
)
NONE_HELD = "none held"
ROSTER = "The PCN's ARRS staff roster held in this workspace"


def _value(value: float | None, reason: str | None = None) -> str:
    """A rate per 10,000 patients as the assurance pages round it (two places)."""
    if value is None:
        return not_calculated(reason or "no figure")
    return f"{value:,.2f}"


def _sources(provenance: list[Provenance]) -> list[Source]:
    """Each publication the figures were read from, once, with the rows read (when few) and
    the indicator definitions that used it."""
    rows: dict[str, dict[str, None]] = {}
    versions: dict[str, dict[str, None]] = {}
    for p in provenance:
        rows.setdefault(p.title, {})
        versions.setdefault(p.title, {})
        if p.rows:
            rows[p.title][p.rows] = None
        if p.version:
            versions[p.title][p.version] = None
    out = []
    for title in sorted(rows):
        found = list(rows[title])
        parts = []
        if found:
            parts.append(", ".join(found) if len(found) <= 3 else f"{len(found)} rows")
        if versions[title]:
            parts.append("definitions " + ", ".join(sorted(versions[title])))
        out.append(Source(title, "; ".join(parts)))
    return out


def _member_kind(ctx: PackContext) -> str | None:
    """What the organisation's members in the detail are: a PCN's practices, an area's PCNs."""
    if ctx.org.kind == kinds.PRACTICE:
        return None
    return kinds.PRACTICE if ctx.org.kind == kinds.PCN else kinds.PCN


def section(ctx: PackContext) -> Section:
    """'Workforce': the workforce indicators for the organisation and its members at the
    pack's date, with England where held, and the ARRS roles in post."""
    out = Section("workforce", "Workforce")
    when = long_date(ctx.as_of)
    out.add(
        Paragraph(
            f"Staff in post, full-time equivalent per 10,000 registered patients, for {ctx.name} "
            f"({ctx.code}): each indicator's latest figure on or before {when}, from the "
            "published workforce censuses, as the assurance pages show them."
        )
    )
    indicators = [definitions.get(i) for i in INDICATORS]
    details = {
        i.id: summary.detail(ctx.assurance, ctx.hierarchy, i, ctx.code, ctx.as_of)
        for i in indicators
    }
    rows, provenance, notes = [], [], []
    for i in indicators:
        t = details[i.id].tile
        f = t.figure
        if f is None or f.value is None:
            rows.append((i.title, _value(None, t.reason), "", "", ""))
            continue
        provenance += list(f.provenance)
        england = (
            _value(t.england.value)
            if t.england is not None and t.england.value is not None
            else NONE_HELD
        )
        versus = t.versus_england.label.replace("the benchmark", "England") if (
            t.versus_england
        ) else ""  # fmt: skip
        rows.append(
            (
                i.title,
                _value(f.value),
                summary.period_words(f),
                england + (f" ({versus})" if versus else ""),
                summary.coverage_words(f) or "",
            )
        )
        notes.append(f"{i.title}: {i.numerator.words} over {_denominator(i)}.")
    if not provenance:
        out.add(
            Paragraph(
                f"The workspace holds no workforce figures for {ctx.name} on or before {when}: "
                "load NHS Digital's General Practice Workforce and PCN workforce publications "
                "into pcnkit to show them."
            )
        )
    else:
        out.add(
            Table(
                f"Workforce per 10,000 patients: {ctx.name} ({ctx.code}), latest on or before "
                f"{when}",
                (
                    Column("Indicator"),
                    Column("Per 10,000 patients", numeric=True),
                    Column("Period"),
                    Column("England", numeric=True),
                    Column("Counted"),
                ),
                tuple(rows),
                tuple(_sources(provenance)),
                (
                    *notes,
                    f"England: NHS England's figure for the same period; '{NONE_HELD}' when the "
                    "workspace holds none.",
                    "Counted: how many member practices (or PCNs, for the PCN census) had a "
                    "figure; a practice with no return is left out of both sums.",
                ),
            )
        )
        members = _members_table(ctx, indicators, details)
        if members is not None:
            out.add(members)
    out.add(*_roster(ctx))
    return out


def _denominator(i: Indicator) -> str:
    return i.denominator.words.lower() if i.denominator else "patients"


def _members_table(ctx: PackContext, indicators: list[Indicator], details) -> Table | None:
    """The members' figures at each indicator's latest period (a PCN's practices, an area's
    PCNs), one column per indicator published for them."""
    kind = _member_kind(ctx)
    if kind is None:
        return None
    shown = [
        i
        for i in indicators
        if kind in i.levels and details[i.id].members and details[i.id].tile.figure is not None
    ]
    if not shown:
        return None
    names: dict[str, str] = {}
    values: dict[tuple[str, str], str] = {}
    provenance = []
    for i in shown:
        for m in details[i.id].members:
            names[m.figure.org] = m.name
            values[(m.figure.org, i.id)] = (
                _value(m.figure.value) if m.figure.value is not None else NONE_HELD
            )
            provenance += list(m.figure.provenance)
    columns = [Column("Practice" if kind == kinds.PRACTICE else "PCN")]
    for i in shown:
        f = details[i.id].tile.figure
        columns.append(Column(f"{i.short_title} ({summary.period_words(f)})", numeric=True))
    rows = tuple(
        (f"{names[code]} ({code})", *(values.get((code, i.id), NONE_HELD) for i in shown))
        for code in sorted(names, key=lambda c: (names[c], c))
    )
    who = "member practices" if kind == kinds.PRACTICE else "PCNs"
    return Table(
        f"Workforce per 10,000 patients by {who}: {ctx.name} ({ctx.code})",
        tuple(columns),
        rows,
        tuple(_sources(provenance)),
        (
            "Each column is the indicator's latest period for the organisation (in brackets), "
            "with its members as they were then.",
            f"'{NONE_HELD}': no figure for that period in the publications held.",
        ),
    )


def _pcns(ctx: PackContext) -> list[str]:
    h = ctx.hierarchy
    if ctx.org.kind == kinds.PCN:
        return [ctx.code]
    if ctx.org.kind == kinds.PRACTICE:
        pcn = h.parent(ctx.org, kinds.PCN)
        return [pcn.code] if pcn is not None else []
    return sorted(p.code for p in h.pcns_in(ctx.org))


def _roster(ctx: PackContext) -> list:
    """The ARRS roles in post on the pack's date, from the contract year's roster."""
    path = ctx.ws.layout.arrs_roster(ctx.year)
    if not path.exists():
        return [
            Paragraph(
                f"The workspace holds no ARRS staff roster for {ctx.year}, so the roles in post "
                "are not shown."
            )
        ]
    try:
        staff = arrs.read_staff_csv(path)
    except PcnkitError as exc:
        shown = f"the {ctx.year} ARRS roster"
        return [Notice(f"The ARRS roster cannot be read: {str(exc).replace(str(path), shown)}")]
    pcns = set(_pcns(ctx))
    day = dt.date(ctx.as_of.year, ctx.as_of.month, 1)
    mine = [s for s in staff if s.pcn_code.upper() in pcns and not s.planned and s.in_post(day)]
    planned = [s for s in staff if s.pcn_code.upper() in pcns and s.planned]
    if not mine:
        return [
            Paragraph(
                f"The {ctx.year} ARRS roster records no staff in post for {ctx.name} on "
                f"{long_date(day)}"
                + (f" ({count(len(planned))} planned recruit(s))." if planned else ".")
            )
        ]
    roles = ctx.rules.arrs.roles if ctx.rules.arrs else {}
    whose = f"{ctx.name} ({ctx.code})"
    if ctx.org.kind == kinds.PRACTICE:
        pcn = ctx.hierarchy.by_code[sorted(pcns)[0]]
        whose = f"{ctx.hierarchy.name(pcn)} ({pcn.code}), the PCN of {ctx.name}"
    by_role: dict[str, list[arrs.StaffMember]] = {}
    for s in mine:
        by_role.setdefault(s.role, []).append(s)
    rows = []
    for role, posts in sorted(by_role.items(), key=lambda kv: _role_name(roles, kv[0])):
        wte = sum((s.wte for s in posts), Decimal(0))
        rows.append((_role_name(roles, role), count(len(posts)), f"{wte:g}"))
    return [
        *roster_label(ctx, ctx.year),
        Table(
            f"ARRS roles in post on {long_date(day)}: {whose}",
            (Column("Role"), Column("Posts", numeric=True), Column("WTE", numeric=True)),
            tuple(rows),
            (Source(ROSTER, f"{ctx.year}: staff in post on {long_date(day)}"),),
            (
                "In post: on the roster with a start on or before the month's first day and no "
                "end before it (the ARRS engine's rule); planned recruits are not counted"
                + (f" ({count(len(planned))} recorded)." if planned else "."),
            ),
        ),
    ]


def _role_name(roles: dict, role: str) -> str:
    found = roles.get(role)
    return found.name if found is not None else role.replace("_", " ").capitalize()
