"""Vulnerable practices in a pack: `pcnkit.assurance.watchlist`'s list for the organisation's
practices at the pack's date, each flag in words with its figures and whose threshold it is
(only the CQC criterion is NHS England's own), and what could not be assessed, and why."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from pcnkit.assurance import watchlist
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.reports.document import (
    Bullets,
    Column,
    Paragraph,
    Section,
    Source,
    Table,
    long_date,
)
from pcnkit.reports.packs import PackContext

NHS_ENGLAND = "NHS England's criterion"
MOST_NAMED = 5  # practices named under a reason a criterion was not assessed; the rest counted
EVIDENCE_FOR = 5  # practices whose flags' evidence the pack prints in full (the most flagged)
MARK = "‡"  # after a flag whose threshold is pcnkit's, not NHS England's


def practices_of(ctx: PackContext, h: Hierarchy) -> list[str]:
    """The organisation's practices in the registry at `h`'s date (a practice: itself), as the
    CLI's `pcnkit kpi watchlist AREA` chooses them."""
    org = h.by_code.get(ctx.code)
    if org is None:
        return []
    if org.kind == kinds.PRACTICE:
        return [org.code]
    return [o.code for o in h.descendants(org, kinds.PRACTICE)]


def entries_at(ctx: PackContext, as_of: dt.date | None = None) -> list[watchlist.WatchEntry]:
    """The library's watch-list for the organisation's practices at a date, made once per pack."""
    day = as_of or ctx.as_of
    key = f"watchlist-{ctx.code}-{day.isoformat()}"
    if key not in ctx.memo:
        h = ctx.hierarchy if day == ctx.as_of else Hierarchy.at(ctx.session, day)
        ctx.memo[key] = watchlist.watchlist(ctx.assurance.frame, practices_of(ctx, h), day)
    return ctx.memo[key]  # type: ignore[return-value]


def whose(confirmed: bool) -> str:
    return NHS_ENGLAND if confirmed else watchlist.NOT_NHS_ENGLAND


def practice_words(h: Hierarchy, code: str) -> str:
    org = h.by_code.get(code)
    return f"{h.name(org)} ({code})" if org else code


def _period(f: watchlist.Flag) -> str:
    return watchlist._period_words(pd.Timestamp(f.period.start), pd.Timestamp(f.period.end))


def flag_sources(ctx: PackContext, flags: list[watchlist.Flag]) -> tuple[Source, ...]:
    """Each publication the flags rest on, once, with the rows used."""
    frame = ctx.assurance.frame
    rows: dict[str, set[int]] = defaultdict(set)
    for f in flags:
        for fig in f.figures or ():
            if fig.source_id is None:
                continue
            title = watchlist.cite(frame, fig.source_id, None)
            if fig.source_row is not None:
                rows[title].add(fig.source_row)
            else:
                rows.setdefault(title, set())
    out = []
    for title in sorted(rows):
        found = sorted(rows[title])
        detail = (
            f"row {found[0]}"
            if len(found) == 1
            else f"{len(found)} rows, {found[0]} to {found[-1]}"
            if found
            else ""
        )
        out.append(Source(title, f"the flagged practices' figures, {detail}".rstrip(", ")))
    return tuple(out)


def _rules_source(rules: watchlist.Rules) -> tuple[Source, ...]:
    out = []
    for key in sorted({r.source for r in rules.criteria}):
        title = rules.sources.get(key, {}).get("title", key)
        out.append(Source(" ".join(title.split()), "the watch-list's criteria and thresholds"))
    return tuple(out)


def _not_assessed(ctx: PackContext, found: list[watchlist.WatchEntry]) -> Bullets | None:
    """Each reason a criterion could not be judged, with the practices it applies to."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for e in found:
        for reason in e.not_assessed:
            by_reason[reason].append(e.practice)
    if not by_reason:
        return None
    items = []
    for reason in sorted(by_reason):
        codes = by_reason[reason]
        named = ", ".join(practice_words(ctx.hierarchy, c) for c in codes[:MOST_NAMED])
        more = f" and {len(codes) - MOST_NAMED} more" if len(codes) > MOST_NAMED else ""
        n = len(codes)
        words = reason.removeprefix("not assessed: ")
        items.append(f"{words}: {n} practice{'' if n == 1 else 's'} ({named}{more}).")
    return Bullets(tuple(items))


def _threshold(f: watchlist.Flag) -> str:
    """The threshold, saying whose it is once (the engine's words may already say it)."""
    words = whose(f.confirmed)
    return f.threshold if words in f.threshold else f"{f.threshold} ({words})"


def _summary(ctx, flagged, rules, when) -> Table:
    """One row per flagged practice: what is flagged, and when."""
    rows, flags = [], []
    for rank, e in enumerate(flagged, start=1):
        labels = "; ".join(f"{f.label}{'' if f.confirmed else ' ' + MARK} ({_period(f)})"
                           for f in e.flags)  # fmt: skip
        rows.append((str(rank), practice_words(ctx.hierarchy, e.practice), str(len(e.flags)),
                     labels))  # fmt: skip
        flags.extend(e.flags)
    return Table(
        f"Practices of {ctx.name} ({ctx.code}) flagged on the watch-list at {when}, most flags "
        "first",
        (
            Column("Rank", numeric=True),
            Column("Practice"),
            Column("Flags", numeric=True),
            Column("What is flagged (period)"),
        ),
        tuple(rows),
        flag_sources(ctx, flags) + _rules_source(rules),
        notes=(
            "Practices are ranked by the number of flags, then by the most severe "
            "(CQC Inadequate first), then by code.",
            f"{MARK} {watchlist.NOT_NHS_ENGLAND[0].upper()}{watchlist.NOT_NHS_ENGLAND[1:]}: "
            "NHS England names the factor without a number (or not at all), and the figure is "
            f"pcnkit's choice. A flag without {MARK} is NHS England's own criterion.",
            *(f"{r.label}: {' '.join(r.why.split())}" for r in rules.criteria),
        ),
    )


def _evidence(ctx, entries, when) -> Table:
    """Each flag of the most flagged practices, with its evidence and threshold."""
    rows, flags = [], []
    for e in entries:
        for i, f in enumerate(e.flags):
            rows.append((practice_words(ctx.hierarchy, e.practice) if i == 0 else "", f.label,
                         f.evidence, _threshold(f)))  # fmt: skip
            flags.append(f)
    return Table(
        f"The evidence for the {len(entries)} most flagged practices of {ctx.name} at {when}",
        (Column("Practice"), Column("Flag"), Column("Evidence"), Column("Threshold")),
        tuple(rows),
        flag_sources(ctx, flags),
    )


def section(ctx: PackContext) -> Section:
    """The practices the watch-list flags at the pack's date, and why."""
    out = Section("watchlist", "Vulnerable practices")
    rules = watchlist.load_rules()
    found = entries_at(ctx)
    when = long_date(ctx.as_of)
    if not found:
        out.add(Paragraph(f"{ctx.name} has no practices in the registry on {when}."))
        return out
    flagged = [e for e in found if e.flags]
    one = ctx.org.kind == kinds.PRACTICE
    whom = ctx.name if one else f"the {len(found)} practices of {ctx.name}"
    verdict = ("flagged" if flagged else "not flagged") if one else f"{len(flagged)} flagged"
    out.add(
        Paragraph(
            f"NHS England's 2015 vulnerable-practice criteria, as far as the files held can "
            f"assess them, for {whom} on {when}: {verdict}. Only the CQC criterion's threshold "
            f'is NHS England\'s own; every other flag says "{watchlist.NOT_NHS_ENGLAND}".',
            _rules_source(rules),
        )
    )
    if flagged:
        out.add(_summary(ctx, flagged, rules, when), _evidence(ctx, flagged[:EVIDENCE_FOR], when))
        if len(flagged) > EVIDENCE_FOR:
            out.add(
                Paragraph(
                    f"The evidence for the other {len(flagged) - EVIDENCE_FOR} flagged practices "
                    f"is on pcnkit's watch-list page for {ctx.name}."
                )
            )
    else:
        out.add(
            Paragraph(
                (f"{ctx.name} is not" if one else f"No practice of {ctx.name} is")
                + f" flagged at {when} on the criteria the files held could assess (those not "
                "assessed are listed below)."
            )
        )
    missing = _not_assessed(ctx, found)
    if missing is not None:
        out.add(Paragraph("Criteria not assessed, and why:"), missing)
    clear = [e for e in found if not e.flags and e.clear]
    if clear:
        out.add(
            Paragraph(
                f"{len(clear)} practice{'' if len(clear) == 1 else 's'} had no flag on the "
                "criteria that could be judged."
            )
        )
    if rules.not_assessable:
        out.add(
            Paragraph("NHS England's factors that no file held can assess:"),
            Bullets(tuple(" ".join(x.split()) for x in rules.not_assessable)),
        )
    return out
