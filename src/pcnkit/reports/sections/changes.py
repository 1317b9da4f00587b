"""What has changed since the last pack: the registry (practices joining and leaving the
organisation's PCNs, PCNs opening and closing, practices closing or merging), each assurance
indicator's value then and now, and the practices newly on or no longer on the watch-list.
Both dates' answers come from the same engines as the rest of the pack."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pcnkit.assurance import summary, watchlist
from pcnkit.registry import kinds, queries
from pcnkit.registry.queries import Hierarchy
from pcnkit.reports.document import (
    Column,
    Paragraph,
    Section,
    Source,
    Table,
    long_date,
)
from pcnkit.reports.packs import PackContext
from pcnkit.reports.sections.assurance import (
    difference_words,
    publication_sources,
    tiles_at,
    value_words,
)
from pcnkit.reports.sections.structure import registry_sources
from pcnkit.reports.sections.watchlist import entries_at, flag_sources, practice_words
from pcnkit.store.models import Organisation, PracticeMerger

RULES_TITLE = "pcnkit's vulnerable-practice watch-list rules"
DIRECTION = {
    ("higher", 1): "better",
    ("higher", -1): "worse",
    ("lower", 1): "worse",
    ("lower", -1): "better",
}


def _previous(ctx: PackContext) -> dt.date:
    previous = ctx.request.previous_as_of
    if previous is None:  # packs.build always sets it when this section runs
        raise ValueError("the changes section needs the previous pack's date")
    return previous


def _previous_hierarchy(ctx: PackContext) -> Hierarchy:
    key = f"hierarchy-{_previous(ctx).isoformat()}"
    if key not in ctx.memo:
        ctx.memo[key] = Hierarchy.at(ctx.session, _previous(ctx))
    return ctx.memo[key]  # type: ignore[return-value]


def _in_window(day: dt.date | None, then: dt.date, now: dt.date) -> bool:
    return day is not None and then < day <= now


# --- the registry -----------------------------------------------------------------------------


def _pcns(h: Hierarchy, code: str) -> list[Organisation]:
    org = h.by_code.get(code)
    if org is None:
        return []
    if org.kind == kinds.PCN:
        return [org]
    if org.kind == kinds.PRACTICE:
        return h.parents_of(org, kinds.PCN)
    return h.pcns_in(org)


def _practices(h: Hierarchy, code: str) -> list[Organisation]:
    org = h.by_code.get(code)
    if org is None:
        return []
    if org.kind == kinds.PRACTICE:
        return [org]
    return h.descendants(org, kinds.PRACTICE)


def _spell_words(spell: queries.MemberSpell | None) -> str:
    return spell.basis if spell and spell.basis else "the registry's membership timeline"


def registry_changes(ctx: PackContext) -> Table | Paragraph:
    """Membership, PCN and practice changes between the two dates, from the registry."""
    then, now = _previous(ctx), ctx.as_of
    h_then, h_now = _previous_hierarchy(ctx), ctx.hierarchy
    rows: list[tuple[str, str, str, str]] = []
    involved: dict[str, Organisation] = {}
    pcns_then = {p.code: p for p in _pcns(h_then, ctx.code)}
    pcns_now = {p.code: p for p in _pcns(h_now, ctx.code)}
    for code in sorted(pcns_now.keys() - pcns_then.keys()):
        pcn = pcns_now[code]
        opened = _in_window(pcn.open_date, then, now)
        what = "PCN opened" if opened else "PCN now in the organisation"
        when = long_date(pcn.open_date) if opened and pcn.open_date else "between the dates"
        rows.append((what, f"{h_now.name(pcn)} ({code})", when, "the registry's organisations"))
    for code in sorted(pcns_then.keys() - pcns_now.keys()):
        pcn = pcns_then[code]
        closed = _in_window(pcn.close_date, then, now)
        what = "PCN closed" if closed else "PCN no longer in the organisation"
        when = long_date(pcn.close_date) if closed and pcn.close_date else "between the dates"
        rows.append((what, f"{h_then.name(pcn)} ({code})", when, "the registry's organisations"))
    for code in sorted(pcns_then.keys() | pcns_now.keys()):
        before = {o.code for o in h_then.members(pcns_then[code], kinds.PRACTICE)} if (
            code in pcns_then) else set()  # fmt: skip
        after = {o.code for o in h_now.members(pcns_now[code], kinds.PRACTICE)} if (
            code in pcns_now) else set()  # fmt: skip
        if before == after:
            continue
        spells = queries.members_over_time(ctx.session, code, now)
        pcn_name = h_now.name(pcns_now[code]) if code in pcns_now else h_then.name(pcns_then[code])
        for practice, joined in [(p, True) for p in sorted(after - before)] + [
            (p, False) for p in sorted(before - after)
        ]:
            mine = [s for s in spells if s.organisation.code == practice]
            if joined:
                spell = next((s for s in mine if _in_window(s.start, then, now)), None)
                when = long_date(spell.start) if spell and spell.start else "between the dates"
            else:
                spell = next((s for s in mine if s.end is not None and then <= s.end < now), None)
                when = long_date(spell.end) if spell and spell.end else "between the dates"
            h = h_now if joined else h_then
            org = h.by_code.get(practice)
            if org is not None:
                involved[practice] = org
            rows.append(
                (
                    f"Practice {'joined' if joined else 'left'} {pcn_name} ({code})",
                    practice_words(h, practice),
                    when,
                    _spell_words(spell),
                )
            )
    practices = {p.code: p for p in _practices(h_then, ctx.code) + _practices(h_now, ctx.code)}
    for code in sorted(practices):
        p = practices[code]
        if _in_window(p.close_date, then, now):
            involved[code] = p
            rows.append(
                (
                    "Practice closed",
                    practice_words(h_then, code),
                    long_date(p.close_date),  # type: ignore[arg-type]
                    "the registry's organisations (closing date)",
                )
            )
    ids = {p.id: p for p in practices.values()}
    if ids:
        mergers = ctx.session.scalars(
            select(PracticeMerger)
            .where(PracticeMerger.date > then, PracticeMerger.date <= now)
            .order_by(PracticeMerger.date, PracticeMerger.id)
        )
        for m in mergers:
            if m.practice_id not in ids and m.successor_id not in ids:
                continue
            old = ctx.session.get(Organisation, m.practice_id)
            new = ctx.session.get(Organisation, m.successor_id)
            if old is None or new is None:
                continue
            involved[old.code], involved[new.code] = old, new
            rows.append(
                (
                    "Practices merged",
                    f"{practice_words(h_then, old.code)} into {practice_words(h_now, new.code)}",
                    long_date(m.date),
                    m.note or "a recorded merger",
                )
            )
    srcs = registry_sources(
        ctx.session, sorted(involved.values(), key=lambda o: o.code), now, None
    ) or registry_sources(ctx.session, list(practices.values()), now, None)
    if not rows:
        return Paragraph(
            f"No registry change for {ctx.name} between {long_date(then)} and {long_date(now)}: "
            "the same PCNs and member practices on both dates, and no practice closed or "
            "merged.",
            srcs,
        )
    return Table(
        f"Registry changes for {ctx.name} ({ctx.code}) between {long_date(then)} and "
        f"{long_date(now)}",
        (Column("Change"), Column("Organisation"), Column("When"), Column("Evidence")),
        tuple(rows),
        srcs,
        notes=(
            "'Between the dates' where the registry holds no dated start or end for the "
            "change: it is seen only by comparing the two dates.",
        ),
    )


# --- the indicators ---------------------------------------------------------------------------


def direction_words(t_then: summary.Tile, t_now: summary.Tile) -> str:
    """Better, worse or the same, by the indicator's polarity, in words."""
    i = t_now.indicator
    a, b = t_then.figure, t_now.figure
    assert a is not None and b is not None and a.value is not None and b.value is not None
    if (a.start, a.end) == (b.start, b.end):
        return "no new figure since the last pack"
    change = b.value - a.value
    if round(change, 6) == 0:
        return "unchanged"
    sign = 1 if change > 0 else -1
    moved = "higher" if sign > 0 else "lower"
    if i.polarity == "neither":
        return f"{moved} ({difference_words(i, change)}; neither direction is better)"
    return f"{DIRECTION[(i.polarity, sign)]}: {moved} ({difference_words(i, change)})"


def _value_then(t: summary.Tile, then: dt.date) -> str:
    f = t.figure
    if f is None or f.value is None:
        why = t.reason or (f.reason if f else None) or "no value"
        return f"no figure then ({why} on {long_date(then)})"
    return f"{value_words(t.indicator, f.value)} ({summary.period_words(f)})"


def indicator_changes(ctx: PackContext) -> Table | Paragraph:
    then = _previous(ctx)
    before = {t.indicator.id: t for t in tiles_at(ctx, then)}
    rows = []
    used: list[summary.Tile] = []
    for t in tiles_at(ctx):
        if t.figure is None or t.figure.value is None:
            continue
        old = before.get(t.indicator.id)
        known_then = old is not None and old.figure is not None and old.figure.value is not None
        rows.append(
            (
                t.indicator.title,
                _value_then(old, then) if old else "no figure then (not defined then)",
                f"{value_words(t.indicator, t.figure.value)} ({summary.period_words(t.figure)})",
                direction_words(old, t) if known_then and old else "not compared: no figure then",
            )
        )
        used.append(t)
        if known_then and old:
            used.append(old)
    if not rows:
        return Paragraph(
            f"No assurance indicator has a figure for {ctx.name} on or before "
            f"{long_date(ctx.as_of)}, so there is no movement to show."
        )
    return Table(
        f"Assurance indicators for {ctx.name} ({ctx.code}): the latest figure on or before "
        f"{long_date(then)} and on or before {long_date(ctx.as_of)}",
        (
            Column("Indicator"),
            Column(f"At {long_date(then)}", numeric=True),
            Column(f"At {long_date(ctx.as_of)}", numeric=True),
            Column("Movement"),
        ),
        tuple(rows),
        publication_sources(used, ctx.name),
        notes=(
            "Better or worse by the indicator's direction (higher is better, or lower); where "
            "neither direction is better the movement is only higher or lower.",
            "'No new figure since the last pack': the latest publication held for both dates "
            "is the same period, so the value cannot have moved.",
            "'No figure then': the reason is the one the assurance engine gives for that date.",
        ),
    )


# --- the watch-list ---------------------------------------------------------------------------


def watchlist_changes(ctx: PackContext) -> Table | Paragraph:
    then = _previous(ctx)
    flagged_then = {e.practice: e for e in entries_at(ctx, then) if e.flags}
    flagged_now = {e.practice: e for e in entries_at(ctx) if e.flags}
    h = ctx.hierarchy
    rows = []
    flags: list[watchlist.Flag] = []
    for code in sorted(flagged_now.keys() - flagged_then.keys()):
        e = flagged_now[code]
        flags.extend(e.flags)
        rows.append(
            (
                practice_words(h, code),
                "newly on the watch-list",
                "–",
                "; ".join(f.label for f in e.flags),
            )
        )
    members_now = {o.code for o in _practices(h, ctx.code)}
    for code in sorted(flagged_then.keys() - flagged_now.keys()):
        e = flagged_then[code]
        flags.extend(e.flags)
        why = (
            "no longer on the watch-list"
            if code in members_now
            else "no longer on the watch-list: no longer one of the organisation's practices"
        )
        rows.append(
            (
                practice_words(_previous_hierarchy(ctx), code),
                why,
                "; ".join(f.label for f in e.flags),
                "–",
            )
        )
    still = len(flagged_now.keys() & flagged_then.keys())
    when = f"between {long_date(then)} and {long_date(ctx.as_of)}"
    if not rows:
        return Paragraph(
            f"No practice of {ctx.name} came onto or left the watch-list {when} "
            f"({still} practice{'' if still == 1 else 's'} flagged on both dates)."
        )
    return Table(
        f"Practices of {ctx.name} ({ctx.code}) newly on or no longer on the watch-list {when}",
        (Column("Practice"), Column("Change"), Column("Flags then"), Column("Flags now")),
        tuple(rows),
        flag_sources(ctx, flags) or (Source(RULES_TITLE, "the watch-list's criteria"),),
        notes=(
            f"{still} practice{'' if still == 1 else 's'} flagged on both dates (not listed).",
            "The evidence for each flag now is in the Vulnerable practices section.",
        ),
    )


def section(ctx: PackContext) -> Section:
    """What changed between the previous pack's date and this one's."""
    then = _previous(ctx)
    out = Section("changes", "What has changed since the last pack")
    out.add(
        Paragraph(
            f"Changes for {ctx.name} ({ctx.code}) between {long_date(then)} (the previous "
            f"pack) and {long_date(ctx.as_of)}."
        ),
        registry_changes(ctx),
        indicator_changes(ctx),
        watchlist_changes(ctx),
    )
    return out
