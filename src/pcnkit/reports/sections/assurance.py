"""The assurance indicators in a pack: every indicator's latest figure against its target and
England, then, for the aspirations a committee set (CQC good or outstanding 95%, online
consultation access 75%) and for each indicator that needs attention, its SPC chart and the
members pulling it down. Every figure is `pcnkit.assurance.summary`'s, read once per pack."""

from __future__ import annotations

import datetime as dt

from pcnkit import charts
from pcnkit.assurance import compare, spc, summary
from pcnkit.assurance.definitions import Indicator
from pcnkit.registry import kinds
from pcnkit.registry.queries import Hierarchy
from pcnkit.reports.document import (
    Bullets,
    Column,
    Figure,
    Paragraph,
    Section,
    Source,
    Table,
    long_date,
    not_calculated,
    percent,
)
from pcnkit.reports.packs import PackContext

TOP_MEMBERS = 10  # members listed under a chart; the rest are counted


# --- shared with the other sections (changes) -------------------------------------------------


def tiles_at(ctx: PackContext, as_of: dt.date | None = None) -> list[summary.Tile]:
    """The organisation's tiles at a date (the pack's by default), made once per pack."""
    day = as_of or ctx.as_of
    key = f"assurance-tiles-{ctx.code}-{day.isoformat()}"
    if key not in ctx.memo:
        h = ctx.hierarchy if day == ctx.as_of else Hierarchy.at(ctx.session, day)
        ctx.memo[key] = summary.tiles(ctx.assurance, h, ctx.code, day)
    return ctx.memo[key]  # type: ignore[return-value]


def value_words(indicator: Indicator, value: float | None, reason: str = "") -> str:
    """A value as the pack writes it: '85.5%', '18.5 per 1,000 patients'."""
    if value is None:
        return not_calculated(reason)
    if indicator.unit == "percent":
        return percent(value)
    if indicator.unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.1f} {indicator.unit_words}"


def difference_words(indicator: Indicator, amount: float) -> str:
    unit = "percentage points" if indicator.unit == "percent" else indicator.unit_words
    return f"{amount:+,.2f} {unit}".strip()


def figure_sources(t: summary.Tile, who: str) -> tuple[Source, ...]:
    """The publications the tile's latest figure (and England's) came from, with the rows, as
    the indicator page lists them, and the source of the target."""
    out: list[Source] = []
    for f, name in ((t.figure, who), (t.england, "England")):
        if f is None:
            continue
        for p in f.provenance:
            detail = f"{name}, {summary.period_words(f)}"
            detail += f", {p.rows}" if p.rows else ""
            detail += f" (definition version {p.version})" if p.version else ""
            out.append(Source(p.title, detail))
    if t.target is not None:
        out.append(Source(t.target.source, f"target for {t.indicator.title}"))
    return tuple(dict.fromkeys(out))


def publication_sources(found: list[summary.Tile], who: str) -> tuple[Source, ...]:
    """Each publication behind a table of many indicators' figures, once (the rows are cited
    under each indicator's chart), and each target's source."""
    out: list[Source] = []
    for t in found:
        for f in (t.figure, t.england):
            for p in f.provenance if f is not None else ():
                out.append(Source(p.title, f"figures for {who} and England"))
        if t.target is not None:
            out.append(Source(t.target.source, f"target for {t.indicator.title}"))
    return tuple(dict.fromkeys(out))


def _series_source(t: summary.Tile, who: str) -> tuple[Source, ...]:
    known = [f for f in t.series if f.value is not None]
    if not known:
        return ()
    span = f"{summary.period_words(known[0])} to {summary.period_words(known[-1])}"
    detail = f"{who}'s figures, {len(known)} periods, {span}"
    return tuple(Source(title, detail) for title in t.indicator.sources)


# --- the summary table ------------------------------------------------------------------------

VARIATION_KEY = tuple(f"{i.label}: {i.description}" for i in spc.VARIATION_ICONS.values())
ASSURANCE_KEY = tuple(f"{i.label}: {i.description}" for i in spc.ASSURANCE_ICONS.values())


def _target_cell(t: summary.Tile) -> str:
    if t.target is None:
        return "no target"
    status = compare.TARGETS.get(t.target_status or "", "not compared")
    return f"{value_words(t.indicator, float(t.target.value))} ({status.lower()})"


def _england_cell(t: summary.Tile) -> str:
    if t.england is None or t.england.value is None:
        return "no England figure for this period"
    words = value_words(t.indicator, t.england.value)
    if t.versus_england is not None and t.versus_england.result != "not_compared":
        label = t.versus_england.label.lower().replace("the benchmark", "England")
        return f"{words} ({label})"
    return words


def _chart_words(t: summary.Tile) -> tuple[str, str]:
    if t.chart is None:
        return (f"no chart: fewer than {summary.MIN_SPC_POINTS} periods", "–")
    variation = t.chart.variation.label if t.chart.variation else "–"
    assurance = t.chart.assurance.label if t.chart.assurance else "no target to assure"
    return variation, assurance


def summary_table(ctx: PackContext, found: list[summary.Tile]) -> Table | Paragraph:
    """Every indicator with a figure for the organisation at the date."""
    with_value = [t for t in found if t.figure is not None and t.figure.value is not None]
    if not with_value:
        return Paragraph(
            f"No assurance indicator has a figure for {ctx.name} on or before "
            f"{long_date(ctx.as_of)}: {_why_none(found)}."
        )
    rows = []
    for t in with_value:
        variation, assurance = _chart_words(t)
        assert t.figure is not None
        rows.append(
            (
                t.indicator.title,
                summary.period_words(t.figure),
                value_words(t.indicator, t.figure.value),
                _target_cell(t),
                _england_cell(t),
                variation,
                assurance,
            )
        )
    return Table(
        f"Assurance indicators for {ctx.name} ({ctx.code}): the latest figure on or before "
        f"{long_date(ctx.as_of)}",
        (
            Column("Indicator"),
            Column("Period"),
            Column("Value", numeric=True),
            Column("Target"),
            Column("England"),
            Column("Variation (SPC)"),
            Column("Assurance against the target (SPC)"),
        ),
        tuple(rows),
        publication_sources(with_value, ctx.name),
        notes=(
            "Variation and assurance are NHS England's Making Data Count readings of each "
            "indicator's statistical process control chart. Key to the variation words:",
            *VARIATION_KEY,
            "Key to the assurance words:",
            *ASSURANCE_KEY,
            "England: significantly better or worse means England's value lies outside the "
            "95% confidence interval of the organisation's.",
        ),
    )


def _why_none(found: list[summary.Tile]) -> str:
    reasons = sorted({t.reason or "no value for the latest period" for t in found})
    return "; ".join(reasons) if reasons else "no indicators are defined"


def _without_figure(ctx: PackContext, found: list[summary.Tile]) -> Bullets | None:
    """The indicators with no figure, one line per reason (a PCN pack before the data begins
    would otherwise list forty indicators with the same reason)."""
    missing = [t for t in found if t.figure is None or t.figure.value is None]
    if not missing:
        return None
    by_reason: dict[str, list[str]] = {}
    for t in missing:
        reason = t.reason or (t.figure.reason if t.figure else None) or "no value"
        by_reason.setdefault(reason, []).append(t.indicator.title)
    return Bullets(
        tuple(
            f"{reason[:1].upper()}{reason[1:]} ({len(titles)}): {', '.join(titles)}."
            for reason, titles in by_reason.items()
        )
    )


def attention_list(ctx: PackContext, found: list[summary.Tile]) -> Bullets | Paragraph:
    flagged = summary.needs_attention(found)
    if not flagged:
        return Paragraph(
            f"No indicator needs attention for {ctx.name} at {long_date(ctx.as_of)}: none shows "
            "concerning special-cause variation, a target missed or a figure significantly "
            "worse than England's."
        )
    items = []
    for t in flagged:
        assert t.figure is not None
        items.append(
            f"{t.indicator.title}: {value_words(t.indicator, t.figure.value)} "
            f"{summary.period_phrase(t.figure)} — {'; '.join(t.attention)}."
        )
    return Bullets(tuple(items), publication_sources(flagged, ctx.name))


# --- one indicator: chart and members ---------------------------------------------------------


def _chart_figure(ctx: PackContext, t: summary.Tile) -> Figure | Paragraph:
    i = t.indicator
    if t.chart is None:
        known = sum(1 for f in t.series if f.value is not None)
        return Paragraph(
            f"No SPC chart for {i.title}: {ctx.name} has {known} period(s) with a value by "
            f"{long_date(ctx.as_of)}, and a chart needs at least {summary.MIN_SPC_POINTS}.",
            figure_sources(t, ctx.name),
        )
    points = summary.chart_points(t.chart)
    title = f"{i.title}: {ctx.name}, statistical process control chart"
    svg = charts.spc_drawing(
        f"spc-{i.id}", title, summary.chart_description(t.chart), points, t.chart.target
    )
    if not svg:
        return Paragraph(f"No SPC chart for {i.title}: no period has a value.")
    assert t.figure is not None
    words = [
        f"{value_words(i, t.figure.value)} {summary.period_phrase(t.figure)}",
        f"mean {value_words(i, t.chart.segments[-1].mean)}",
    ]
    if t.chart.variation:
        words.append(t.chart.variation.label)
    if t.chart.assurance:
        words.append(t.chart.assurance.label)
    if t.target is not None:
        words.append(f"target {value_words(i, float(t.target.value))} (the green dashed line)")
    notes = list(t.chart.notes)
    if any(s.trial for s in t.chart.segments):
        notes.append(
            f"Trial limits: the baseline has fewer than {spc.MIN_BASELINE} points, so the "
            "limits will move as more months arrive; read the signals with care."
        )
    notes.append(
        "The solid line is the mean, the dashed lines the process limits, the dotted lines "
        "two-sigma; orange points are concerning special causes, blue improving ones, purple "
        "changes where neither direction is better; grey points are common cause."
    )
    return Figure(
        f"{i.title} for {ctx.name} ({ctx.code}), to {long_date(ctx.as_of)}",
        svg,
        f"{summary.chart_description(t.chart)} " + "; ".join(words) + ".",
        tuple(dict.fromkeys((*_series_source(t, ctx.name), *figure_sources(t, ctx.name)))),
        tuple(notes),
    )


def _pulls_down(i: Indicator, pull: float) -> bool:
    """Whether the member moves the value the wrong way (down where higher is better)."""
    return pull > 0 if i.polarity == "lower" else pull < 0


def members_table(ctx: PackContext, d: summary.Detail) -> Table | Paragraph:
    """The members pulling the value the wrong way, worst first (`summary.detail`'s order)."""
    t, i = d.tile, d.tile.indicator
    org = ctx.org
    if org.kind == kinds.PRACTICE:
        return Paragraph(f"{ctx.name} is a practice: it has no members to pull its value.")
    if i.polarity == "neither":
        return Paragraph(
            f"{i.title} has no better direction, so no member is said to pull it down."
        )
    members = d.members
    what = "practices" if org.kind == kinds.PCN else "PCNs"
    down = [m for m in members if m.pull is not None and _pulls_down(i, m.pull)]
    if not down:
        return Paragraph(
            f"None of {ctx.name}'s {what} pulls {i.title} the wrong way in "
            f"{summary.period_words(t.figure) if t.figure else 'the latest period'}"
            + ("" if members else f": no {what} with a figure for the period")
            + "."
        )
    shown = down[:TOP_MEMBERS]
    assert t.figure is not None
    rows = tuple(
        (
            f"{m.name} ({m.figure.org})",
            value_words(i, m.figure.value, m.figure.reason or ""),
            m.versus_parent.label.replace("the benchmark", ctx.name)
            if m.versus_parent
            else "not compared",
            difference_words(i, m.pull or 0.0),
        )
        for m in shown
    )
    sources: list[Source] = []
    for m in shown:
        for p in m.figure.provenance:
            sources.append(Source(p.title, f"{what}' figures, {summary.period_words(m.figure)}"))
    notes = [
        f"Pull: how far the {what[:-1]} moves {ctx.name}'s value (its value less "
        f"{ctx.name}'s, times its share of the denominator); {what} that pull it the wrong way "
        "are listed, worst first."
    ]
    if len(down) > TOP_MEMBERS:
        notes.append(f"{len(down) - TOP_MEMBERS} more {what} pull it the wrong way, by less.")
    return Table(
        f"{i.title}: the {what} of {ctx.name} pulling it the wrong way, "
        f"{summary.period_words(t.figure)}",
        (
            Column(what[:-1].capitalize() if what == "practices" else "PCN"),
            Column("Value", numeric=True),
            Column(f"Against {ctx.name}"),
            Column("Pull", numeric=True),
        ),
        rows,
        tuple(dict.fromkeys(sources)),
        notes=tuple(notes),
    )


def _indicator_section(ctx: PackContext, t: summary.Tile, why: str) -> Section:
    i = t.indicator
    d = summary.detail(ctx.assurance, ctx.hierarchy, i, ctx.code, ctx.as_of)
    out = Section(f"assurance-{i.id}", i.title)
    out.add(Paragraph(why))
    if t.figure is None or t.figure.value is None:
        out.add(Paragraph(f"No figure for {ctx.name}: {t.reason or 'no value'}."))
        return out
    out.add(_chart_figure(ctx, t), members_table(ctx, d))
    return out


def _why_shown(ctx: PackContext, t: summary.Tile) -> str:
    parts = []
    if t.target is not None:
        parts.append(
            f"Aspiration: {value_words(t.indicator, float(t.target.value))} ({t.target.source})."
        )
        if t.figure is not None and t.figure.value is not None and t.target_status:
            parts.append(
                f"{ctx.name}: {value_words(t.indicator, t.figure.value)} "
                f"{summary.period_phrase(t.figure)}, "
                f"{compare.TARGETS[t.target_status].lower()}."
            )
    if t.attention:
        parts.append(f"Needs attention: {'; '.join(t.attention)}.")
    return " ".join(parts) or t.indicator.description


# --- the sections -----------------------------------------------------------------------------


def section(ctx: PackContext) -> Section:
    """Assurance indicators against the aspirations, for the assurance update."""
    found = tiles_at(ctx)
    out = Section("assurance", "Assurance indicators against the aspirations")
    out.add(
        Paragraph(
            f"Each indicator's latest figure for {ctx.name} ({ctx.code}) on or before "
            f"{long_date(ctx.as_of)}, against its target where one was set and against "
            "England; then, for each aspiration and each indicator that needs attention, its "
            "statistical process control chart and the members pulling it down."
        ),
        summary_table(ctx, found),
    )
    out.add(Paragraph("Needs attention:"), attention_list(ctx, found))
    missing = _without_figure(ctx, found)
    if missing is not None:
        out.add(Paragraph("Indicators without a figure for this organisation, and why:"), missing)
    attention = {t.indicator.id for t in summary.needs_attention(found)}
    chosen = [t for t in found if t.target is not None] + [
        t for t in summary.needs_attention(found) if t.target is None
    ]
    if not any(t.target is not None for t in found):
        out.add(Paragraph(f"No indicator has a target at {long_date(ctx.as_of)}."))
    for t in chosen:
        if t.target is None and t.indicator.id not in attention:
            continue
        out.subsections.append(_indicator_section(ctx, t, _why_shown(ctx, t)))
    return out


def tiles_section(ctx: PackContext) -> Section:
    """The assurance tiles only (the PCN pack): the summary table and what needs attention."""
    found = tiles_at(ctx)
    out = Section("assurance", "Assurance")
    out.add(summary_table(ctx, found))
    out.add(Paragraph("Needs attention:"), attention_list(ctx, found))
    missing = _without_figure(ctx, found)
    if missing is not None:
        out.add(Paragraph("Indicators without a figure for this organisation, and why:"), missing)
    return out
